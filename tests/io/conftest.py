"""Fixtures for the import/export tests: built-ins-only stores, a UTC clock, the shared datasets."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import crmkit
from crmkit.plugins import make_plugin_manager

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC, so naive times in test data mean the same everywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def pm():  # type: ignore[no-untyped-def]
    return make_plugin_manager(entrypoints=False)


def ticking_clock(start: datetime = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)) -> Callable[[], datetime]:
    """A clock that moves one minute per call: distinct, repeatable timestamps."""
    counter = itertools.count()
    return lambda: start + timedelta(minutes=next(counter))


@pytest.fixture
def crm(pm):  # type: ignore[no-untyped-def]
    store = crmkit.open("memory://", pm=pm, actor="tester", clock=ticking_clock())
    yield store
    store.close()


@pytest.fixture
def open_tinydb(tmp_path: Path, pm):  # type: ignore[no-untyped-def]
    """Open (creating) a tinydb store under tmp_path by name."""
    opened = []

    def opener(name: str = "crm.json", **kwargs):  # type: ignore[no-untyped-def]
        store = crmkit.open(f"tinydb:///{tmp_path / name}", pm=pm, actor="tester", **kwargs)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.close()


@pytest.fixture
def datasets() -> Path:
    if not DATASETS.is_dir():
        pytest.skip(f"shared datasets not found at {DATASETS}")
    return DATASETS


@pytest.fixture(name="populate")
def populate_fixture() -> Callable[[crmkit.CRM], dict[str, str]]:
    """``populate(crm)`` fills a store with a bit of everything (see :func:`populate`)."""
    return populate


def populate(crm: crmkit.CRM) -> dict[str, str]:
    """A small store with every kind of value the exporters must carry."""
    ann = crm.customers.add(
        "Ann Lee", emails=["ann@example.com", "ann.lee@work.example"], phones=["+4722334455"],
        tags=["vip", "newsletter"], fields={"loyalty_points": 120, "shoe_size": "42"},
        address={"street": "Storgata 1", "city": "Oslo", "postal_code": "0155", "country": "NO"},
        consent={"email": True, "sms": False}, external_ids={"salesforce": "003Ec00000CyOT7IAN"},
        contacts=[{"name": "Bob Lee", "email": "bob@example.com", "role": "spouse", "primary": True}],
        notes="Prefers mornings.\nSecond line, with \"quotes\"; and a semicolon.",
        company="=HYPERLINK(\"http://evil\")", title="-manager",
    )
    crm.lifecycle.move(ann.id, "customer", reason="first order")
    bjorn = crm.customers.add(
        "Bjørn Ødegård", kind="company", emails=["post@ødegård.example"], tags=["@partner"],
        fields={"vat": "NO123", "loyalty_points": -12.5}, external_ids={"hubspot": "77"},
        phones=["+4798765432"], industry="Fiskeri", source="+referral",
    )
    chen = crm.customers.add("陈伟", emails=["chen@example.cn"], title="\tTabbed")
    ticket = crm.tickets.open(ann.id, "Printer jams", category="complaint", priority="high",
                              description="Paper stuck\nin tray 2", channel="email")
    crm.tickets.step(ticket.id, "Called back", result="asked for photo", staff="kim")
    crm.tickets.assign(ticket.id, "kim", department="support")
    crm.tickets.resolve(ticket.id, "Replaced the drum", effect="prints again")
    crm.tickets.rate(ticket.id, 5, comment="Quick!")
    open_ticket = crm.tickets.open(bjorn.id, "=1+1 invoice question", priority="low")
    crm.interactions.log(ann.id, "phone", "Asked about =SUM(A1)", direction="outbound", ticket_id=ticket.id,
                         topics=["printer", "warranty"], attendees=["Ann", "Kim"], follow_up_on="2024-04-01")
    crm.interactions.log(chen.id, "email", "Welcome mail", outcome="opened", at="2024-02-01T10:00")
    crm.interactions.log(bjorn.id, "meeting", "Quarterly review", location="Bergen", staff="kim")
    crm.customers.update(bjorn.id, add_tags=["key account"])
    return {"ann": ann.id, "bjorn": bjorn.id, "chen": chen.id, "ticket": ticket.id, "open_ticket": open_ticket.id}
