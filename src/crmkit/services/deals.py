"""Deals: the sales pipeline, winning and losing, and converting leads into deals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import attrs

from ..errors import TransitionError, ValidationError
from ..models.convert import format_datetime
from ..models.customer import Customer
from ..models.deal import Deal, DealStageChange, DealStatus
from ..models.money import NO_MINOR_UNIT, parse_amount, parse_currency
from ..profiles.base import DealStageSpec
from .base import BOOKKEEPING, Service, build, insert_records, save_record, stamp_new
from .normalize import parse_day, parse_past, parse_when
from .references import check_reference

#: What ``add`` accepts besides the customer and title.
ADD_FIELDS = frozenset({"amount", "currency", "stage", "expected_close_on", "owner", "products", "source",
                        "description", "next_step", "next_step_on", "lost_reason", "at"})
#: What ``update`` may change; the stage, status and history change only through the verbs.
EDITABLE = frozenset({"title", "amount", "currency", "expected_close_on", "owner", "products", "source",
                      "description", "next_step", "next_step_on", "lost_reason"})


@attrs.frozen(kw_only=True)
class PipelineRow:
    """Open deals in one stage and one currency: how many, their amount, and amount x probability.

    Deals without an amount count in ``count`` and add nothing to the sums;
    a stage without open deals has one row with ``currency`` None and zeros.
    """

    stage: str
    label: str
    probability: int
    currency: str | None
    count: int
    amount: float
    weighted: float


@attrs.frozen(kw_only=True)
class DealTotal:
    """Deals of one status in one currency: how many and their summed amount."""

    status: str
    currency: str | None
    count: int
    amount: float


@attrs.frozen(kw_only=True)
class Conversion:
    """What :meth:`DealService.convert_lead` did: the customer as now stored and the new deal."""

    customer: Customer
    deal: Deal


class DealService(Service[Deal]):
    """Sales opportunities: add, edit, move through the profile's stages, win, lose, reopen, pipeline."""

    model = Deal
    collection = "deals"
    kind = "deal"
    aliases = {"customer": "customer_id", "expected_close": "expected_close_on", "close": "expected_close_on",
               "product": "products", "opened": "opened_at", "closed": "closed_at"}

    # -- creating ------------------------------------------------------------------

    def add(self, customer_id: str | int, title: str, **values: Any) -> Deal:
        """Open a deal for a customer and return it.

        Keywords: amount and currency (a currency is required with an
        amount), stage (default: the profile's first open stage), expected
        close date, owner, products, source, description, next step and its
        date, and ``at`` (when the opportunity was opened; default now). A deal
        added straight into a won or lost stage is closed at ``at`` (a lost one
        needs ``lost_reason``); that does not move the customer's lifecycle:
        use :meth:`win` for that.
        """
        for key in values:
            if key not in ADD_FIELDS:
                raise ValidationError("field", key, f"cannot be set when adding a deal "
                                                    f"(allowed: {', '.join(sorted(ADD_FIELDS))})")
        return self.add_many([{"customer_id": customer_id, "title": title, **values}])[0]

    def add_many(self, rows: Iterable[Mapping[str, Any] | Deal], *, keep_ids: bool = False) -> list[Deal]:
        """Add many deals in one transaction (imports); rows may be Deals made by :meth:`build`."""
        with self.crm.transaction():
            built = [row if isinstance(row, Deal) else self.build(row) for row in rows]
            records = stamp_new(self.crm, built, keep_ids=keep_ids)
            insert_records(self.crm, "deal", self.collection, records, "deal.created",
                           customer_of=lambda r: r.customer_id)
        return records

    def build(self, row: Mapping[str, Any]) -> Deal:
        """Validate input values into a Deal (not stored): the customer exists, the stage is the profile's.

        A row that carries its ``stage_history`` (an import) keeps it; a new
        deal gets one entry for the stage it opens in. ``status`` follows the
        stage and may be left out.
        """
        values = dict(row)
        crm = self.crm
        now = crm.now()
        if values.get("customer_id") in (None, ""):
            raise ValidationError("customer_id", values.get("customer_id"), "is required")
        values["customer_id"] = check_reference(crm, "customer_id", "customers", values["customer_id"])
        at = values.pop("at", None) or values.get("opened_at") or now
        values["opened_at"] = parse_past(at, now, "at")
        stage = values.get("stage")
        spec = self._stage(stage) if stage not in (None, "") else crm.profile.deal_stages_of("open")[0]
        values["stage"] = spec.name
        given_status = values.get("status")
        if given_status not in (None, "") and DealStatus.parse("status", given_status).value != spec.kind:
            raise ValidationError("status", given_status, f"follows the stage: {spec.name} is {spec.kind}")
        values["status"] = spec.kind
        _money(values)
        for field in ("expected_close_on", "next_step_on"):
            if values.get(field) not in (None, ""):
                values[field] = parse_day(values[field], now, field)
        if spec.kind != "lost" and values.get("lost_reason"):
            raise ValidationError("lost_reason", values["lost_reason"], "only a lost deal has a lost reason")
        if spec.kind == "open":
            if values.get("closed_at") not in (None, ""):
                raise ValidationError("closed_at", values["closed_at"], f"an open deal ({spec.name}) has no close time")
        else:
            closed = values.get("closed_at") or values["opened_at"]
            values["closed_at"] = parse_past(closed, now, "closed_at")
        if not values.get("stage_history"):
            # A deal added closed reached its final stage when it closed.
            values["stage_history"] = (DealStageChange(to_stage=spec.name, at=values.get("closed_at") or
                                                       values["opened_at"], by=crm.actor),)
        return build(Deal, values)

    def _stage(self, stage: Any) -> DealStageSpec:
        if not isinstance(stage, str):
            raise ValidationError("stage", stage, f"must be one of {', '.join(self.crm.profile.deal_stage_names)}")
        return self.crm.profile.deal_stage(stage)

    # -- editing -------------------------------------------------------------------

    def update(self, deal_id: str | int, *, expected_version: int | None = None, **changes: Any) -> Deal:
        """Edit a deal's details: title, amount, currency, expected close, owner, products, source, ...

        The stage changes only through :meth:`move`, :meth:`win`, :meth:`lose`
        and :meth:`reopen`; ``lost_reason`` only on a lost deal.
        """
        for key in changes:
            if key not in EDITABLE:
                raise ValidationError("field", key, f"cannot be edited here; editable: {', '.join(sorted(EDITABLE))}")
        with self.crm.transaction():
            old = self.get(deal_id)
            merged = {k: getattr(old, k) for k in attrs.fields_dict(Deal) if k not in BOOKKEEPING}
            merged.update(changes)
            new = attrs.evolve(self.build(merged), id=old.id, created_at=old.created_at, updated_at=old.updated_at,
                               version=old.version)
            return self._save(old, new, "deal.updated", expected_version=expected_version)

    # -- moving through the pipeline -------------------------------------------------

    def move(self, deal_id: str | int, stage: str, *, at: Any = None, note: str | None = None,
             lost_reason: str | None = None, expected_version: int | None = None) -> Deal:
        """Move a deal to another stage of the profile's pipeline and return it.

        Moving into a won stage is a :meth:`win` (the customer's lifecycle may
        move), into a lost stage a :meth:`lose` (``lost_reason`` required), and
        moving a won or lost deal back into an open stage is a :meth:`reopen`.
        ``at`` backdates the move, but not before the deal's last stage change.
        """
        spec = self._stage(stage)
        if spec.kind == "won":
            return self.win(deal_id, stage=spec.name, at=at, note=note, expected_version=expected_version)
        if spec.kind == "lost":
            return self.lose(deal_id, lost_reason, stage=spec.name, at=at, expected_version=expected_version)
        with self.crm.transaction():
            old = self.get(deal_id)
            if not old.is_open:
                return self._reopen(old, spec, at=at, reason=note, expected_version=expected_version)
            return self._change_stage(old, spec, "deal.moved", at=at, note=note, expected_version=expected_version)

    def win(self, deal_id: str | int, *, stage: str | None = None, amount: Any = None, currency: str | None = None,
            at: Any = None, note: str | None = None, expected_version: int | None = None) -> Deal:
        """Mark an open deal won (optionally with its final amount) and return it.

        In the same transaction the customer moves to the profile's
        ``won_lifecycle_stage`` when the profile names one, the customer is not
        already in a stage of that kind, and the move is allowed from where they
        stand; otherwise the customer stays, and the ``deal.won`` event's note
        says why.
        """
        with self.crm.transaction():
            old, spec = self._closing(deal_id, stage, "won")
            money: dict[str, Any] = {}
            if amount not in (None, "") or currency not in (None, ""):
                money = {"amount": old.amount if amount in (None, "") else amount,
                         "currency": currency or old.currency}
                _money(money)
            when = self._when(at, old)
            lifecycle_stage, outcome = self._won_lifecycle(old.customer_id, when)
            text = f"{note}; {outcome}" if note else outcome
            new = self._change_stage(old, spec, "deal.won", at=when, note=text, expected_version=expected_version,
                                     **money)
            if lifecycle_stage is not None:
                self.crm.lifecycle.move(old.customer_id, lifecycle_stage, reason=f"won {old.id}", at=when)
            return new

    def lose(self, deal_id: str | int, reason: str | None, *, stage: str | None = None, at: Any = None,
             expected_version: int | None = None) -> Deal:
        """Mark an open deal lost; ``reason`` (the lost reason) is required."""
        if reason is None or not str(reason).strip():
            raise ValidationError("lost_reason", reason, "is required to lose a deal")
        with self.crm.transaction():
            old, spec = self._closing(deal_id, stage, "lost")
            return self._change_stage(old, spec, "deal.lost", at=at, note=str(reason).strip(),
                                      expected_version=expected_version, lost_reason=reason)

    def _closing(self, deal_id: str | int, stage: str | None, kind: str) -> tuple[Deal, DealStageSpec]:
        """The open deal about to be won or lost, and the stage of that kind it goes to (default: the first)."""
        old = self.get(deal_id)
        spec = self._stage(stage) if stage is not None else self.crm.profile.deal_stages_of(kind)[0]
        if spec.kind != kind:
            raise ValidationError("stage", stage, f"{spec.name} is not a {kind} stage")
        if not old.is_open:
            raise TransitionError("status", old.status.value, f"{old.id} is already {old.status}; reopen it first")
        return old, spec

    def reopen(self, deal_id: str | int, stage: str | None = None, *, reason: str | None = None, at: Any = None,
               expected_version: int | None = None) -> Deal:
        """Put a won or lost deal back into an open stage (default: the open stage it closed from).

        The close time and lost reason are cleared; the customer's lifecycle
        is left as it is.
        """
        with self.crm.transaction():
            old = self.get(deal_id)
            if old.is_open:
                raise TransitionError("status", old.status.value, f"{old.id} is still open")
            if stage is None:
                earlier = [c.to_stage for c in old.stage_history
                           if c.to_stage in self.crm.profile.deal_stage_names
                           and self.crm.profile.deal_stage(c.to_stage).kind == "open"]
                spec = self.crm.profile.deal_stage(earlier[-1]) if earlier else \
                    self.crm.profile.deal_stages_of("open")[0]
            else:
                spec = self._stage(stage)
            return self._reopen(old, spec, at=at, reason=reason, expected_version=expected_version)

    def _reopen(self, old: Deal, spec: DealStageSpec, *, at: Any, reason: str | None,
                expected_version: int | None) -> Deal:
        if spec.kind != "open":
            raise ValidationError("stage", spec.name, "a deal reopens into an open stage")
        return self._change_stage(old, spec, "deal.reopened", at=at, note=reason, expected_version=expected_version)

    def _change_stage(self, old: Deal, spec: DealStageSpec, event_type: str, *, at: Any, note: str | None,
                      expected_version: int | None, **changes: Any) -> Deal:
        if spec.name == old.stage:
            raise TransitionError("stage", spec.name, f"{old.id} is already in {spec.name}")
        when = self._when(at, old)
        change = DealStageChange(from_stage=old.stage, to_stage=spec.name, at=when, by=self.crm.actor, note=note)
        new = attrs.evolve(
            old, stage=spec.name, status=DealStatus(spec.kind), stage_history=(*old.stage_history, change),
            closed_at=None if spec.kind == "open" else when,
            lost_reason=str(changes.pop("lost_reason")).strip() if spec.kind == "lost" else None, **changes,
        )
        return self._save(old, new, event_type, note=note, expected_version=expected_version, effective_at=when)

    def _when(self, at: Any, deal: Deal) -> datetime:
        """The time of a stage change: not in the future, not before the deal's last stage change."""
        now = self.crm.now()
        when = parse_past(at, now)
        last = deal.stage_history[-1].at if deal.stage_history else deal.opened_at
        if when < last:
            raise TransitionError("at", at if at is not None else format_datetime(when),
                                  f"is before {deal.id}'s last stage change ({format_datetime(last)})")
        return when

    def _won_lifecycle(self, customer_id: str, when: datetime) -> tuple[str | None, str]:
        """The lifecycle stage a win moves the customer to (or None) and a note saying what happens."""
        profile = self.crm.profile
        target = profile.won_lifecycle_stage
        if target is None:
            return None, f"lifecycle: profile {profile.name} moves no stage on a win"
        customer = self.crm.customers.get(customer_id)
        kinds = {stage.name: stage.kind for stage in profile.stages}
        if customer.stage == target:
            return None, f"lifecycle: {customer.id} is already {target}"
        if kinds.get(customer.stage) == kinds[target]:
            return None, f"lifecycle: {customer.id} stays {customer.stage} (already a {kinds[target]} stage)"
        if target not in profile.allowed_moves(customer.stage):
            return None, f"lifecycle: {customer.id} stays {customer.stage} (the profile allows no move to {target})"
        if customer.stage_history and when < customer.stage_history[-1].at:
            return None, f"lifecycle: {customer.id} stays {customer.stage} (the win is before their last stage change)"
        return target, f"lifecycle: {customer.id} moved from {customer.stage} to {target}"

    def _save(self, old: Deal, new: Deal, event_type: str, *, note: str | None = None,
              expected_version: int | None = None, effective_at: datetime | None = None) -> Deal:
        return save_record(self.crm, "deal", self.collection, old, new, event_type, customer_id=old.customer_id,
                           note=note, expected_version=expected_version, effective_at=effective_at)

    # -- lead conversion ---------------------------------------------------------------

    def convert_lead(self, customer_id: str | int, title: str, **values: Any) -> Conversion:
        """Turn a lead into a deal: create the deal, move the customer's stage, log ``lead.converted``.

        The customer must be in a prospect stage before the profile's
        ``lead_conversion_stage`` and have no open deal; otherwise a
        :class:`~crmkit.TransitionError` names the customer and the reason.
        Everything happens in one transaction on the existing customer record.
        ``values`` are :meth:`add`'s keywords.
        """
        crm = self.crm
        profile = crm.profile
        with crm.transaction():
            customer = crm.customers.get(customer_id)
            kinds = {stage.name: stage.kind for stage in profile.stages}
            target = profile.lead_conversion_stage
            if kinds.get(customer.stage) != "prospect":
                raise TransitionError("stage", customer.stage, f"cannot convert {customer.id} ({customer.name}): "
                                      f"they are {customer.stage}, not a lead")
            order = profile.stage_names
            if target is not None and order.index(customer.stage) >= order.index(target):
                raise TransitionError("stage", customer.stage, f"cannot convert {customer.id} ({customer.name}): "
                                      f"they are already {customer.stage}, past lead")
            open_deals = self.find_documents(customer_id=customer.id, status="open", limit=1)
            if open_deals:
                raise TransitionError("customer_id", customer.id, f"cannot convert {customer.id} "
                                      f"({customer.name}): open deal {open_deals[0]['id']} exists already")
            deal = self.add(customer.id, title, **values)
            before = customer.stage
            if target is not None:
                customer = crm.lifecycle.move(customer.id, target, reason=f"converted to {deal.id}",
                                              at=deal.opened_at)
            crm.record_events([("lead.converted", customer.id, customer.id,
                                {"deal_id": [None, deal.id], "stage": [before, customer.stage]},
                                deal.id)])
            return Conversion(customer=customer, deal=deal)

    # -- reading -----------------------------------------------------------------------

    def time_in_stage(self, deal_id: str | int, now: Any = None) -> dict[str, timedelta]:
        """Total time the deal spent in each stage as of ``now`` (default now), in the order first reached.

        The current stage of an open deal counts until ``now``; a closed deal's
        final stage has no time in it.
        """
        deal = self.get(deal_id)
        when = self.crm.now() if now is None else parse_when(now, self.crm.now(), "now")
        return deal.time_in_stage(when)

    def pipeline(self, where: Any = None) -> list[PipelineRow]:
        """Open deals by stage, in the profile's stage order, per currency.

        Each row counts the deals and adds up their amount and weighted amount
        (amount x the stage's probability); amounts in different currencies
        are never added together. ``where`` narrows the deals as in :meth:`find`.
        """
        profile = self.crm.profile
        docs = self.find_documents(where, status="open")
        groups: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        for doc in docs:
            groups.setdefault((doc["stage"], doc.get("currency")), []).append(doc)
        rows = []
        for spec in profile.deal_stages_of("open"):
            currencies = sorted((c for (s, c) in groups if s == spec.name), key=lambda c: (c is None, c or ""))
            if not currencies:
                rows.append(PipelineRow(stage=spec.name, label=spec.label or spec.name, probability=spec.probability,
                                        currency=None, count=0, amount=0.0, weighted=0.0))
            for currency in currencies:
                members = groups[(spec.name, currency)]
                total = _sum(doc.get("amount") for doc in members)
                weighted = _round(total * spec.probability / 100, currency)
                rows.append(PipelineRow(stage=spec.name, label=spec.label or spec.name, probability=spec.probability,
                                        currency=currency, count=len(members), amount=float(total),
                                        weighted=float(weighted)))
        return rows

    def totals(self, where: Any = None) -> list[DealTotal]:
        """Deals per status (open, won, lost) and currency: how many, and their summed amount."""
        groups: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        for doc in self.find_documents(where):
            groups.setdefault((doc["status"], doc.get("currency")), []).append(doc)
        order = [s.value for s in DealStatus]
        return [DealTotal(status=status, currency=currency, count=len(members),
                          amount=float(_sum(doc.get("amount") for doc in members)))
                for (status, currency), members in sorted(
                    groups.items(), key=lambda item: (order.index(item[0][0]), item[0][1] is None, item[0][1] or ""))]


def _money(values: dict[str, Any]) -> None:
    """Check ``currency`` and round ``amount`` to that currency's minor unit, in place."""
    if values.get("currency") not in (None, ""):
        values["currency"] = parse_currency("currency", values["currency"])
    else:
        values["currency"] = None
    if values.get("amount") not in (None, ""):
        values["amount"] = parse_amount("amount", values["amount"], currency=values["currency"])
    else:
        values["amount"] = None


def _sum(amounts: Iterable[Any]) -> Decimal:
    """Add amounts exactly (stored as rounded floats; repr gives their decimal form)."""
    return sum((Decimal(repr(float(a))) for a in amounts if a is not None), Decimal(0))


def _round(value: Decimal, currency: str | None) -> Decimal:
    places = Decimal(1) if currency in NO_MINOR_UNIT else Decimal("0.01")
    return value.quantize(places, rounding=ROUND_HALF_EVEN)


__all__ = ["Conversion", "DealService", "DealTotal", "PipelineRow"]
