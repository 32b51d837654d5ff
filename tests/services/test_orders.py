"""Orders: totals from items, unique numbers, batch checks, status verbs, events and purchase summaries."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import pytest

import crmkit
from crmkit.errors import Conflict, TransitionError, ValidationError
from crmkit.models import OrderItem, OrderStatus
from crmkit.plugins import make_plugin_manager
from crmkit.services.orders import parse_item

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
CDNOW = DATASETS / "retail_transactions" / "lifetimes_CDNOW_master.txt"


def test_total_is_derived_from_items(crm, ann):
    order = crm.orders.add(ann.id, items=["Widget:2:9.95", {"product": "Cable", "quantity": 3, "unit_price": "1.10"},
                                          OrderItem(product="Coupon", unit_price=-2)], currency="eur")
    assert (order.total, order.currency, order.status) == (21.2, "EUR", OrderStatus.PLACED)
    assert [i.total for i in order.items] == [19.9, 3.3, -2.0]
    assert crm.orders.get(order.id) == order


def test_total_and_items_must_agree_to_the_cent(crm, ann):
    assert crm.orders.add(ann.id, items=["A:3:0.10"], total="0.30", currency="EUR").total == 0.3
    with pytest.raises(ValidationError, match="add up to 0.30") as err:
        crm.orders.add(ann.id, items=["A:3:0.10"], total="0.31", currency="EUR")
    assert err.value.field == "total"
    with pytest.raises(ValidationError, match="give the items or the total"):
        crm.orders.add(ann.id, currency="EUR")
    with pytest.raises(ValidationError, match="currency"):
        crm.orders.add(ann.id, total=5)
    with pytest.raises(ValidationError, match="no decimals"):
        crm.orders.add(ann.id, total="100.5", currency="JPY")


@pytest.mark.parametrize(("text", "product", "quantity", "price", "sku"), [
    ("Widget:2:9.95", "Widget", 2, 9.95, None),
    ("Cable: USB-C:1:4:SKU-9", "Cable: USB-C", 1, 4.0, "SKU-9"),
    (" Lamp :1:-3", "Lamp", 1, -3.0, None),
])
def test_item_text(text, product, quantity, price, sku):
    item = parse_item(text)
    assert (item.product, item.quantity, item.unit_price, item.sku) == (product, quantity, price, sku)


@pytest.mark.parametrize("text", ["Widget", "Widget:2", "Widget:two:1", "Widget:0:1", "Widget:1.5:1", ":1:1"])
def test_bad_item_text(text):
    with pytest.raises(ValidationError):
        parse_item(text)


def test_order_numbers_are_unique(crm, ann):
    crm.orders.add(ann.id, total=10, currency="EUR", number="1001")
    with pytest.raises(ValidationError, match="already the number of O-1"):
        crm.orders.add(ann.id, total=10, currency="EUR", number="1001")
    with pytest.raises(ValidationError, match="twice"):
        crm.orders.add_many([{"customer_id": ann.id, "total": 1, "currency": "EUR", "number": n} for n in "77"])
    second = crm.orders.add(ann.id, total=10, currency="EUR", number="1002")
    with pytest.raises(ValidationError, match="O-1"):
        crm.orders.update(second.id, number="1001")
    assert crm.orders.count() == 2


def test_unknown_customer_refuses_the_whole_batch(crm, ann):
    rows = [{"customer_id": ann.id, "total": 1, "currency": "EUR"}, {"customer_id": "C-99", "total": 1,
                                                                     "currency": "EUR"}]
    with pytest.raises(ValidationError, match="C-99 does not exist"):
        crm.orders.add_many(rows)
    assert crm.orders.count() == 0 and crm.events.count(type="order.placed") == 0


def test_add_many_looks_customers_up_once_per_batch(crm, ann, monkeypatch):
    bob = crm.customers.add("Bob")
    calls = defaultdict(int)
    storage = crm.storage
    for name in ("get", "get_many"):
        original = getattr(storage, name)
        monkeypatch.setattr(storage, name, lambda *a, _o=original, _n=name, **k: (calls.__setitem__(_n, calls[_n] + 1),
                                                                                  _o(*a, **k))[1])
    crm.orders.add_many([{"customer_id": cid, "total": i, "currency": "EUR", "number": str(i)}
                         for i, cid in enumerate([ann.id, bob.id] * 300)])
    assert calls["get"] == 0 and calls["get_many"] == 1
    assert crm.orders.count() == 600


def test_verbs_move_status_stamp_times_and_log_events(crm, ann, clock):
    order = crm.orders.add(ann.id, total=50, currency="EUR")
    clock.advance(hours=1)
    paid = crm.orders.pay(order.id, note="card")
    clock.advance(hours=1)
    shipped = crm.orders.ship(order.id)
    clock.advance(days=3)
    returned = crm.orders.return_(order.id, reason="too small")
    assert (paid.status, shipped.status, returned.status) == ("paid", "shipped", "returned")
    assert returned.paid_at < returned.shipped_at < returned.returned_at
    events = crm.events.for_record(order.id)
    assert [e.type for e in events] == ["order.placed", "order.paid", "order.shipped", "order.returned"]
    assert {e.customer_id for e in events} == {ann.id}
    assert events[3].note == "too small" and events[1].note == "card"
    with pytest.raises(TransitionError):
        crm.orders.cancel(order.id)


def test_paying_a_shipped_order_keeps_it_shipped(crm, ann):
    order = crm.orders.add(ann.id, total=5, currency="EUR")
    crm.orders.ship(order.id)
    paid = crm.orders.pay(order.id)
    assert paid.status == "shipped" and paid.paid_at is not None
    with pytest.raises(TransitionError, match="paid already"):
        crm.orders.pay(order.id)


@pytest.mark.parametrize(("steps", "verb"), [((), "return_"), (("ship",), "cancel"), (("cancel",), "pay"),
                                             (("cancel",), "ship")])
def test_moves_the_rules_forbid(crm, ann, steps, verb):
    order = crm.orders.add(ann.id, total=5, currency="EUR")
    for step in steps:
        getattr(crm.orders, step)(order.id)
    with pytest.raises(TransitionError):
        getattr(crm.orders, verb)(order.id)


def test_verb_times_cannot_precede_the_order_or_lie_ahead(crm, ann):
    order = crm.orders.add(ann.id, total=5, currency="EUR", at="2026-03-01T12:00:00+00:00")
    with pytest.raises(ValidationError, match="before O-1 was placed"):
        crm.orders.pay(order.id, at="2026-02-01")
    with pytest.raises(ValidationError, match="future"):
        crm.orders.pay(order.id, at="2027-01-01")


def test_update_recomputes_the_total_and_checks_versions(crm, ann):
    order = crm.orders.add(ann.id, items=["A:1:10"], currency="EUR")
    changed = crm.orders.update(order.id, items=["A:2:10"], notes="two after all", expected_version=1)
    assert (changed.total, changed.version) == (20.0, 2)
    assert crm.events.for_record(order.id)[-1].type == "order.updated"
    with pytest.raises(Conflict):
        crm.orders.update(order.id, notes="stale", expected_version=1)
    with pytest.raises(ValidationError, match="status"):
        crm.orders.update(order.id, status="paid")


def test_summaries_leave_out_returns_and_cancellations(crm, ann, clock):
    bob = crm.customers.add("Bob")
    crm.orders.add(ann.id, total=10, currency="EUR", at="2026-01-05T10:00:00+00:00")
    crm.orders.add(ann.id, total=25.5, currency="EUR", at="2026-02-01T10:00:00+00:00", channel="web")
    crm.orders.add(ann.id, total=100, currency="USD", at="2026-02-10T10:00:00+00:00")
    crm.orders.cancel(crm.orders.add(ann.id, total=999, currency="EUR", at="2026-02-20T10:00:00+00:00").id)
    crm.orders.add(bob.id, total=7, currency="EUR", at="2026-01-01T10:00:00+00:00")
    summary = crm.orders.summary(ann.id)
    assert (summary.purchases, dict(summary.spend), summary.cancelled) == (3, {"EUR": 35.5, "USD": 100.0}, 1)
    assert summary.first_purchase_at == datetime(2026, 1, 5, 10, tzinfo=timezone.utc)
    assert summary.last_purchase_at == datetime(2026, 2, 10, 10, tzinfo=timezone.utc)
    assert dict(summary.average_order_value) == {"EUR": 17.75, "USD": 100.0}
    everyone = crm.orders.summaries()
    assert list(everyone) == [ann.id, bob.id] and everyone[ann.id] == summary
    early = crm.orders.summaries(as_of="2026-01-31")
    assert (early[ann.id].purchases, early[bob.id].purchases) == (1, 1)
    assert list(crm.orders.summaries("channel=web")) == [ann.id]
    assert crm.orders.summary(bob.id, as_of="2025-01-01").purchases == 0


def test_a_customer_without_orders_has_an_empty_summary(crm, ann):
    summary = crm.orders.summary(ann.id)
    assert (summary.purchases, dict(summary.spend), summary.last_purchase_at) == (0, {}, None)


def _cdnow() -> list[tuple[str, datetime, float]]:
    rows = []
    for line in CDNOW.read_text().splitlines()[1:]:
        parts = line.split()
        if parts:
            rows.append((parts[0], datetime.strptime(parts[1], "%Y%m%d").replace(tzinfo=timezone.utc),
                         float(parts[3])))
    return rows


def test_cdnow_purchase_history_matches_the_file():
    """The real CDNOW transaction log (69,659 rows): every customer's figures equal the file's."""
    if not CDNOW.exists():
        pytest.skip(f"{CDNOW} is not here")
    rows = _cdnow()
    crm = crmkit.open("memory://", pm=make_plugin_manager(entrypoints=False),
                      clock=lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    ids = list(dict.fromkeys(r[0] for r in rows))
    with crm.transaction():
        customers = crm.customers.add_many([{"name": f"CDNOW {i}", "external_ids": {"cdnow": i}} for i in ids])
        by_file_id = {i: c.id for i, c in zip(ids, customers)}
        crm.orders.add_many([{"customer_id": by_file_id[cid], "ordered_at": at, "total": value, "currency": "USD"}
                             for cid, at, value in rows])
    expected: dict[str, list] = {}
    for cid, at, value in rows:
        entry = expected.setdefault(by_file_id[cid], [0, [], at, at])
        entry[0] += 1
        entry[1].append(value)
        entry[2], entry[3] = min(entry[2], at), max(entry[3], at)
    summaries = crm.orders.summaries()
    assert len(summaries) == len(ids) == 23570
    for cid, (count, values, first, last) in expected.items():
        got = summaries[cid]
        assert (got.purchases, got.first_purchase_at, got.last_purchase_at) == (count, first, last), cid
        assert got.spend["USD"] == round(math.fsum(values), 2), cid
    assert crm.orders.count() == len(rows) == 69659
