"""crmkit itself on a PostgreSQL store: the library, the plugin's registration, the command line."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys

import crmkit
import pytest
from crmkit.errors import Conflict, StorageError
from crmkit.plugins import make_plugin_manager
from crmkit.registry import registry

import crmkit_postgresql


@pytest.fixture
def pm():
    """Built-in plugins plus this one, whatever else is installed."""
    return make_plugin_manager(entrypoints=False, extra=[crmkit_postgresql])


def test_customers_tickets_and_lookups(url: str, pm) -> None:
    with crmkit.open(url, pm=pm, region="GB") as crm:
        ann = crm.customers.add("Ann Lee", emails=["Ann@Example.com"], phones=["0113 496 0101"], tags=["vip"],
                                address={"city": "Leeds"})
        bo = crm.customers.add("Bo Chen", email="bo@example.org", tier="gold")
        ticket = crm.tickets.open(ann.id, "Table leg is loose", category="complaint", priority="high")
        crm.tickets.step(ticket.id, "Sent a fitter", result="leg fixed", staff="sam")
        crm.tickets.resolve(ticket.id, "Tightened and glued the leg")
        crm.lifecycle.move(ann.id, "customer", reason="first order")
        assert [c.id for c in crm.customers.find("emails=ann@EXAMPLE.com")] == [ann.id]
        assert crm.customers.find_by_email("BO@example.org").id == bo.id  # type: ignore[union-attr]
        assert [c.name for c in crm.customers.find("tags~vip and address.city=leeds", sort="name")] == ["Ann Lee"]
        assert [t.status.value for t in crm.tickets.find(customer_id=ann.id)] == ["resolved"]
        types = [e.type for e in crm.events.for_customer(ann.id)]
        assert types[0] == "customer.created" and "ticket.resolved" in types and types[-1] == "lifecycle.changed"
        with pytest.raises(RuntimeError), crm.transaction():
            crm.customers.add("Never Stored", email="never@example.com")
            raise RuntimeError("roll back")
        assert crm.customers.find("emails=never@example.com") == []
    with crmkit.open(url, pm=pm) as again:  # another connection sees it all
        assert again.stats()["customers"] == 2 and again.profile.name == "generic"
        stale = again.customers.get(bo.id)
        again.customers.update(bo.id, tier="silver")
        with pytest.raises(Conflict):
            again.customers.update(bo.id, expected_version=stale.version, tier="bronze")


def test_init_refuses_an_existing_store(url: str, pm) -> None:
    crmkit.init(url, pm=pm).close()
    with pytest.raises(StorageError, match="already holds a crmkit store"):
        crmkit.init(url, pm=pm)


def test_the_backend_is_registered_under_both_schemes(pm) -> None:
    backends = registry(pm, "backend")
    assert {"postgresql", "postgres"} <= set(backends.names())
    assert backends.get("postgresql").open is crmkit_postgresql.open_postgresql


def test_importing_the_plugin_imports_no_attrs_model() -> None:
    import subprocess
    import sys

    # Every command imports the plugin (`crmkit --help` too): the backend spec is built when asked for.
    code = "import sys, crmkit_postgresql; print('crmkit.storage.base' in sys.modules, 'psycopg' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def _installed() -> bool:
    """Whether the distribution is installed with its entry point (crmkit finds it like a user's plugin)."""
    try:
        eps = importlib.metadata.distribution("crmkit-postgresql").entry_points
    except importlib.metadata.PackageNotFoundError:
        return False
    return any(ep.group == "crmkit" and ep.name == "postgresql" for ep in eps)


@pytest.mark.skipif(not _installed(), reason="crmkit-postgresql is not installed (pip install it)")
def test_installed_entry_point_and_the_command_line(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMKIT_PLUGINS", "postgresql")
    assert "postgresql" in registry(make_plugin_manager(), "backend")

    def crmkit_cli(*args: str) -> str:
        env = {**os.environ, "CRMKIT_DB": url}
        done = subprocess.run([sys.executable, "-m", "crmkit", *args], capture_output=True, text=True, env=env,
                              timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    new_id = crmkit_cli("customer", "add", "--name", "Lee Interiors", "--email", "hello@lee.example").strip()
    listed = json.loads(crmkit_cli("customer", "list", "--where", "email=HELLO@lee.example", "--format", "json"))
    assert [row["id"] for row in listed] == [new_id]
    plugins = crmkit_cli("plugins")
    assert "postgresql" in plugins
