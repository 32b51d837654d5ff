from datetime import datetime, timedelta, timezone

import pytest

import crmkit
import crmkit_services
from crmkit.plugins import make_plugin_manager

pytest_plugins = ["crmkit.testing"]

ENV = ("CRMKIT_DB", "CRMKIT_PLUGINS", "CRMKIT_DISABLE_PLUGINS", "CRMKIT_USER", "CRMKIT_SERVICES_HOURS",
       "CRMKIT_SERVICES_TIMEZONE", "CRMKIT_SERVICES_HOLIDAYS")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TZ", "UTC")
    # The calendar is read from the nearest crmkit.toml: start from an empty folder.
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


class Clock:
    """Monday 2 March 2026, 09:00 UTC, unless moved."""

    def __init__(self):
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)

    def set(self, text):
        self.now = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def pm():
    return make_plugin_manager(entrypoints=False, extra=[crmkit_services])


@pytest.fixture
def crm(pm, tmp_path, clock):
    with crmkit.open(f"tinydb://{tmp_path / 'crm.json'}", "services", pm=pm, actor="tester", clock=clock) as crm:
        yield crm


@pytest.fixture
def memory_crm(pm, clock):
    with crmkit.open("memory://", "services", pm=pm, actor="tester", clock=clock) as crm:
        yield crm


@pytest.fixture
def customer():
    """``customer(crm, name, level, **fields)``: add a services customer (gold unless told)."""
    def add(crm, name="Acme Ltd", level="gold", **fields):
        return crm.customers.add(name, fields={"service_level": level, **fields} if level else fields)

    return add
