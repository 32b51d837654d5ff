"""Feedback and surveys: what customers tell us, complaints that open tickets, NPS and CSAT reports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from ..errors import ValidationError
from ..models import Feedback, FeedbackKind, Scale, Sentiment, TicketStatus
from ..storage.query import And, Compare, Filter, parse_where
from .base import Service, build, insert_records, save_record, stamp_new
from .normalize import parse_past, parse_when
from .references import check_reference

#: Sentiment a kind of feedback gets when none is given (survey answers take theirs from the score).
DEFAULT_SENTIMENT = {FeedbackKind.PRAISE: Sentiment.POSITIVE, FeedbackKind.COMPLAINT: Sentiment.NEGATIVE}
#: What ``update`` may change; the customer and the creation stamps stay.
EDITABLE = frozenset({"kind", "sentiment", "score", "text", "channel", "ticket_id", "order_id", "received_at", "at"})
#: What ``add`` passes on to ``tickets.open`` when a complaint opens a ticket.
TICKET_OPTIONS = frozenset({"subject", "priority", "category", "assignee", "department"})
#: Periods a report can be grouped by, and how a stored time (``2026-03-02T09:00:00Z``) names its period.
PERIODS = ("month", "quarter", "year")


@attrs.frozen(kw_only=True)
class NpsReport:
    """Net Promoter Score over some survey answers: promoters (9-10), passives (7-8), detractors (0-6).

    ``score`` is the percentage of promoters minus the percentage of
    detractors (-100 to 100, one decimal), None without answers. ``period``
    names the month, quarter or year of a grouped report (None otherwise).
    """

    period: str | None = None
    responses: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    score: float | None = None


@attrs.frozen(kw_only=True)
class CsatReport:
    """Customer satisfaction over some CSAT answers (1-5).

    ``average`` has two decimals; ``satisfied`` counts answers of 4 or 5 and
    ``share_satisfied`` is that count over ``responses`` (0 to 1, four
    decimals); both None without answers. ``counts`` holds how many answers
    gave each score (``{"1": 3, ..., "5": 9}``).
    """

    period: str | None = None
    responses: int = 0
    average: float | None = None
    satisfied: int = 0
    share_satisfied: float | None = None
    counts: dict[str, int] = attrs.field(factory=lambda: {str(s): 0 for s in range(1, 6)})


@attrs.frozen(kw_only=True)
class SurveyReport:
    """NPS and CSAT side by side for one period (``period`` None: the whole range)."""

    period: str | None
    nps: NpsReport
    csat: CsatReport


class FeedbackService(Service[Feedback]):
    model = Feedback
    collection = "feedback"
    kind = "feedback"
    aliases = {"customer": "customer_id", "ticket": "ticket_id", "order": "order_id", "at": "received_at"}

    # -- recording -------------------------------------------------------------------

    def add(self, customer_id: str | int, kind: str, text: str | None = None, *, open_ticket: bool = False,
            **values: Any) -> Feedback:
        """Record feedback from a customer and return it.

        Keywords: ``sentiment`` (default positive for praise, negative for a
        complaint, derived from the score for a survey answer), ``channel``,
        ``ticket_id`` (a ticket of the same customer), ``at`` (when it came in;
        default now), and for survey answers ``scale`` and ``score``.

        ``open_ticket=True`` (complaints only) also opens a ticket for it in the
        same transaction and links it: the subject defaults to the text's first
        line, the category to the profile's ``complaint`` category if it has
        one, the channel to the feedback's; ``subject``, ``priority``,
        ``category``, ``assignee`` and ``department`` go to the ticket.
        """
        ticket_options = {key: values.pop(key) for key in list(values) if key in TICKET_OPTIONS}
        row = {"customer_id": customer_id, "kind": kind, "text": text, **values}
        if not open_ticket:
            if ticket_options:
                key = next(iter(ticket_options))
                raise ValidationError(key, ticket_options[key], "only applies with open_ticket")
            return self.add_many([row])[0]
        with self.crm.transaction():
            draft = self.build(row)
            if draft.kind is not FeedbackKind.COMPLAINT:
                raise ValidationError("open_ticket", True, f"only a complaint opens a ticket, not {draft.kind}")
            if draft.ticket_id:
                raise ValidationError("ticket_id", draft.ticket_id, "is given already; open_ticket opens a new one")
            ticket = self.crm.tickets.open(draft.customer_id, **self._ticket_for(draft, ticket_options))
            return self.add_many([attrs.evolve(draft, ticket_id=ticket.id)])[0]

    def complain(self, customer_id: str | int, text: str, **values: Any) -> Feedback:
        """Record a complaint and open a ticket for it in one go (``add(..., kind="complaint", open_ticket=True)``)."""
        return self.add(customer_id, "complaint", text, open_ticket=True, **values)

    def survey(self, customer_id: str | int, *, nps: int | str | None = None, csat: int | str | None = None,
               ticket_id: str | int | None = None, comment: str | None = None, at: Any = None,
               channel: str | None = None, rate_ticket: bool = True) -> Feedback:
        """Record one survey answer: exactly one of ``nps`` (0-10) or ``csat`` (1-5).

        The sentiment follows the score (see :meth:`Scale.sentiment`). A CSAT
        answer about a resolved or closed ticket that has no rating yet also
        rates the ticket (``tickets.rate``, same score, comment and time), so
        the two never disagree; ``rate_ticket=False`` leaves the ticket alone.
        A ticket already rated keeps its rating.
        """
        if (nps is None) == (csat is None):
            raise ValidationError("score", nps if csat is None else csat, "give exactly one of nps or csat")
        scale, score = (Scale.NPS, nps) if nps is not None else (Scale.CSAT, csat)
        row = {"customer_id": customer_id, "kind": FeedbackKind.SURVEY, "scale": scale, "score": score,
               "text": comment, "ticket_id": ticket_id, "at": at, "channel": channel}
        return self.add_many([row], rate_tickets=rate_ticket)[0]

    def add_many(self, rows: Iterable[Mapping[str, Any] | Feedback], *, keep_ids: bool = False,
                 rate_tickets: bool | None = None) -> list[Feedback]:
        """Record many feedback records in one transaction; rows may be Feedback made by :meth:`build`.

        ``rate_tickets`` (default: on, off when ``keep_ids`` restores records
        as they were) rates the tickets of CSAT answers as :meth:`survey` does.
        """
        with self.crm.transaction():
            records = [row if isinstance(row, Feedback) else self.build(row) for row in rows]
            records = stamp_new(self.crm, records, keep_ids=keep_ids)
            insert_records(self.crm, "feedback", self.collection, records, "feedback.received",
                           customer_of=lambda r: r.customer_id)
            if rate_tickets if rate_tickets is not None else not keep_ids:
                for record in records:
                    self._rate_ticket(record)
        return records

    def build(self, row: Mapping[str, Any]) -> Feedback:
        """Validate input values into a Feedback (not stored); checks the customer and the ticket."""
        if not isinstance(row, Mapping):
            raise ValidationError("feedback", row, "must be a mapping of field names to values")
        values = dict(row)
        now = self.crm.now()
        values["customer_id"] = check_reference(self.crm, "customer_id", "customers", values.get("customer_id"))
        if values["customer_id"] is None:
            raise ValidationError("customer_id", row.get("customer_id"), "is required")
        values["ticket_id"] = check_reference(self.crm, "ticket_id", "tickets", values.get("ticket_id"),
                                              customer_id=values["customer_id"])
        values["order_id"] = check_reference(self.crm, "order_id", "orders", values.get("order_id"),
                                             customer_id=values["customer_id"])
        at = values.pop("at", None) or values.get("received_at") or now
        values["received_at"] = parse_past(at, now, "at")
        kind = FeedbackKind.parse("kind", values.get("kind"))
        values["kind"] = kind
        if kind is FeedbackKind.SURVEY:
            scale = Scale.parse("scale", values.get("scale")) if values.get("scale") not in (None, "") else None
            if scale is None:
                raise ValidationError("scale", values.get("scale"), "a survey answer needs a scale: csat or nps")
            values["score"] = scale.check(values.get("score"))
            if values.get("sentiment") in (None, ""):
                values["sentiment"] = scale.sentiment(values["score"])
        elif values.get("sentiment") in (None, "") and kind in DEFAULT_SENTIMENT:
            values["sentiment"] = DEFAULT_SENTIMENT[kind]
        return build(Feedback, values)

    def update(self, feedback_id: str | int, *, expected_version: int | None = None, **changes: Any) -> Feedback:
        """Correct a feedback record: kind, sentiment, score, text, channel, ticket_id, received_at (or at).

        A new score without a sentiment derives the sentiment again. The
        customer and the scale cannot change: record a new answer instead.
        """
        for key in changes:
            if key not in EDITABLE:
                raise ValidationError("field", key, f"cannot be edited; editable: {', '.join(sorted(EDITABLE))}")
        with self.crm.transaction():
            old = self.get(feedback_id)
            merged = {k: getattr(old, k) for k in attrs.fields_dict(Feedback)
                      if k not in ("id", "created_at", "updated_at", "version")}
            if "score" in changes and "sentiment" not in changes:
                merged["sentiment"] = None
            if "at" in changes:
                merged.pop("received_at")
            merged.update(changes)
            new = attrs.evolve(self.build(merged), id=old.id, created_at=old.created_at,
                               updated_at=old.updated_at, version=old.version)
            return save_record(self.crm, "feedback", self.collection, old, new, "feedback.updated",
                               expected_version=expected_version, customer_id=old.customer_id)

    # -- reading ---------------------------------------------------------------------

    def last_survey(self, customer_id: str | int, *, scale: str | None = None) -> Feedback | None:
        """The customer's most recent survey answer (of ``scale``, if given), or None; the last recorded wins a tie."""
        cid = self.crm.customers.normalize_id(customer_id)
        equals: dict[str, Any] = {"customer_id": cid, "kind": FeedbackKind.SURVEY.value}
        if scale is not None:
            equals["scale"] = Scale.parse("scale", scale).value
        found = self.find(**equals)
        # the latest answer; of two in the same second, the one recorded last
        return max(found, key=lambda f: (f.received_at, int(f.id.split("-")[1])), default=None)

    def nps(self, where: str | Filter | None = None, since: Any = None, until: Any = None, *,
            by: str | None = None) -> NpsReport | list[NpsReport]:
        """The NPS of the answers matching ``where`` received from ``since`` up to ``until``.

        ``since`` is inclusive and ``until`` exclusive, except that a plain
        date includes that whole day. ``by="month"`` (or ``quarter``,
        ``year``, by UTC time) returns one report per period instead, oldest
        first, with empty periods between the first and the last included.
        """
        groups = self._scores(Scale.NPS, where, since, until, by)
        reports = [_nps(period, scores) for period, scores in groups.items()]
        return reports if by else reports[0]

    def csat(self, where: str | Filter | None = None, since: Any = None, until: Any = None, *,
             by: str | None = None) -> CsatReport | list[CsatReport]:
        """CSAT of the answers matching ``where`` in the period; arguments as for :meth:`nps`."""
        groups = self._scores(Scale.CSAT, where, since, until, by)
        reports = [_csat(period, scores) for period, scores in groups.items()]
        return reports if by else reports[0]

    def report(self, where: str | Filter | None = None, since: Any = None, until: Any = None, *,
               by: str | None = None) -> list[SurveyReport]:
        """NPS and CSAT together, one :class:`SurveyReport` per period (one in all without ``by``)."""
        nps = self._scores(Scale.NPS, where, since, until, by)
        csat = self._scores(Scale.CSAT, where, since, until, by)
        periods = _fill(sorted({*nps, *csat}), by) if by else [None]
        return [SurveyReport(period=p, nps=_nps(p, nps.get(p, [])), csat=_csat(p, csat.get(p, [])))
                for p in periods]

    # -- internals -------------------------------------------------------------------

    def _ticket_for(self, draft: Feedback, options: dict[str, Any]) -> dict[str, Any]:
        text = draft.text or ""
        subject = options.pop("subject", None) or text.splitlines()[0][:80]
        category = options.pop("category", None)
        if category is None:
            try:
                category = self.crm.profile.check_category("complaint")
            except ValidationError:
                category = None  # a profile without a complaint category
        return {"subject": subject, "description": text, "at": draft.received_at, **options,
                **({"category": category} if category else {}),
                **({"channel": draft.channel.value} if draft.channel else {})}

    def _rate_ticket(self, record: Feedback) -> None:
        if record.scale is not Scale.CSAT or record.ticket_id is None:
            return
        ticket = self.crm.tickets.get(record.ticket_id)
        if ticket.satisfaction is not None or ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            return
        latest = max(t for t in (ticket.opened_at, ticket.resolved_at, ticket.closed_at) if t is not None)
        # An answer dated before the ticket settled is rated as of settling (ratings cannot predate it).
        self.crm.tickets.rate(ticket.id, record.score, comment=record.text, at=max(record.received_at, latest))

    def _scores(self, scale: Scale, where: Any, since: Any, until: Any,
                by: str | None) -> dict[str | None, list[int]]:
        if by is not None and by not in PERIODS:
            raise ValidationError("by", by, f"must be one of {', '.join(PERIODS)}")
        parts: list[Filter] = []
        if isinstance(where, str) and where.strip():
            parts.append(parse_where(where))
        elif where is not None and not isinstance(where, str):
            parts.append(where)
        now = self.crm.now()
        if since not in (None, ""):
            parts.append(Compare(("received_at",), ">=", _bound(since, now, "since", end=False)))
        if until not in (None, ""):
            parts.append(Compare(("received_at",), "<", _bound(until, now, "until", end=True)))
        combined = None if not parts else parts[0] if len(parts) == 1 else And(tuple(parts))
        docs = self.find_documents(combined, kind=FeedbackKind.SURVEY.value, scale=scale.value)
        groups: dict[str | None, list[int]] = {} if by else {None: []}
        for doc in sorted(docs, key=lambda d: d["received_at"]):
            groups.setdefault(_period(doc["received_at"], by), []).append(doc["score"])
        if by:
            return {p: groups.get(p, []) for p in _fill(list(groups), by)}
        return groups


