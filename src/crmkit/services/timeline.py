"""A customer's whole history in time order, and the time nodes of their life.

The timeline merges the events of every record that belongs to a customer
(the customer record itself, tickets, interactions and every other record type
in :mod:`crmkit.entities` with an owner). The time nodes are the first time a
customer reached each moment that matters (first contact, each lifecycle stage,
first ticket, first purchase ...), read from the records themselves, so that
imported history counts from when it happened, not from when it was imported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timezone
from typing import Any

import attrs

from ..entities import ENTITIES, Entity, by_prefix
from ..errors import ValidationError
from ..models.convert import parse_datetime
from ..storage.query import And, Compare, Filter, In
from .normalize import parse_when

#: Records fetched per ``get_many`` call when the timeline looks up titles.
BATCH = 500
#: Fields whose old -> new change a timeline line spells out.
SPELLED_OUT = ("stage", "status")


@attrs.frozen(kw_only=True)
class TimelineEntry:
    """One line of a customer's history.

    ``at`` is when it happened: for a record's creation, the record's own time
    (an interaction's ``occurred_at``, an order's ``ordered_at``), else the
    time of the change. ``kind`` is the record type (``ticket``), ``type`` the
    event type (``ticket.resolved``), ``title`` what the record is (a ticket's
    subject) and ``detail`` what changed.
    """

    at: datetime
    kind: str
    type: str
    record_id: str
    title: str
    detail: str
    actor: str
    event_id: str

    @property
    def summary(self) -> str:
        """The entry as one line of text: ``ticket resolved T-3 "Printer jams": status resolved``."""
        action = self.type.replace(".", " ").replace("_", " ")
        title = f' "{self.title}"' if self.title else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{action} {self.record_id}{title}{detail}"


@attrs.frozen(kw_only=True)
class NodeDurations:
    """How long customers took from one time node to another, in days.

    ``days`` holds one ``(customer id, days)`` pair per customer who reached
    both nodes with the second not before the first; ``missing_end`` counts
    customers who reached the first node only.
    """

    start: str
    end: str
    days: list[tuple[str, float]]
    missing_end: int

    @property
    def count(self) -> int:
        return len(self.days)

    @property
    def mean(self) -> float | None:
        from statistics import fmean  # imported here: it costs every command ~14 M instructions

        return fmean(d for _c, d in self.days) if self.days else None

    @property
    def median(self) -> float | None:
        from statistics import median

        return median(d for _c, d in self.days) if self.days else None

    @property
    def minimum(self) -> float | None:
        return min((d for _c, d in self.days), default=None)

    @property
    def maximum(self) -> float | None:
        return max((d for _c, d in self.days), default=None)


class TimelineService:
    """``crm.timeline``: customer timelines and time nodes."""

    def __init__(self, crm: Any) -> None:
        self.crm = crm

    # -- the timeline ------------------------------------------------------------------

    def for_customer(self, customer_id: str | int, *, kinds: Iterable[str] | None = None, since: Any = None,
                     until: Any = None, limit: int | None = None) -> list[TimelineEntry]:
        """Every change to a customer and their records, oldest first.

        ``kinds`` keeps entries of those record types (``ticket``, ``deal``) or
        event families (``lifecycle``); ``since``/``until`` (what ``--at``
        reads: dates, times, ``7d ago``) bound the period, both inclusive;
        ``limit`` keeps the most recent N entries.
        """
        crm = self.crm
        customer = crm.customers.get(customer_id)
        wanted = self._check_kinds(kinds)
        now = crm.now()
        start = parse_when(since, now, "since") if since not in (None, "") else None
        end = parse_when(until, now, "until") if until not in (None, "") else None
        if start and end and end < start:
            raise ValidationError("until", until, f"is before since ({since})")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ValidationError("limit", limit, "must be a whole number, zero or more")
        events = crm.storage.scan("events", Compare(("customer_id",), "=", customer.id))
        docs = self._records(events)
        entries = []
        for event in events:
            entry = _entry(event, docs.get(event.get("record_id", "")))
            if wanted and entry.kind not in wanted and entry.type.split(".")[0] not in wanted:
                continue
            if (start and entry.at < start) or (end and entry.at > end):
                continue
            entries.append(entry)
        entries.sort(key=lambda e: (e.at, _event_number(e.event_id)))
        return entries[-limit:] if limit else ([] if limit == 0 else entries)

    @staticmethod
    def _check_kinds(kinds: Iterable[str] | None) -> set[str]:
        if kinds is None:
            return set()
        if isinstance(kinds, str):
            kinds = [kinds]
        known = {e.kind for e in ENTITIES.values()} | {"lifecycle", "contact"}
        result = set()
        for kind in kinds:
            text = str(kind).strip().lower()
            text = ENTITIES[text].kind if text in ENTITIES else text
            if text not in known:
                raise ValidationError("kind", kind, f"must be one of {', '.join(sorted(known))}")
            result.add(text)
        return result

    def _records(self, events: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
        """The current documents of the records the events are about (deleted ones are missing)."""
        wanted: dict[str, list[str]] = {}
        for event in events:
            record_id = event.get("record_id", "")
            entity = by_prefix(record_id.split("-")[0]) if isinstance(record_id, str) else None
            if entity is not None:
                wanted.setdefault(entity.name, []).append(record_id)
        found = {}
        for collection, ids in wanted.items():
            unique = list(dict.fromkeys(ids))
            for begin in range(0, len(unique), BATCH):
                for doc in self.crm.storage.get_many(collection, unique[begin : begin + BATCH]):
                    found[doc["id"]] = doc
        return found

    # -- time nodes ---------------------------------------------------------------------

    def time_nodes(self, customer_id: str | int) -> dict[str, datetime]:
        """The first time the customer reached each node, in time order.

        Nodes are the customer's creation (``created``), every lifecycle stage
        under its own name (``lead``, ``customer``, ``churned`` in the generic
        profile), and the nodes record types mark (see ``Entity.nodes`` in
        :mod:`crmkit.entities`): ``first_contact``, ``first_ticket``, and with
        deals, contracts, orders and surveys ``first_deal``,
        ``contract_signed``, ``first_purchase``, ``repeat_purchase``,
        ``last_survey``. A node not reached is left out.
        """
        customer = self.crm.customers.get(customer_id)
        doc = self.crm.storage.get("customers", customer.id)
        return self._time_nodes([doc] if doc else [], few=True).get(customer.id, {})

    def all_time_nodes(self, where: str | Filter | None = None) -> dict[str, dict[str, datetime]]:
        """:meth:`time_nodes` of every customer matching ``where``, by customer id, in one pass per record type."""
        customers = self.crm.customers.find_documents(where)
        return self._time_nodes(customers, few=where is not None)

    def _time_nodes(self, customers: Sequence[Mapping[str, Any]], *, few: bool) -> dict[str, dict[str, datetime]]:
        """The time nodes of these customer documents; ``few``: ask the store for their records by customer id."""
        nodes: dict[str, dict[str, datetime]] = {}
        for doc in customers:
            mine = nodes.setdefault(doc["id"], {})
            if doc.get("created_at"):
                mine["created"] = parse_datetime(doc["created_at"])
            for change in doc.get("stage_history") or ():
                mine.setdefault(change["to_stage"], parse_datetime(change["at"]))
        # A few customers: ask the store for theirs; many: one scan, filtered here.
        ids = list(nodes) if few and len(nodes) <= BATCH else []
        present = set(self.crm.storage.collections()) if nodes else set()  # record types with records
        for entity in ENTITIES.values():
            if entity.owner is not None and entity.nodes and entity.name in present:
                self._entity_nodes(entity, ids, nodes)
        return {cid: dict(sorted(found.items(), key=lambda item: item[1])) for cid, found in nodes.items()}

    def _entity_nodes(self, entity: Entity, ids: list[str], nodes: dict[str, dict[str, datetime]]) -> None:
        service = entity.service(self.crm)
        owner = entity.owner
        assert owner is not None
        for node in entity.nodes:
            field = node.field or entity.time_field
            parts: list[Filter] = [In((owner,), tuple(ids))] if ids else []
            if node.where:
                parts.append(service.compile_where(node.where))  # type: ignore[arg-type]
            where = None if not parts else parts[0] if len(parts) == 1 else And(tuple(parts))
            times: dict[str, list[str]] = {}
            for doc in self.crm.storage.scan(entity.name, where):
                if doc.get(owner) in nodes and doc.get(field):
                    times.setdefault(doc[owner], []).append(doc[field])
            index = {"first": 0, "second": 1, "last": -1}[node.pick]
            for cid, values in times.items():
                if index < len(values):
                    values.sort()
                    nodes[cid][node.name] = _as_time(values[index])

    def durations(self, start: str, end: str, *, where: str | Filter | None = None) -> NodeDurations:
        """How many days customers matching ``where`` took from node ``start`` to node ``end``."""
        for field, value in (("start", start), ("end", end)):
            if not isinstance(value, str) or not value.strip():
                raise ValidationError(field, value, "must name a time node, like lead or first_purchase")
        start, end = start.strip(), end.strip()
        known = self.node_names()
        for field, value in (("start", start), ("end", end)):
            if value not in known:
                raise ValidationError(field, value, f"is not a time node; known: {', '.join(known)}")
        days = []
        missing = 0
        for cid, found in self.all_time_nodes(where).items():
            if start not in found:
                continue
            if end not in found or found[end] < found[start]:
                missing += 1
                continue
            days.append((cid, (found[end] - found[start]).total_seconds() / 86400))
        return NodeDurations(start=start, end=end, days=days, missing_end=missing)

    def node_names(self) -> list[str]:
        """Every time node this store's profile and record types can mark."""
        names = ["created", *self.crm.profile.stage_names]
        names += [node.name for e in ENTITIES.values() for node in e.nodes]
        return list(dict.fromkeys(names))


