import pytest

import crmkit
import crmkit_services
from crmkit.plugins import make_plugin_manager

pytest_plugins = ["crmkit.testing"]

ENV = ("CRMKIT_DB", "CRMKIT_PLUGINS", "CRMKIT_DISABLE_PLUGINS", "CRMKIT_USER", "CRMKIT_SERVICES_HOURS",
       "CRMKIT_SERVICES_TIMEZONE", "CRMKIT_SERVICES_HOLIDAYS")


@pytest.fixture(autouse=True)
def isolated_env(crmkit_env, monkeypatch):
    """No store, settings or user from the developer's machine; an empty folder, so no crmkit.toml
    (where the calendar is read from) is found above it."""
    for name in ENV:  # the plugin's own settings, besides crmkit's
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TZ", "UTC")
    return crmkit_env


@pytest.fixture
def clock(crmkit_clock):
    """Monday 2 March 2026, 09:00 UTC (crmkit.testing)."""
    return crmkit_clock


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