def _bound(value: Any, now: datetime, field: str, *, end: bool) -> datetime:
    """A report bound as a time; a plain date means its start, or for ``until`` the start of the next day."""
    day = value if isinstance(value, date) and not isinstance(value, datetime) else None
    if day is None and isinstance(value, str):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            day = None
    if day is not None:
        return parse_when((day + timedelta(days=1) if end else day).isoformat(), now, field)
    return parse_when(value, now, field)


def _period(stored_time: str, by: str | None) -> str | None:
    """``2026-03-02T09:00:00Z`` -> ``2026-03`` (month), ``2026-Q1`` (quarter), ``2026`` (year)."""
    if by is None:
        return None
    if by == "year":
        return stored_time[:4]
    if by == "quarter":
        return f"{stored_time[:4]}-Q{(int(stored_time[5:7]) - 1) // 3 + 1}"
    return stored_time[:7]


def _fill(periods: Sequence[str], by: str) -> list[str]:
    """Every period from the first to the last of ``periods``, so a trend shows its empty months too."""
    if not periods:
        return []
    first, last = min(periods), max(periods)
    if by == "year":
        return [str(y) for y in range(int(first), int(last) + 1)]
    step = 3 if by == "quarter" else 1
    index = _month_index(first, by)
    result = []
    while True:
        year, month = divmod(index, 12)
        name = f"{year}-Q{month // 3 + 1}" if by == "quarter" else f"{year}-{month + 1:02d}"
        if name > last:
            return result
        result.append(name)
        index += step


def _month_index(period: str, by: str) -> int:
    year = int(period[:4])
    month0 = (int(period[6]) - 1) * 3 if by == "quarter" else int(period[5:7]) - 1
    return year * 12 + month0


def _nps(period: str | None, scores: Sequence[int]) -> NpsReport:
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    total = len(scores)
    score = round(100 * (promoters - detractors) / total, 1) if total else None
    return NpsReport(period=period, responses=total, promoters=promoters, passives=total - promoters - detractors,
                     detractors=detractors, score=score)


def _csat(period: str | None, scores: Sequence[int]) -> CsatReport:
    total = len(scores)
    satisfied = sum(1 for s in scores if s >= 4)
    counts = {str(s): 0 for s in range(1, 6)}
    for s in scores:
        counts[str(s)] += 1
    return CsatReport(period=period, responses=total, average=round(sum(scores) / total, 2) if total else None,
                      satisfied=satisfied, share_satisfied=round(satisfied / total, 4) if total else None,
                      counts=counts)


__all__ = ["CsatReport", "FeedbackService", "NpsReport", "SurveyReport"]
