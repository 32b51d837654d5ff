"""Fixtures: an isolated environment, a controllable clock, and a store with the realestate profile."""

from datetime import datetime, timedelta, timezone

import pytest

import crmkit
import crmkit_realestate
from crmkit.plugins import make_plugin_manager

pytest_plugins = ["crmkit.testing"]


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """No developer store, no other installed plugins, no real home directory, no crmkit.toml left behind."""
    for name in ("CRMKIT_DB", "CRMKIT_PLUGINS", "CRMKIT_DISABLE_PLUGINS", "CRMKIT_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)


class Clock:
    """A clock the tests move by hand."""

    def __init__(self):
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def pm():
    """Built-ins plus this plugin only, whatever else is installed."""
    return make_plugin_manager(entrypoints=False, extra=[crmkit_realestate])


@pytest.fixture
def crm(pm, tmp_path, clock):
    with crmkit.open(tmp_path / "crm.json", "realestate", pm=pm, actor="tester", clock=clock) as crm:
        yield crm
