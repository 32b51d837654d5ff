"""crmkit.testing's fixtures for plugin authors: an isolated environment and a clock."""

import os
from datetime import datetime, timezone
from pathlib import Path

import crmkit
from crmkit.plugins import make_plugin_manager
from crmkit.testing import Clock, crmkit_clock, crmkit_env  # noqa: F401  (fixtures used by name)


def test_crmkit_env_hides_the_machines_setup(monkeypatch, tmp_path, request):
    monkeypatch.setenv("CRMKIT_DB", "/somewhere/else.json")
    monkeypatch.setenv("CRMKIT_USER", "developer")
    work = request.getfixturevalue("crmkit_env")  # after the variables above are set
    assert "CRMKIT_DB" not in os.environ and "CRMKIT_USER" not in os.environ
    assert Path.cwd() == work and not any(work.iterdir()) and os.environ["HOME"].startswith(str(tmp_path))


def test_clock_moves_only_when_told(crmkit_clock):
    crm = crmkit.open("memory://", pm=make_plugin_manager(entrypoints=False), clock=crmkit_clock)
    first = crm.customers.add("Ann").created_at
    crmkit_clock.advance(days=2)
    assert crm.customers.add("Bob").created_at - first == (crmkit_clock.now - first)
    crmkit_clock.set("2026-05-01T12:00")
    assert crmkit_clock() == datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
    assert Clock(datetime(2030, 1, 1, tzinfo=timezone.utc))().year == 2030


def test_plugin_settings_reads_a_plugins_table_of_the_nearest_crmkit_toml(tmp_path):
    import pytest

    from crmkit import ValidationError, plugin_settings

    assert plugin_settings("services", cwd=tmp_path) == ({}, None)
    (tmp_path / "crmkit.toml").write_text('[crmkit]\ndb = "crm.json"\n\n[services]\nhours = "mon-fri 08:00-16:00"\n')
    deeper = tmp_path / "a" / "b"
    deeper.mkdir(parents=True)
    assert plugin_settings("services", cwd=deeper) == ({"hours": "mon-fri 08:00-16:00"}, tmp_path / "crmkit.toml")
    assert plugin_settings("retail", cwd=deeper) == ({}, tmp_path / "crmkit.toml")
    (tmp_path / "crmkit.toml").write_text('services = 3\n')
    with pytest.raises(ValidationError) as err:
        plugin_settings("services", cwd=tmp_path)
    assert err.value.field == "[services]"
