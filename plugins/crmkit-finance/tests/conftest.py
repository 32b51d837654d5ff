"""Fixtures: an isolated environment, a controllable clock, a finance store and a CLI runner on it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

import crmkit
import crmkit_finance
from crmkit.cli import build_cli
from crmkit.plugins import make_plugin_manager

pytest_plugins = ["crmkit.testing"]


@pytest.fixture(autouse=True)
def isolated_env(crmkit_env):
    """No store, settings or user from the developer's machine (crmkit.testing)."""


@pytest.fixture
def clock(crmkit_clock):
    """Monday 2 March 2026, 09:00 in Oslo (08:00 UTC)."""
    crmkit_clock.set(datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc))
    return crmkit_clock


@pytest.fixture
def pm():
    return make_plugin_manager(entrypoints=False, extra=[crmkit_finance])


@pytest.fixture
def store(tmp_path):
    return tmp_path / "crm.json"


@pytest.fixture
def crm(pm, store, clock):
    with crmkit.open(store, "finance", pm=pm, actor="tester", clock=clock) as crm:
        yield crm


@pytest.fixture
def run(pm, store, crm):
    """Run ``crmkit --db STORE ARGS...`` on the same store as ``crm`` (made first, so it is a finance store)."""
    cli = build_cli(pm)

    def invoke(*args):
        return CliRunner().invoke(cli, ["--db", str(store), "--profile", "finance", *args])

    return invoke


@pytest.fixture
def add_customer(crm):
    """``add_customer(name, stage=..., approved_on=..., **fields)``: a customer with finance fields."""
    return lambda *args, **kwargs: make_customer(crm, *args, **kwargs)


def make_customer(crm, name="Kari Nordmann", *, stage=None, **fields):
    """A customer with finance fields; ``approved_on`` approves the KYC on that date first."""
    approved_on = fields.pop("approved_on", None)
    customer = crm.customers.add(name, fields=fields)
    if approved_on is not None:
        crmkit_finance.finance.approve_kyc(crm, customer.id, on=approved_on)
    if stage in ("kyc-pending", "active", "dormant"):
        crm.lifecycle.move(customer.id, "kyc-pending")
        if stage != "kyc-pending":
            crm.lifecycle.move(customer.id, "active")
        if stage == "dormant":
            crm.lifecycle.move(customer.id, "dormant")
    return crm.customers.get(customer.id)
