"""The retail functions a script (and each ``crmkit retail`` command) calls: RFM, the lifecycle run, marketing lists.

Each takes an open ``crmkit.CRM`` whose profile is ``retail`` (another
profile is a ``ValidationError`` saying so) and reads purchases through
``crm.orders.summaries``: orders that were returned or cancelled never count.

**Currencies.** Spend in different currencies cannot be added up, so RFM is
computed for one currency at a time, over the customers who bought in it
(their frequency and recency count only that currency's orders). Without a
currency, a store whose orders all use one currency uses it; a store with
several refuses and lists them.

**As of.** ``as_of`` is a date (``2025-06-30``: the end of that day, UTC), a
date-time, or None for now; only orders placed up to then count.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import attrs

from crmkit import ValidationError

from .profile import NAME
from .rfm import GroupSummary, Purchaser, RfmScore, check_segment, check_tier, score_customers, summarize
from .rules import (
    CONSENT_CHANNELS, DEFAULT_RULE, LifecycleRule, PurchaseHistory, consented_channels, days_since, lifecycle_stage,
)


def require_retail(crm: Any) -> None:
    """Refuse a store of another profile, in one line."""
    if crm.profile.name != NAME:
        raise ValidationError("profile", crm.profile.name,
                              f"this store uses the {crm.profile.name} profile; the retail commands need a store "
                              "made with `crmkit init --profile retail`")


def parse_as_of(value: Any, now: datetime) -> datetime:
    """A moment from None (now), a date (its end, UTC), a date-time or their ISO text; never after now."""
    if value is None or (isinstance(value, str) and value.strip().casefold() in ("", "now", "today")):
        return now
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime.combine(value, time.max, tzinfo=timezone.utc)
    else:
        text = str(value).strip()
        try:
            when = (datetime.combine(date.fromisoformat(text), time.max, tzinfo=timezone.utc) if len(text) == 10
                    else datetime.fromisoformat(text))
        except ValueError:
            raise ValidationError("as_of", value, "must be a date like 2025-06-30 or a date-time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    if when > now:
        if when.astimezone(timezone.utc).date() > now.astimezone(timezone.utc).date():
            raise ValidationError("as_of", value, "is in the future")
        return now  # the end of today: everything up to now
    return when


# -- RFM -----------------------------------------------------------------------------------


def order_currencies(crm: Any, as_of: datetime | None = None) -> list[str]:
    """The currencies of the purchases up to ``as_of``, most used first (ties by code)."""
    counts: dict[str, int] = {}
    for summary in crm.orders.summaries(as_of=as_of).values():
        for currency in summary.spend:
            counts[currency] = counts.get(currency, 0) + 1
    return sorted(counts, key=lambda c: (-counts[c], c))


def pick_currency(crm: Any, currency: str | None, as_of: datetime | None = None) -> str | None:
    """The currency to analyse: the one given (upper-cased), else the store's only one; None without purchases."""
    if currency is not None:
        code = str(currency).strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValidationError("currency", currency, "must be a three-letter code like EUR")
        return code
    found = order_currencies(crm, as_of)
    if len(found) > 1:
        raise ValidationError("currency", None, f"the purchases are in several currencies ({', '.join(found)}); "
                                                "RFM compares one currency at a time: pick one with --currency")
    return found[0] if found else None


@attrs.frozen(kw_only=True)
class CustomerRfm:
    """One scored customer with their name, for listings."""

    name: str
    score: RfmScore

    def as_row(self) -> dict[str, Any]:
        s = self.score
        return {"customer_id": s.customer_id, "name": self.name, "segment": s.segment, "tier": s.tier,
                "rfm": s.code, "r": s.r, "f": s.f, "m": s.m, "recency_days": s.recency_days,
                "frequency": s.frequency, "monetary": s.monetary, "last_purchase_at": s.last_purchase_at}


