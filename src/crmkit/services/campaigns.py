"""Campaigns: create, target a segment, add members (respecting consent), record responses, show the funnel."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import attrs

from ..errors import NotFound, TransitionError, ValidationError
from ..models import Campaign, CampaignMember, CampaignStatus, Response
from ..models.campaign import FUNNEL
from ..models.money import parse_amount
from ..storage.query import Compare, Filter
from .base import Service, build, insert_records, save_record, stamp_new
from .normalize import parse_day, parse_past
from .references import check_reference

S = CampaignStatus
#: What ``update`` may change; the status changes through start, finish and cancel.
EDITABLE = frozenset({"name", "channel", "starts_on", "ends_on", "budget", "currency", "segment", "description"})
#: Which status each verb may leave from.
MOVES: dict[str, tuple[CampaignStatus, frozenset[CampaignStatus]]] = {
    "start": (S.RUNNING, frozenset({S.PLANNED})),
    "finish": (S.FINISHED, frozenset({S.PLANNED, S.RUNNING})),
    "cancel": (S.CANCELLED, frozenset({S.PLANNED, S.RUNNING})),
}


@attrs.frozen(kw_only=True)
class MembersAdded:
    """What ``add_members`` did: the new members, and the customers it left out and why."""

    added: list[CampaignMember]
    already_members: list[str]
    no_consent: list[str]

    @property
    def skipped(self) -> int:
        """How many customers were left out (already members or without consent)."""
        return len(self.already_members) + len(self.no_consent)


@attrs.frozen(kw_only=True)
class Funnel:
    """A campaign's members per funnel step, rates and cost.

    Rates are shares of the members a message was ``sent`` to (0 to 1, four
    decimals; None when nothing was sent). ``cost_per_conversion`` is the
    budget over the conversions (None without a budget or conversions).
    """

    members: int
    sent: int
    opened: int
    responded: int
    converted: int
    open_rate: float | None
    response_rate: float | None
    conversion_rate: float | None
    cost_per_conversion: float | None


@attrs.frozen(kw_only=True)
class CampaignOverview:
    """Everything ``campaign show`` prints: the campaign and its funnel."""

    campaign: Campaign
    funnel: Funnel


class CampaignService(Service[Campaign]):
    model = Campaign
    collection = "campaigns"
    kind = "campaign"
    aliases = {"starts": "starts_on", "ends": "ends_on"}

    # -- campaigns -------------------------------------------------------------------

    def create(self, name: str, channel: str, **values: Any) -> Campaign:
        """Create a campaign and return it.

        Keywords: ``starts_on``, ``ends_on`` (dates: ``YYYY-MM-DD``, ``today``,
        ``+7d``), ``budget`` with ``currency``, ``segment`` (a ``--where``
        filter over customers, checked now), ``description``. The status
        starts from the dates as of today: ``finished`` if it ended before
        today, ``running`` if it has started, else ``planned``; afterwards it
        changes only through :meth:`start`, :meth:`finish` and :meth:`cancel`.
        """
        return self.create_many([{"name": name, "channel": channel, **values}])[0]

    def create_many(self, rows: Iterable[Mapping[str, Any] | Campaign], *, keep_ids: bool = False) -> list[Campaign]:
        """Create many campaigns in one transaction (imports); rows may be Campaigns made by :meth:`build`."""
        with self.crm.transaction():
            records = [row if isinstance(row, Campaign) else self.build(row) for row in rows]
            records = stamp_new(self.crm, records, keep_ids=keep_ids)
            insert_records(self.crm, "campaign", self.collection, records, "campaign.created")
        return records

    def build(self, row: Mapping[str, Any]) -> Campaign:
        """Validate input values into a Campaign (not stored); the segment is checked against customers."""
        if not isinstance(row, Mapping):
            raise ValidationError("campaign", row, "must be a mapping of field names to values")
        values = dict(row)
        now = self.crm.now()
        for key in ("starts_on", "ends_on"):
            if values.get(key) not in (None, ""):
                values[key] = parse_day(values[key], now, key)
        if values.get("segment") not in (None, ""):
            values["segment"] = self.check_segment(values["segment"])
        if values.get("budget") not in (None, "") and values.get("currency") not in (None, ""):
            currency = str(values["currency"]).strip().upper()
            values["budget"] = parse_amount("budget", values["budget"], currency=currency)
        if values.get("status") in (None, ""):
            values["status"] = _status_from_dates(values.get("starts_on"), values.get("ends_on"),
                                                  now.astimezone().date())
        return build(Campaign, values)

    def check_segment(self, segment: str | Filter) -> str:
        """The segment as text if it is a valid ``--where`` filter over customers; ValidationError otherwise."""
        if not isinstance(segment, str) or not segment.strip():
            raise ValidationError("segment", segment, "must be filter text over customers, like 'tags~vip'")
        try:
            self.crm.customers.compile_where(segment)
        except ValidationError as err:
            raise ValidationError("segment", segment, f"is not a valid customer filter: {err.reason}") from None
        return segment.strip()

    def update(self, campaign_id: str | int, *, expected_version: int | None = None, **changes: Any) -> Campaign:
        """Edit a campaign's name, channel, dates, budget, currency, segment or description."""
        for key in changes:
            if key not in EDITABLE:
                raise ValidationError("field", key, f"cannot be edited here; editable: {', '.join(sorted(EDITABLE))}"
                                                    " (the status changes through start, finish and cancel)")
        with self.crm.transaction():
            old = self.get(campaign_id)
            merged = {k: getattr(old, k) for k in attrs.fields_dict(Campaign)
                      if k not in ("id", "created_at", "updated_at", "version")}
            merged.update(changes)
            new = attrs.evolve(self.build(merged), id=old.id, created_at=old.created_at,
                               updated_at=old.updated_at, version=old.version)
            return save_record(self.crm, "campaign", self.collection, old, new, "campaign.updated",
                               expected_version=expected_version)

    def start(self, campaign_id: str | int, *, on: Any = None) -> Campaign:
        """Mark a planned campaign running; ``starts_on`` becomes ``on`` (default today) if it was not set."""
        return self._move(campaign_id, "start", on, "starts_on")

    def finish(self, campaign_id: str | int, *, on: Any = None) -> Campaign:
        """Mark a campaign finished; ``ends_on`` becomes ``on`` (default today) if it was not set."""
        return self._move(campaign_id, "finish", on, "ends_on")

    def cancel(self, campaign_id: str | int, *, reason: str | None = None) -> Campaign:
        """Cancel a planned or running campaign: no members can be added or respond afterwards."""
        return self._move(campaign_id, "cancel", None, None, note=reason)

    def _move(self, campaign_id: str | int, verb: str, on: Any, date_field: str | None,
              note: str | None = None) -> Campaign:
        target, allowed = MOVES[verb]
        with self.crm.transaction():
            old = self.get(campaign_id)
            if old.status not in allowed:
                raise TransitionError("status", old.status.value, f"cannot {verb} {old.id}: it is {old.status}")
            changes: dict[str, Any] = {"status": target}
            if date_field and getattr(old, date_field) is None:
                changes[date_field] = parse_day(on if on is not None else "today", self.crm.now(), "on")
            new = build(Campaign, {**{k: getattr(old, k) for k in attrs.fields_dict(Campaign)}, **changes})
            event = {"start": "campaign.started", "finish": "campaign.finished", "cancel": "campaign.cancelled"}[verb]
            return save_record(self.crm, "campaign", self.collection, old, new, event, note=note)

    # -- members ---------------------------------------------------------------------

    def add_members(self, campaign_id: str | int, *, where: str | Filter | None = None,
                    customer_ids: Sequence[str | int] = (), respect_consent: bool = True,
                    at: Any = None) -> MembersAdded:
        """Add customers to a campaign in one transaction and say who was added and who was left out.

        The customers are those matching ``where``, or the ``customer_ids``
        given, or by default the campaign's saved segment. Customers already
        in the campaign are skipped, and so (unless ``respect_consent=False``)
        are those without marketing consent for the campaign's channel
        (email, sms, phone, post; other channels have no consent flag to check).
        A finished or cancelled campaign takes no new members.
        """
        with self.crm.transaction():
            campaign = self.get(campaign_id)
            if campaign.status in (S.FINISHED, S.CANCELLED):
                raise TransitionError("status", campaign.status.value,
                                      f"{campaign.id} is {campaign.status}; it takes no new members")
            customers = self._targets(campaign, where, customer_ids)
            existing = {doc["customer_id"] for doc in self.storage.scan(
                "campaign_members", Compare(("campaign_id",), "=", campaign.id))}
            flag = campaign.channel.consent
            added_ids, already, refused = [], [], []
            for doc in customers:
                if doc["id"] in existing:
                    already.append(doc["id"])
                elif respect_consent and flag and not (doc.get("consent") or {}).get(flag):
                    refused.append(doc["id"])
                else:
                    existing.add(doc["id"])
                    added_ids.append(doc["id"])
            rows = [{"campaign_id": campaign.id, "customer_id": cid, "at": at} for cid in added_ids]
            added = self.crm.campaign_members.add_many(rows) if rows else []
        return MembersAdded(added=added, already_members=already, no_consent=refused)

    def _targets(self, campaign: Campaign, where: str | Filter | None,
                 customer_ids: Sequence[str | int]) -> list[dict[str, Any]]:
        if isinstance(customer_ids, (str, int)):
            customer_ids = [customer_ids]
        if customer_ids and where is not None:
            raise ValidationError("where", where, "give either where or customer_ids, not both")
        if customer_ids:
            ids = list(dict.fromkeys(self.crm.customers.normalize_id(c) for c in customer_ids))
            found = {doc["id"]: doc for doc in self.storage.get_many("customers", ids)}
            missing = [cid for cid in ids if cid not in found]
            if missing:
                raise NotFound("customer", missing[0])
            return [found[cid] for cid in ids]
        if where is None:
            if campaign.segment is None:
                raise ValidationError("where", None, f"{campaign.id} has no saved segment; give where or customer_ids")
            where = campaign.segment
        return self.crm.customers.find_documents(where, sort="id")

    def respond(self, campaign_id: str | int, customer_id: str | int, response: str, at: Any = None) -> CampaignMember:
        """Record a member's response: sent, opened, responded or converted (``at`` default now).

        A step implies the ones before it: recording ``converted`` fills in
        missing sent, opened and responded times with the same time. A time
        earlier than one already recorded for a step replaces it (the earliest
        wins), and earlier steps move back with it so the funnel stays in order.
        Recording a step again at a later time changes nothing.
        """
        return self.crm.campaign_members.respond(campaign_id, customer_id, response, at=at)

    def members(self, campaign_id: str | int, where: str | Filter | None = None, *, sort: Any = None,
                limit: int | None = None, **equals: Any) -> list[CampaignMember]:
        """The campaign's members with their responses (filters as in :meth:`find`)."""
        campaign = self.get(campaign_id)
        return self.crm.campaign_members.find(where, sort=sort, limit=limit, campaign_id=campaign.id, **equals)

    def show(self, campaign_id: str | int) -> CampaignOverview:
        """The campaign with its funnel: members per step, rates and cost per conversion."""
        campaign = self.get(campaign_id)
        docs = self.storage.scan("campaign_members", Compare(("campaign_id",), "=", campaign.id))
        counts = {step: sum(1 for d in docs if d.get(step.time_field)) for step in FUNNEL}
        sent = counts[Response.SENT]

        def rate(step: Response) -> float | None:
            return round(counts[step] / sent, 4) if sent else None

        converted = counts[Response.CONVERTED]
        cost = (parse_amount("cost", campaign.budget / converted, currency=campaign.currency)
                if campaign.budget is not None and converted else None)
        funnel = Funnel(members=len(docs), sent=sent, opened=counts[Response.OPENED],
                        responded=counts[Response.RESPONDED], converted=converted,
                        open_rate=rate(Response.OPENED), response_rate=rate(Response.RESPONDED),
                        conversion_rate=rate(Response.CONVERTED), cost_per_conversion=cost)
        return CampaignOverview(campaign=campaign, funnel=funnel)


