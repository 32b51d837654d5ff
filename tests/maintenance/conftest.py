"""Fixtures for the maintenance tests: a store with a bit of everything, target URLs on every backend.

Test modules are imported in importlib mode, so shared helpers come as fixtures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import crmkit
from crmkit.plugins import PluginManager, make_plugin_manager
from crmkit.registry import registry

#: Backends with files that a test can create under tmp_path; sqlite joins when its plugin is built in.
FILE_BACKENDS = [name for name in ("tinydb", "sqlite")
                 if name in registry(make_plugin_manager(entrypoints=False), "backend")]
_SUFFIX = {"tinydb": "json", "sqlite": "db"}


class Clock:
    """Time that moves a minute per call, so events and records have distinct, predictable times."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        from datetime import timedelta

        self.now += timedelta(minutes=1)
        return self.now


def fill(crm: crmkit.CRM) -> crmkit.CRM:
    """Give a store a bit of everything: contacts, lifecycle moves, tickets in every state, links, deletions."""
    ann = crm.customers.add("Ann Lee", emails=["ann@example.com"], phones=["+4722334455"], tags=["vip"],
                            contacts=[{"name": "Bo", "email": "bo@example.com"}], fields={"note": "ünïcode ✓"})
    bob = crm.customers.add("Bob Stone", kind="company", emails=["bob@example.org"], address={"city": "Oslo"})
    gone = crm.customers.add("Gone Soon", emails=["gone@example.com"])
    crm.customers.add_contact(ann.id, "Cy", email="cy@example.com", primary=True)
    crm.lifecycle.move(ann.id, "customer")
    crm.customers.update(bob.id, add_tags=["b2b"], notes="long text " * 200)
    t1 = crm.tickets.open(ann.id, "Printer jams", priority="high")
    crm.tickets.step(t1.id, "Called back", result="waiting for part")
    t2 = crm.tickets.open(bob.id, "Invoice wrong")
    crm.tickets.resolve(t2.id, "Sent a credit note")
    crm.tickets.rate(t2.id, 5, comment="quick")
    crm.interactions.log(ann.id, "phone", "About the printer", ticket_id=t1.id, direction="outbound")
    crm.interactions.log(bob.id, "email", "Invoice question")
    crm.tickets.open(gone.id, "Will be deleted")
    crm.interactions.log(gone.id, "visit", "Also deleted")
    crm.customers.delete(gone.id, cascade=True)
    crm.customers.add_many([{"name": f"Bulk {n}", "emails": [f"bulk{n}@example.com"]} for n in range(30)])
    return crm


@pytest.fixture
def populated(pm: PluginManager, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[crmkit.CRM]:
    """A filled store on memory or tinydb (parametrize indirectly with ``memory``/``tinydb``; default tinydb)."""
    backend = getattr(request, "param", "tinydb")
    url = "memory://" if backend == "memory" else str(tmp_path / "source.json")
    with crmkit.open(url, pm=pm, clock=Clock(), region="NO") as crm:
        yield fill(crm)


@pytest.fixture
def new_url(tmp_path: Path) -> Callable[[str], str]:
    """``new_url("sqlite")``: a fresh store URL of that backend under ``tmp_path`` on every call."""
    counter = iter(range(1, 10_000))

    def make(backend: str) -> str:
        return f"{backend}://{tmp_path / f'target-{next(counter)}.{_SUFFIX[backend]}'}"

    return make


def snapshot(storage: Any) -> dict[str, Any]:
    """Everything a store holds, in order: documents per collection, settings, id counters."""
    return {
        "docs": {name: storage.scan(name) for name in sorted(storage.collections())},
        "meta": storage.all_meta(),
        "counters": {k: v for k, v in storage.counters().items() if v},
    }


def digest(path: Path) -> tuple[str, int] | None:
    """A file's SHA-256 and mtime, or None: to prove a file was not touched."""
    if not path.exists():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@pytest.fixture(name="snapshot")
def snapshot_fixture() -> Callable[[Any], dict[str, Any]]:
    """The :func:`snapshot` helper."""
    return snapshot


@pytest.fixture(name="digest")
def digest_fixture() -> Callable[[Path], tuple[str, int] | None]:
    """The :func:`digest` helper."""
    return digest


@pytest.fixture(name="fill")
def fill_fixture() -> Callable[[crmkit.CRM], crmkit.CRM]:
    """The :func:`fill` helper."""
    return fill


@pytest.fixture(params=FILE_BACKENDS)
def file_backend(request: pytest.FixtureRequest) -> str:
    """Each backend that keeps files (tinydb, and sqlite once it is built in)."""
    name: str = request.param
    return name