@attrs.frozen(kw_only=True)
class RfmReport:
    """RFM as of a moment in one currency: every scored customer and the totals per segment and tier."""

    as_of: datetime
    currency: str | None
    customers: tuple[CustomerRfm, ...]
    segments: tuple[GroupSummary, ...]
    tiers: tuple[GroupSummary, ...]

    @property
    def revenue(self) -> float:
        return round(sum(group.revenue for group in self.segments), 2)

    def of(self, customer_id: str) -> CustomerRfm | None:
        return next((c for c in self.customers if c.score.customer_id == customer_id), None)


def rfm_report(crm: Any, *, as_of: Any = None, currency: str | None = None, where: Any = None,
               segments: Sequence[str] = (), tiers: Sequence[str] = ()) -> RfmReport:
    """Score every customer who bought (in ``currency``) up to ``as_of``; see the module docs.

    Scores always compare a customer with *all* who bought; ``where`` (a
    customer filter such as ``fields.home_store=Berlin``), ``segments`` and
    ``tiers`` only narrow the customers listed (``customers``); the
    segment and tier totals stay those of everyone.
    """
    require_retail(crm)
    when = parse_as_of(as_of, crm.now())
    code = pick_currency(crm, currency, when)
    wanted_segments = {check_segment(s) for s in segments}
    wanted_tiers = {check_tier(t) for t in tiers}
    summaries = crm.orders.summaries(where=f"currency={code}", as_of=when) if code else {}
    purchasers = [
        Purchaser(customer_id=cid, recency_days=days_since(s.last_purchase_at, when), frequency=s.purchases,
                  monetary=s.spend.get(code, 0.0), last_purchase_at=s.last_purchase_at)
        for cid, s in summaries.items() if s.purchases and s.last_purchase_at is not None
    ]
    scores = score_customers(purchasers)
    names = {doc["id"]: doc["name"] for doc in crm.customers.find_documents(where)}
    listed = tuple(
        CustomerRfm(name=names[s.customer_id], score=s) for s in scores
        if s.customer_id in names and (not wanted_segments or s.segment in wanted_segments)
        and (not wanted_tiers or s.tier in wanted_tiers)
    )
    return RfmReport(as_of=when, currency=code, customers=listed, segments=tuple(summarize(scores)),
                     tiers=tuple(summarize(scores, by="tier")))


def customer_rfm(crm: Any, customer_id: Any, *, as_of: Any = None) -> dict[str, RfmScore]:
    """A customer's scores in every currency they bought in, ``{currency: RfmScore}`` (empty without purchases)."""
    require_retail(crm)
    customer = crm.customers.get(customer_id)
    when = parse_as_of(as_of, crm.now())
    mine = crm.orders.summaries(as_of=when, customer_id=customer.id).get(customer.id)
    result = {}
    for code in sorted(mine.spend) if mine else ():
        found = rfm_report(crm, as_of=when, currency=code, where=f"id={customer.id}").of(customer.id)
        if found is not None:
            result[code] = found.score
    return result


# -- lifecycle ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class LifecycleMove:
    """What the rule says about one customer. ``status``: moved, planned (dry run) or skipped (see ``note``)."""

    customer_id: str
    name: str
    from_stage: str
    to_stage: str
    reason: str
    status: str
    note: str = ""


@attrs.frozen(kw_only=True)
class LifecycleRun:
    as_of: datetime
    dry_run: bool
    moves: tuple[LifecycleMove, ...]

    def count(self, status: str) -> int:
        return sum(1 for move in self.moves if move.status == status)


def purchase_histories(crm: Any, as_of: datetime, rule: LifecycleRule = DEFAULT_RULE,
                       **equals: Any) -> dict[str, PurchaseHistory]:
    """Every buying customer's :class:`PurchaseHistory` as of ``as_of`` (all currencies count).

    ``equals`` narrows the orders (``customer_id="C-3"``), as for ``crm.orders.summaries``.
    """
    window_start = as_of - timedelta(days=rule.loyal_window_days)
    recent = crm.orders.summaries(where=f"ordered_at>{window_start.isoformat()}", as_of=as_of, **equals)
    return {
        cid: PurchaseHistory(purchases=s.purchases, purchases_in_window=recent[cid].purchases if cid in recent else 0,
                             last_purchase_at=s.last_purchase_at)
        for cid, s in crm.orders.summaries(as_of=as_of, **equals).items()
    }