def _as_time(value: str) -> datetime:
    if len(value) == 10:  # a date field: the node is reached at the start of that day (UTC)
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=timezone.utc)
    return parse_datetime(value)


def _event_number(event_id: str) -> int:
    try:
        return int(event_id.split("-")[1])
    except (IndexError, ValueError):
        return 0


def _entry(event: Mapping[str, Any], doc: Mapping[str, Any] | None) -> TimelineEntry:
    record_id = event.get("record_id", "")
    entity = by_prefix(record_id.split("-")[0]) if isinstance(record_id, str) else None
    changes = event.get("changes") or {}
    kind = entity.kind if entity else "contact" if record_id.startswith("P-") else "record"
    at = parse_datetime(event.get("effective_at") or event["at"])
    creation = entity is not None and event.get("type") == entity.created_event
    if creation and entity is not None:
        # Imported or backdated history: the record's own time, not when it was written here.
        stamp = (doc or {}).get(entity.time_field) or (changes.get(entity.time_field) or [None, None])[1]
        if isinstance(stamp, str) and stamp:
            at = _as_time(stamp)
    title = ""
    for field in entity.title_fields if entity else ():
        # A deleted record: its last values are in the deletion event (or the first change that set them).
        source = doc if doc is not None else {k: v[1] if v[1] is not None else v[0] for k, v in changes.items()
                                              if isinstance(v, list) and len(v) == 2}
        value = source.get(field)
        if value not in (None, "", []):
            title = str(value)
            break
    detail = []
    if not creation:
        for field in SPELLED_OUT:
            if field in changes and isinstance(changes[field], list):
                old, new = changes[field]
                detail.append(f"{field} {old or '-'} -> {new}")
        others = sorted(k for k in changes if k not in SPELLED_OUT and k not in ("updated_at", "version"))
        if others and event.get("type", "").endswith((".updated", ".edited")):
            detail.append(f"changed {', '.join(others)}")
    if event.get("note"):
        detail.append(str(event["note"]))
    return TimelineEntry(at=at, kind=kind, type=event.get("type", ""), record_id=record_id, title=title,
                         detail="; ".join(detail), actor=event.get("actor", ""), event_id=event.get("id", ""))


__all__ = ["NodeDurations", "TimelineEntry", "TimelineService"]
