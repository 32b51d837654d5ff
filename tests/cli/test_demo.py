"""``crmkit demo`` and the library function behind it, ``crmkit.demo.build_demo``."""

from __future__ import annotations

import csv
import tempfile
from datetime import UTC, datetime

import pytest

import crmkit
from crmkit.demo import build_demo
from crmkit.models import TicketStatus, to_doc


def test_demo_command_builds_a_store_and_takes_the_tour(cli, tmp_path, open_store, check):
    folder = tmp_path / "demo"
    result = check.ok(cli("demo", "--dir", str(folder), db=None))
    store = folder / "crm.json"
    crm = open_store(store)
    assert crm.customers.count() >= 40 and crm.tickets.overdue()
    out = result.stdout
    for command in ("customer list --limit 10", "customer show C-1", "ticket list --overdue",
                    f"export customers --format csv -o {folder / 'customers.csv'}"):
        assert f"$ crmkit --db {store} {command}" in out, command
    assert "Northwind Traders (C-1)" in out and "Open tickets" in out and "OVERDUE" in out
    assert f"crmkit --db {store} customer list" in out.splitlines()[-1]
    rows = list(csv.DictReader((folder / "customers.csv").open(encoding="utf-8")))
    assert len(rows) == crm.customers.count()
    # Nothing outside the demo folder: no crmkit.toml here, no default store in the home directory.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "demo", "home"]
    assert not list((tmp_path / "home").rglob("*.json"))


def test_demo_without_dir_uses_a_new_temporary_folder(cli, tmp_path, monkeypatch, check):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    check.ok(cli("demo", db=None))
    made = [p for p in tmp_path.iterdir() if p.name.startswith("crmkit-demo-")]
    assert len(made) == 1 and (made[0] / "crm.json").is_file()


def test_demo_refuses_a_folder_with_a_store(cli, tmp_path, check):
    check.ok(cli("demo", "--dir", str(tmp_path / "demo"), db=None))
    check.failed(cli("demo", "--dir", str(tmp_path / "demo"), db=None), 1, "already holds a crmkit store")


def test_build_demo_covers_the_whole_model(crm):
    summary = build_demo(crm)
    assert (summary.customers, summary.interactions, summary.tickets) == (40, 120, 30)
    assert summary.overdue == len(crm.tickets.overdue()) > 0
    tickets = crm.tickets.find()
    assert {t.status for t in tickets} == set(TicketStatus)
    assert any(t.sla_paused_since for t in tickets) and any(t.reopen_count for t in tickets)
    assert any(t.satisfaction for t in tickets) and any(t.steps for t in tickets)
    customers = crm.customers.find()
    assert {c.kind.value for c in customers} == {"person", "company"}
    assert all(p.startswith("+") for c in customers for p in c.phones)
    assert any(c.contacts for c in customers) and any(c.fields for c in customers)
    moves = [(s.from_stage, s.to_stage) for c in customers for s in c.stage_history]
    order = crm.profile.stage_names
    assert any(to == "churned" for _, to in moves)  # churn
    assert any(frm == "churned" for frm, _ in moves)  # won back
    assert any(frm and order.index(to) < order.index(frm) and to != "churned" for frm, to in moves)  # a step back
    now = crm.now()
    interactions = crm.interactions.find()
    assert {i.channel.value for i in interactions} >= {"phone", "email", "meeting", "visit"}
    assert all(0 <= (now - i.occurred_at).days <= 60 for i in interactions)
    featured = crm.customers.overview(summary.featured)
    assert featured.open_tickets and featured.customer.contacts and len(featured.time_nodes) >= 4


def test_build_demo_is_deterministic(pm):
    def build() -> list[dict]:
        clock = lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        with crmkit.open("memory://", pm=pm, clock=clock) as crm:
            build_demo(crm)
            return [to_doc(r) for service in (crm.customers, crm.interactions, crm.tickets) for r in service.find()]

    assert build() == build()


def test_build_demo_needs_an_empty_store(crm):
    crm.customers.add("Someone")
    with pytest.raises(crmkit.ValidationError, match="empty store"):
        build_demo(crm)


def test_demo_profile_uses_the_profiles_own_sample_data_and_tour(tmp_path):
    import attrs
    from click.testing import CliRunner

    from crmkit import hookimpl
    from crmkit.cli import build_cli
    from crmkit.demo import DemoSummary
    from crmkit.plugins import make_plugin_manager
    from crmkit.profiles.generic import GENERIC

    def shop_demo(crm):
        crm.customers.add_many([{"name": f"Shopper {n}"} for n in range(3)])
        return DemoSummary(customers=3, interactions=0, tickets=0, overdue=0, featured="C-2")

    shop = attrs.evolve(GENERIC, name="shop", title="Shop", demo=shop_demo, demo_tour=(("profiles",),))

    class ShopPlugin:
        @hookimpl
        def crmkit_profiles(self):
            return [shop]

    folder = tmp_path / "demo"
    result = CliRunner().invoke(build_cli(make_plugin_manager(entrypoints=False, extra=[ShopPlugin()])),
                                ["demo", "--profile", "shop", "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Shopper 1 (C-2)" in result.stdout and f"$ crmkit --db {folder / 'crm.json'} profiles" in result.stdout
    with crmkit.open(folder / "crm.json", pm=make_plugin_manager(entrypoints=False, extra=[ShopPlugin()])) as crm:
        assert crm.profile.name == "shop" and crm.customers.count() == 3


def test_demo_has_sales_service_and_marketing_records_that_check_clean(tmp_path):
    from crmkit import maintenance
    from crmkit.plugins import make_plugin_manager

    crm = crmkit.open(tmp_path / "demo.json", pm=make_plugin_manager(entrypoints=False))
    summary = build_demo(crm)
    assert (summary.deals, summary.orders) == (24, 60) and summary.tasks > 8 and summary.feedback == 14
    statuses = {d.status.value for d in crm.deals.find()}
    assert statuses == {"open", "won", "lost"}
    assert [c.status.value for c in crm.contracts.find()] == ["active"]
    assert {o.status.value for o in crm.orders.find()} >= {"shipped", "returned", "cancelled"}
    assert crm.deals.pipeline() and crm.feedback.nps().responses == 10
    members = crm.campaign_members.find()
    assert members and all(crm.customers.get(m.customer_id).consent.email for m in members)
    assert "first_purchase" in crm.timeline.time_nodes("C-1")
    assert maintenance.check(crm) == []
    crm.close()