def run_lifecycle(crm: Any, *, as_of: Any = None, dry_run: bool = False,
                  rule: LifecycleRule = DEFAULT_RULE) -> LifecycleRun:
    """Move every customer whose purchases put them in another stage, through ``crm.lifecycle.move``.

    All moves are one transaction. A move is recorded at ``as_of`` (now by
    default) with the rule's explanation as its reason. Moves the profile
    does not allow (a repeat customer whose second order was returned would
    go back to first purchase) and moves dated before the customer's last
    stage change are skipped and reported, never forced. ``dry_run`` reports
    what would move and changes nothing.
    """
    require_retail(crm)
    now = crm.now()
    when = parse_as_of(as_of, now)
    histories = purchase_histories(crm, when, rule)
    moves: list[LifecycleMove] = []
    customers = crm.customers.find(where=f"id in ({', '.join(histories)})", sort="id") if histories else []
    with crm.transaction():
        for customer in sorted(customers, key=lambda c: int(c.id.split("-")[1])):
            target, reason = lifecycle_stage(histories[customer.id], when, rule)
            if target is None or target == customer.stage:
                continue
            move = LifecycleMove(customer_id=customer.id, name=customer.name, from_stage=customer.stage,
                                 to_stage=target, reason=reason, status="planned" if dry_run else "moved")
            last_change = customer.stage_history[-1].at if customer.stage_history else None
            if last_change is not None and when < last_change:
                move = attrs.evolve(move, status="skipped",
                                    note=f"as of is before the last stage change ({last_change:%Y-%m-%d})")
            elif target not in crm.profile.allowed_moves(customer.stage):
                move = attrs.evolve(move, status="skipped",
                                    note=f"{customer.stage} -> {target} is not an allowed move; correct it by hand")
            elif not dry_run:
                crm.lifecycle.move(customer.id, target, reason=f"lifecycle rule: {reason}",
                                   at=None if when >= now else when)
            moves.append(move)
    return LifecycleRun(as_of=when, dry_run=dry_run, moves=tuple(moves))


# -- consent ---------------------------------------------------------------------------------


def record_consent(crm: Any, customer_ids: Sequence[Any] = (), *, where: Any = None, channels: Sequence[str],
                   source: str | None = None, given_on: Any = None, withdraw: bool = False) -> list[Any]:
    """Record marketing consent with its proof (or withdraw it) for some customers, in one transaction.

    The customers are the ``customer_ids`` given or those matching ``where``
    (``"tags~shop opt-in: email"`` after a Shopify import). Giving consent
    sets the channels' flags, ``consent_date`` (``given_on``, default today)
    and ``consent_source`` (required). Withdrawing clears the flags and keeps
    the date and source of the last consent. Returns the updated customers.
    """
    require_retail(crm)
    wanted = [str(ch).strip().casefold() for ch in channels]
    for channel in wanted:
        if channel not in CONSENT_CHANNELS:
            raise ValidationError("channel", channel, f"must be one of {', '.join(CONSENT_CHANNELS)}")
    if not wanted:
        raise ValidationError("channel", None, "give at least one channel")
    if bool(customer_ids) == (where is not None):
        raise ValidationError("where", where, "give either customer ids or a filter")
    if not withdraw and not source:
        raise ValidationError("source", source, "is required: how did the customer agree?")
    fields = {} if withdraw else {"consent_source": source,
                                  "consent_date": given_on or crm.now().date().isoformat()}
    with crm.transaction():
        targets = ([crm.customers.get(cid) for cid in customer_ids] if customer_ids
                   else crm.customers.find(where=where, sort="id"))
        updated = []
        for customer in targets:
            flags = {ch: getattr(customer.consent, ch) for ch in CONSENT_CHANNELS}
            flags.update(dict.fromkeys(wanted, not withdraw))
            updated.append(crm.customers.update(customer.id, consent=flags, fields=fields) if fields
                           else crm.customers.update(customer.id, consent=flags))
    return updated


