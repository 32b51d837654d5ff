"""Fixtures: an isolated environment, a controllable clock, and a store with the realestate profile."""

import pytest

import crmkit
import crmkit_realestate
from crmkit.plugins import make_plugin_manager

pytest_plugins = ["crmkit.testing"]


@pytest.fixture(autouse=True)
def isolated_env(crmkit_env, monkeypatch, tmp_path):
    """No developer store, settings or user (crmkit.testing); work in tmp_path, so no crmkit.toml is left behind."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def clock(crmkit_clock):
    """Monday 2 March 2026, 09:00 UTC (crmkit.testing)."""
    return crmkit_clock


@pytest.fixture
def pm():
    """Built-ins plus this plugin only, whatever else is installed."""
    return make_plugin_manager(entrypoints=False, extra=[crmkit_realestate])


@pytest.fixture
def crm(pm, tmp_path, clock):
    with crmkit.open(tmp_path / "crm.json", "realestate", pm=pm, actor="tester", clock=clock) as crm:
        yield crm
