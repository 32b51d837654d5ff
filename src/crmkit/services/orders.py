"""Orders: the transaction history, with payment, shipping, returns and cancellations.

Bulk first: :meth:`OrderService.add_many` is the path every creation takes
(``add``, ``crmkit import --type orders``) and costs no query per row: the
customers of a whole batch are looked up with one ``get_many`` and the order
numbers with one ``In`` filter per 500.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from ..errors import TransitionError, ValidationError
from ..models.convert import format_datetime
from ..models.money import parse_amount, parse_currency
from ..models.order import Order, OrderItem, OrderStatus, items_total
from ..storage.query import In
from .base import BOOKKEEPING, Service, build, insert_records, normalize_id, save_record, stamp_new
from .normalize import parse_past, parse_when

S = OrderStatus
#: Which status a verb may move an order to, from which.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PLACED: frozenset({S.PAID, S.SHIPPED, S.CANCELLED}),
    S.PAID: frozenset({S.SHIPPED, S.RETURNED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.RETURNED}),  # paying a shipped order records paid_at; the status stays shipped
    S.RETURNED: frozenset(),
    S.CANCELLED: frozenset(),
}
#: Fields ``update`` may change; the status and its times change through the verbs.
EDITABLE = frozenset({"number", "ordered_at", "items", "total", "currency", "channel", "notes"})
_BATCH = 500


@attrs.frozen(kw_only=True)
class PurchaseSummary:
    """A customer's purchase figures, derived from their orders (never stored).

    Purchases are orders that are neither returned nor cancelled. Amounts
    are per currency, since a shop may sell in several: ``spend`` is the
    total, ``average_order_value`` the spend divided by that currency's
    purchase count. ``returned`` and ``cancelled`` count the orders left out.
    """

    customer_id: str
    purchases: int = 0
    spend: Mapping[str, float] = attrs.field(factory=dict)
    first_purchase_at: datetime | None = None
    last_purchase_at: datetime | None = None
    average_order_value: Mapping[str, float] = attrs.field(factory=dict)
    returned: int = 0
    cancelled: int = 0


class OrderService(Service[Order]):
    model = Order
    collection = "orders"
    kind = "order"
    aliases = {"customer": "customer_id", "at": "ordered_at", "date": "ordered_at", "amount": "total",
               "product": "items.product", "sku": "items.sku"}

    # -- creating ------------------------------------------------------------------

    def add(self, customer_id: str | int, *, items: Sequence[Any] = (), total: Any = None, **values: Any) -> Order:
        """Record an order and return it (event ``order.placed``).

        ``items`` are :class:`OrderItem`, dicts (product, sku, quantity,
        unit_price) or text ``"PRODUCT:QTY:PRICE[:SKU]"``; the total is derived
        from them. Without items give ``total``; with both they must agree to
        the cent. Keywords: ``currency`` (required), ``number`` (the shop's
        order number, unique), ``at``/``ordered_at`` (default now), ``channel``,
        ``notes``, ``status`` (for orders recorded after the fact).
        """
        row = {"customer_id": customer_id, "items": list(items), **values}
        if total is not None:
            row["total"] = total
        return self.add_many([row])[0]

    def add_many(self, rows: Iterable[Mapping[str, Any] | Order], *, keep_ids: bool = False) -> list[Order]:
        """Record many orders in one transaction (imports of transaction files); return them.

        Rows are what :meth:`add` takes, or Orders made by :meth:`build`.
        Customers and order numbers are checked for the whole batch at once.
        """
        with self.crm.transaction():
            records = [row if isinstance(row, Order) else self._build(row) for row in rows]
            self._check_customers(records)
            self._check_numbers(records)
            records = stamp_new(self.crm, records, keep_ids=keep_ids)
            insert_records(self.crm, self.kind, self.collection, records, "order.placed",
                           customer_of=lambda r: r.customer_id)
        return records

    def build(self, row: Mapping[str, Any]) -> Order:
        """Validate input values into an Order (not stored), checking its customer and number against the store.

        Importers call this per row, to report each bad row; :meth:`add_many`
        checks a whole batch with one lookup instead.
        """
        order = self._build(row)
        self._check_customers([order])
        self._check_numbers([order])
        return order

    def _build(self, row: Mapping[str, Any]) -> Order:
        values = dict(row)
        now = self.crm.now()
        if values.get("customer_id") in (None, ""):
            raise ValidationError("customer_id", values.get("customer_id"), "is required")
        values["customer_id"] = normalize_id("C", values["customer_id"], "customer_id")
        at = values.pop("at", None) or values.get("ordered_at") or now
        values["ordered_at"] = parse_past(at, now, "at")
        if values.get("currency") in (None, ""):
            raise ValidationError("currency", values.get("currency"), "is required (a code like EUR)")
        items = tuple(parse_item(item) for item in values.get("items") or ())
        values["items"] = items
        if values.get("total") in (None, ""):
            if not items:
                raise ValidationError("total", values.get("total"), "give the items or the total")
            values["total"] = items_total(items, parse_currency("currency", values["currency"]))
        return build(Order, values)

    # -- changing -------------------------------------------------------------------

    def update(self, order_id: str | int, *, expected_version: int | None = None, **changes: Any) -> Order:
        """Correct an order: number, ordered_at, items, total, currency, channel, notes (event ``order.updated``).

        New items without a total recompute the total.
        """
        for key in changes:
            if key not in EDITABLE:
                raise ValidationError("field", key, f"cannot be edited here; editable: {', '.join(sorted(EDITABLE))}"
                                                    " (the status changes through pay, ship, return and cancel)")
        with self.crm.transaction():
            old = self.get(order_id)
            merged = {k: getattr(old, k) for k in attrs.fields_dict(Order) if k not in BOOKKEEPING}
            if "items" in changes and "total" not in changes:
                merged.pop("total")
            if "ordered_at" in changes:
                merged.pop("ordered_at")
                changes["at"] = changes.pop("ordered_at")
            merged.update(changes)
            new = attrs.evolve(self._build(merged), id=old.id, created_at=old.created_at,
                               updated_at=old.updated_at, version=old.version)
            if new.number and new.number != old.number:
                self._check_numbers([new])
            return self._save(old, new, "order.updated", expected_version=expected_version)

    def pay(self, order_id: str | int, *, at: Any = None, note: str | None = None) -> Order:
        """Record the payment (``paid_at``). A shipped order keeps its status; others become ``paid``."""
        with self.crm.transaction():
            old = self.get(order_id)
            if old.paid_at is not None or old.status not in (S.PLACED, S.SHIPPED):
                raise TransitionError("status", old.status.value, f"{old.id} cannot be paid: it is {old.status}"
                                      + (" and was paid already" if old.paid_at else ""))
            when = self._when(at, old)
            status = S.SHIPPED if old.status is S.SHIPPED else S.PAID
            return self._save(old, attrs.evolve(old, status=status, paid_at=when), "order.paid", note=note,
                              effective_at=when)

    def ship(self, order_id: str | int, *, at: Any = None, note: str | None = None) -> Order:
        """Mark the order shipped (or handed over in the shop)."""
        return self._transition(order_id, S.SHIPPED, "order.shipped", "shipped_at", at, note)

    def return_(self, order_id: str | int, *, at: Any = None, reason: str | None = None) -> Order:
        """Record that the customer sent a paid or shipped order back; it no longer counts as a purchase."""
        return self._transition(order_id, S.RETURNED, "order.returned", "returned_at", at, reason)

    def cancel(self, order_id: str | int, *, at: Any = None, reason: str | None = None) -> Order:
        """Cancel an order that has not shipped; it no longer counts as a purchase."""
        return self._transition(order_id, S.CANCELLED, "order.cancelled", "cancelled_at", at, reason)

    # -- purchase figures -------------------------------------------------------------

    def summary(self, customer_id: str | int, *, as_of: Any = None) -> PurchaseSummary:
        """A customer's purchase count, spend and average order value per currency, first and last purchase."""
        cid = self.crm.customers.get(customer_id).id
        return self.summaries(as_of=as_of, customer_id=cid).get(cid) or PurchaseSummary(customer_id=cid)

    def summaries(self, where: Any = None, as_of: Any = None, **equals: Any) -> dict[str, PurchaseSummary]:
        """Purchase figures for every customer with orders, in one pass over the orders: ``{customer_id: summary}``.

        Customers come in id order.

        ``where`` (``--where`` text or a filter over orders, such as
        ``channel=web``) and keyword equalities narrow the orders counted;
        ``as_of`` counts only orders placed up to that time (their status is
        the current one). The recency/frequency/monetary inputs of an RFM report.
        """
        cutoff = None if as_of is None else parse_when(as_of, self.crm.now(), "as_of")
        totals: dict[str, dict[str, Any]] = {}
        for doc in self.find_documents(where, **equals):
            at = datetime.fromisoformat(doc["ordered_at"])
            if cutoff is not None and at > cutoff:
                continue
            entry = totals.setdefault(doc["customer_id"], {"n": 0, "spend": {}, "count": {}, "first": None,
                                                           "last": None, "returned": 0, "cancelled": 0})
            status = doc.get("status")
            if status in ("returned", "cancelled"):
                entry[status] += 1
                continue
            currency = doc["currency"]
            entry["n"] += 1
            entry["spend"].setdefault(currency, []).append(doc["total"])
            entry["count"][currency] = entry["count"].get(currency, 0) + 1
            entry["first"] = at if entry["first"] is None or at < entry["first"] else entry["first"]
            entry["last"] = at if entry["last"] is None or at > entry["last"] else entry["last"]
        ordered = sorted(totals, key=lambda cid: int(cid.split("-")[1]))
        return {cid: _summary(cid, totals[cid]) for cid in ordered}

    # -- internals ----------------------------------------------------------------------

    def _check_customers(self, records: Sequence[Order]) -> None:
        wanted = list(dict.fromkeys(r.customer_id for r in records))
        found = {doc["id"] for doc in self.storage.get_many("customers", wanted)} if wanted else set()
        for cid in wanted:
            if cid not in found:
                raise ValidationError("customer_id", cid, f"customer {cid} does not exist")

    def _check_numbers(self, records: Sequence[Order]) -> None:
        """Order numbers are unique: within the batch and against the store."""
        seen: dict[str, str] = {}
        for record in records:
            if record.number:
                if record.number in seen:
                    raise ValidationError("number", record.number, "appears twice in the orders being added")
                seen[record.number] = record.id
        numbers = list(seen)
        for start in range(0, len(numbers), _BATCH):
            chunk = tuple(numbers[start:start + _BATCH])
            for doc in self.storage.scan(self.collection, In(("number",), chunk)):
                if doc["id"] != seen[doc["number"]]:
                    raise ValidationError("number", doc["number"], f"is already the number of {doc['id']}")

    def _when(self, at: Any, order: Order) -> datetime:
        now = self.crm.now()
        when = parse_past(at, now)
        if when < order.ordered_at:
            raise ValidationError("at", at, f"is before {order.id} was placed ({format_datetime(order.ordered_at)})")
        return when

    def _transition(self, order_id: str | int, status: OrderStatus, event_type: str, stamp: str, at: Any,
                    note: str | None) -> Order:
        with self.crm.transaction():
            old = self.get(order_id)
            if status not in TRANSITIONS[old.status]:
                raise TransitionError("status", old.status.value, f"{old.id} cannot go from {old.status} to {status}")
            when = self._when(at, old)
            new = attrs.evolve(old, status=status, **{stamp: when})
            return self._save(old, new, event_type, note=note, effective_at=when)

    def _save(self, old: Order, new: Order, event_type: str, *, note: str | None = None,
              expected_version: int | None = None, effective_at: datetime | None = None) -> Order:
        return save_record(self.crm, self.kind, self.collection, old, new, event_type, customer_id=old.customer_id,
                           note=note, expected_version=expected_version, effective_at=effective_at)