class CampaignMemberService(Service[CampaignMember]):
    """The members of campaigns; usually reached through ``crm.campaigns``."""

    model = CampaignMember
    collection = "campaign_members"
    kind = "campaign_member"
    aliases = {"campaign": "campaign_id", "customer": "customer_id"}

    def add_many(self, rows: Iterable[Mapping[str, Any] | CampaignMember], *,
                 keep_ids: bool = False) -> list[CampaignMember]:
        """Add many members in one transaction (imports); one member per customer per campaign."""
        with self.crm.transaction():
            records = [row if isinstance(row, CampaignMember) else self.build(row) for row in rows]
            self._check_unique(records)
            records = stamp_new(self.crm, records, keep_ids=keep_ids)
            insert_records(self.crm, "campaign_member", self.collection, records, "campaign.member_added",
                           customer_of=lambda r: r.customer_id)
        return records

    def build(self, row: Mapping[str, Any]) -> CampaignMember:
        """Validate input values into a CampaignMember (not stored); checks the campaign and the customer."""
        if not isinstance(row, Mapping):
            raise ValidationError("campaign_member", row, "must be a mapping of field names to values")
        values = dict(row)
        now = self.crm.now()
        for field, collection in (("campaign_id", "campaigns"), ("customer_id", "customers")):
            values[field] = check_reference(self.crm, field, collection, values.get(field))
            if values[field] is None:
                raise ValidationError(field, row.get(field), "is required")
        at = values.pop("at", None) or values.get("added_at") or now
        values["added_at"] = parse_past(at, now, "at")
        if "response" not in values:
            reached = [step for step in FUNNEL if values.get(step.time_field)]
            values["response"] = reached[-1] if reached else None
        return build(CampaignMember, values)

    def _check_unique(self, records: Sequence[CampaignMember]) -> None:
        seen: dict[tuple[str, str], CampaignMember] = {}
        for record in records:
            key = (record.campaign_id, record.customer_id)
            if key in seen:
                raise ValidationError("customer_id", record.customer_id, f"is given twice for {record.campaign_id}")
            seen[key] = record
        for campaign_id in {r.campaign_id for r in records}:
            for doc in self.storage.scan(self.collection, Compare(("campaign_id",), "=", campaign_id)):
                if (campaign_id, doc["customer_id"]) in seen:
                    raise ValidationError("customer_id", doc["customer_id"],
                                          f"is already a member of {campaign_id} ({doc['id']})")

    def member(self, campaign_id: str | int, customer_id: str | int) -> CampaignMember:
        """The membership of a customer in a campaign; ValidationError if the customer is not a member."""
        cp = self.crm.campaigns.get(campaign_id).id
        cid = self.crm.customers.normalize_id(customer_id)
        found = self.find(campaign_id=cp, customer_id=cid, limit=1)
        if not found:
            raise ValidationError("customer_id", cid, f"is not a member of {cp}; add it first")
        return found[0]

    def respond(self, campaign_id: str | int, customer_id: str | int, response: str,
                at: Any = None) -> CampaignMember:
        """Record a funnel step for a member; see :meth:`CampaignService.respond`."""
        step = Response.parse("response", response)
        with self.crm.transaction():
            old = self.member(campaign_id, customer_id)
            campaign = self.crm.campaigns.get(old.campaign_id)
            if campaign.status is S.CANCELLED:
                raise TransitionError("status", campaign.status.value, f"{campaign.id} is cancelled")
            now = self.crm.now()
            when = parse_past(at, now)
            changes: dict[str, datetime] = {}
            for earlier in FUNNEL[: FUNNEL.index(step) + 1]:
                current = old.at(earlier)
                if current is None or when < current:
                    changes[earlier.time_field] = when
            if not changes:
                return old
            times = {s.time_field: changes.get(s.time_field, old.at(s)) for s in FUNNEL}
            reached = [s for s in FUNNEL if times[s.time_field] is not None]
            new = attrs.evolve(old, response=reached[-1], **changes)
            return save_record(self.crm, "campaign_member", self.collection, old, new, "campaign.responded",
                               customer_id=old.customer_id, note=step.value)


def _status_from_dates(starts_on: date | None, ends_on: date | None, today: date) -> CampaignStatus:
    if ends_on is not None and isinstance(ends_on, date) and ends_on < today:
        return S.FINISHED
    if starts_on is not None and isinstance(starts_on, date) and starts_on <= today:
        return S.RUNNING
    return S.PLANNED


__all__ = ["CampaignMemberService", "CampaignOverview", "CampaignService", "Funnel", "MembersAdded"]