# -- marketing lists --------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class MarketingList:
    """Who may be sent a campaign: ``rows`` (consent given and recorded, a contact point for the channel).

    ``no_consent`` lists the ids left out for lack of consent (or of its
    recorded date and source), ``no_contact`` those without an address for
    the channel. ``members`` is the ``crmkit`` result of adding the rows to a
    campaign, when one was given.
    """

    channel: str
    segments: tuple[str, ...]
    report: RfmReport
    rows: tuple[dict[str, Any], ...]
    no_consent: tuple[str, ...]
    no_contact: tuple[str, ...]
    campaign_id: str | None = None
    members: Any = None


def has_recorded_consent(customer: Any, channel: str) -> bool:
    """Consent for ``channel`` with its date and source recorded: the only consent a list trusts."""
    return (channel in consented_channels(customer.consent) and bool(customer.fields.get("consent_date"))
            and bool(customer.fields.get("consent_source")))


def contact_point(customer: Any, channel: str) -> str | None:
    """Where a message on ``channel`` goes: the first email, the first phone, or the postal address."""
    if channel == "email":
        return customer.email
    if channel in ("sms", "phone"):
        return customer.phone
    address = customer.address
    if address is None or not (address.street and address.city):
        return None
    return address.one_line()


def marketing_list(crm: Any, *, segments: Sequence[str] = (), channel: str, tiers: Sequence[str] = (),
                   where: Any = None, as_of: Any = None, currency: str | None = None,
                   campaign: Any = None) -> MarketingList:
    """The customers of some RFM segments (and/or tiers) who may be contacted on ``channel``.

    Only customers with consent for the channel, and its date and source on
    record, are listed; nobody else is, whatever the filters. ``campaign``
    (an id like ``CP-1``, whose channel must be ``channel``) adds the listed
    customers as members through ``crm.campaigns.add_members``, in the same
    call.
    """
    require_retail(crm)
    channel = str(channel).strip().casefold()
    if channel not in CONSENT_CHANNELS:
        raise ValidationError("channel", channel, f"must be one of {', '.join(CONSENT_CHANNELS)}")
    if not segments and not tiers:
        raise ValidationError("segment", None, "give at least one segment or tier")
    target = crm.campaigns.get(campaign) if campaign is not None else None
    if target is not None and str(target.channel) != channel:
        raise ValidationError("campaign", target.id, f"is a {target.channel} campaign, not {channel}")
    report = rfm_report(crm, as_of=as_of, currency=currency, where=where, segments=segments, tiers=tiers)
    ids = [c.score.customer_id for c in report.customers]
    customers = {c.id: c for c in crm.customers.find(where=f"id in ({', '.join(ids)})")} if ids else {}
    rows, no_consent, no_contact = [], [], []
    for entry in report.customers:
        customer = customers[entry.score.customer_id]
        if not has_recorded_consent(customer, channel):
            no_consent.append(customer.id)
            continue
        point = contact_point(customer, channel)
        if point is None:
            no_contact.append(customer.id)
            continue
        rows.append({"customer_id": customer.id, "name": customer.name, "contact": point,
                     "segment": entry.score.segment, "tier": entry.score.tier, "rfm": entry.score.code,
                     "preferred_categories": list(customer.fields.get("preferred_categories") or ()),
                     "consent_date": customer.fields.get("consent_date"),
                     "consent_source": customer.fields.get("consent_source")})
    members = None
    if target is not None and rows:
        members = crm.campaigns.add_members(target.id, customer_ids=[row["customer_id"] for row in rows])
    return MarketingList(channel=channel, segments=tuple(check_segment(s) for s in segments), report=report,
                         rows=tuple(rows), no_consent=tuple(no_consent), no_contact=tuple(no_contact),
                         campaign_id=target.id if target is not None else None, members=members)


__all__ = [
    "CustomerRfm", "LifecycleMove", "LifecycleRun", "MarketingList", "RfmReport", "contact_point", "customer_rfm",
    "has_recorded_consent", "marketing_list", "order_currencies", "parse_as_of", "pick_currency",
    "purchase_histories", "record_consent", "require_retail", "rfm_report", "run_lifecycle",
]