def parse_item(value: Any) -> OrderItem:
    """An order line from an OrderItem, a dict, or text ``PRODUCT:QTY:PRICE`` / ``PRODUCT:QTY:PRICE:SKU``.

    The product name may itself contain colons: the numbers are read from the right.
    """
    if isinstance(value, OrderItem):
        return value
    if isinstance(value, Mapping):
        return build(OrderItem, dict(value))
    if not isinstance(value, str):
        raise ValidationError("item", value, "must be PRODUCT:QTY:PRICE or a mapping")
    parts = value.split(":")
    sku = None
    if len(parts) >= 4 and not _number(parts[-1]) and _number(parts[-2]):
        sku = parts.pop()
    if len(parts) < 3 or not _number(parts[-1]) or not _number(parts[-2]):
        raise ValidationError("item", value, "must be PRODUCT:QTY:PRICE[:SKU], like Widget:2:9.95")
    return build(OrderItem, {"product": ":".join(parts[:-2]).strip(), "quantity": parts[-2].strip(),
                             "unit_price": parts[-1].strip(), "sku": sku})


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _summary(cid: str, entry: dict[str, Any]) -> PurchaseSummary:
    spend = {c: _round(c, math.fsum(values)) for c, values in sorted(entry["spend"].items())}
    return PurchaseSummary(
        customer_id=cid, purchases=entry["n"], spend=spend,
        first_purchase_at=entry["first"], last_purchase_at=entry["last"],
        average_order_value={c: _round(c, total / entry["count"][c]) for c, total in spend.items()},
        returned=entry["returned"], cancelled=entry["cancelled"],
    )


def _round(currency: str, value: float) -> float:
    # The money module's rule (half to even on the decimal value), as every stored amount is rounded.
    return parse_amount("amount", value, currency=currency, negative=True) + 0.0  # + 0.0 turns -0.0 into 0.0


__all__ = ["EDITABLE", "TRANSITIONS", "OrderService", "PurchaseSummary", "parse_item"]
