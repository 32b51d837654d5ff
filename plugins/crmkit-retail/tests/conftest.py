"""Fixtures: a plugin manager with only the built-ins and this plugin, retail stores, an isolated environment."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

import crmkit
import crmkit_retail
from crmkit.plugins import make_plugin_manager

#: The clock of library tests: a fixed Monday noon.
NOW = datetime(2025, 6, 30, 12, 0, tzinfo=timezone.utc)

pytest_plugins = ["crmkit.testing"]


@pytest.fixture(autouse=True)
def isolated_env(crmkit_env, monkeypatch, tmp_path):
    """No store, config or user from the developer's machine (crmkit.testing), in tmp_path."""
    monkeypatch.setenv("CRMKIT_USER", "tester")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def pm():
    return make_plugin_manager(entrypoints=False, extra=[crmkit_retail])


@pytest.fixture
def crm(pm):
    store = crmkit.open("memory://", profile="retail", pm=pm, clock=lambda: NOW)
    yield store
    store.close()


@pytest.fixture
def generic(pm):
    store = crmkit.open("memory://", profile="generic", pm=pm, clock=lambda: NOW)
    yield store
    store.close()


def _consent(on="2024-01-15", source="checkout", **channels):
    return {"consent": channels or {"email": True}, "fields": {"consent_date": on, "consent_source": source}}


def _buy(crm, customer_id, *days_ago, total=50.0, currency="EUR"):
    now = crm.now()
    return crm.orders.add_many([{"customer_id": customer_id, "total": total, "currency": currency,
                                 "at": now - timedelta(days=d), "status": "paid"} for d in days_ago])


@pytest.fixture
def consent():
    """``consent(on=, source=, **channels)``: customer keywords giving marketing consent with its proof."""
    return _consent


@pytest.fixture
def buy():
    """``buy(crm, customer_id, *days_ago, total=, currency=)``: one order per number of days before now."""
    return _buy


@pytest.fixture
def store_path(pm, tmp_path):
    """A retail store on disk (real clock), for the command line."""
    path = tmp_path / "shop.json"
    crmkit.init(str(path), "retail", pm=pm).close()
    return path


@pytest.fixture
def cli(pm, store_path):
    """Run ``crmkit --db STORE ARGS`` with this plugin manager; returns click's Result (stderr kept apart)."""
    from crmkit.cli import build_cli

    def run(*args, db=store_path):
        argv = ["--db", str(db), *args] if db is not None else list(args)
        return CliRunner().invoke(build_cli(pm), argv, catch_exceptions=False)

    return run


def _one_line_error(result, *words):
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def one_line_error():
    """``one_line_error(result, *words)``: exit 1 and one line on stderr naming ``words``."""
    return _one_line_error
