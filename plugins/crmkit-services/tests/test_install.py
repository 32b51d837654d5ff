"""The installed distribution: its entry point registers the plugin and the profile."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import crmkit_services
from crmkit.cli import build_cli
from crmkit.plugins import make_plugin_manager


def test_the_entry_point_loads_the_plugin(monkeypatch):
    monkeypatch.setenv("CRMKIT_PLUGINS", "services")
    pm = make_plugin_manager()
    assert pm.get_plugin("services") is crmkit_services
    result = CliRunner().invoke(build_cli(pm), ["plugins", "--format", "json"])
    assert result.exit_code == 0, result.output
    [row] = [p for p in json.loads(result.output) if p["name"] == "services"]
    assert row["version"] == crmkit_services.__version__
    assert set(row["hooks"]) >= {"crmkit_profiles", "crmkit_validate_record", "crmkit_on_commit",
                                 "crmkit_register_commands", "crmkit_customer_sections"}
    profiles = CliRunner().invoke(build_cli(pm), ["profiles"])
    assert "services: Services" in profiles.output and "service_level" in profiles.output


def test_the_crmkit_command_knows_the_profile(tmp_path):
    crmkit_bin = Path(sys.executable).parent / "crmkit"
    if not crmkit_bin.exists():
        pytest.skip("the crmkit script is not installed next to this Python")
    env = {**os.environ, "HOME": str(tmp_path), "CRMKIT_PLUGINS": "services"}
    env.pop("CRMKIT_DB", None)
    db = str(tmp_path / "crm.json")
    subprocess.run([str(crmkit_bin), "--db", db, "init", "--profile", "services"], check=True, env=env,
                   cwd=tmp_path, capture_output=True)
    out = subprocess.run([str(crmkit_bin), "--db", db, "services", "renewals", "--format", "json"], check=True,
                         env=env, cwd=tmp_path, capture_output=True, text=True)
    assert json.loads(out.stdout) == []
