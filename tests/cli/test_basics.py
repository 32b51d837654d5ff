"""The command tree itself: version, help, plugins, profiles, init, store resolution, error handling."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import crmkit
from crmkit import ValidationError, hookimpl
from crmkit.cli import build_cli, main
from crmkit.config import CONFIG_NAME, read_config
from crmkit.plugins import DEFAULT_PLUGINS, make_plugin_manager


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        found.append(((*prefix, name), command))
        if isinstance(command, click.Group):
            found += _all_commands(command, (*prefix, name))
    return found


def test_version(cli, check):
    result = check.ok(cli("--version", db=None))
    assert result.stdout.strip() == f"crmkit, version {crmkit.__version__}"


def test_help_for_every_group_and_command(cli, pm, check):
    commands = _all_commands(build_cli(pm))
    names = {path for path, _ in commands}
    for expected in [("customer", "add"), ("contact", "remove"), ("interaction", "log"), ("ticket", "rate"),
                     ("lifecycle", "history"), ("export",), ("import",), ("plugins",), ("profiles",), ("demo",),
                     ("init",)]:
        assert expected in names
    assert check.ok(cli("--help", db=None)).stdout.startswith("Usage: crmkit")
    for path, command in commands:
        assert command.help, f"{' '.join(path)} has no help text"
        result = check.ok(cli(*path, "--help", db=None))
        assert f"Usage: crmkit {' '.join(path)}" in result.stdout


def test_help_touches_no_store(cli, tmp_path, check):
    check.ok(cli("customer", "--help", db=None))
    assert not (tmp_path / "home" / ".local").exists()


def test_plugins_lists_the_builtins_with_their_hooks(cli, check):
    result = check.ok(cli("plugins", "--format", "json", db=None))
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(DEFAULT_PLUGINS) <= set(rows)
    assert rows["crmkit.storage.tinydb"]["hooks"] == ["crmkit_storage_backends"]
    assert rows["crmkit.profiles.generic"]["hooks"] == ["crmkit_profiles"]
    assert all(rows[name]["builtin"] and rows[name]["version"] == crmkit.__version__ for name in DEFAULT_PLUGINS)
    table = check.ok(cli("plugins", db=None)).stdout
    assert "crmkit.io.csv_format" in table and "crmkit_exporters" in table


def test_profiles_shows_generic_stages_in_order(cli, pm, check):
    text = check.ok(cli("profiles", db=None)).stdout
    generic = crmkit.open("memory://", pm=pm).profile
    positions = [text.index(f"  {stage} ") for stage in generic.stage_names]
    assert positions == sorted(positions)
    assert "generic: Generic small business" in text
    assert "lead, qualified, opportunity, customer, churned" in text  # subscriber's allowed moves
    assert "complaint" in text and "urgent" in text


def test_init_creates_store_and_settings(cli, tmp_path, monkeypatch, open_store, check):
    shop = tmp_path / "shop"
    shop.mkdir()
    monkeypatch.chdir(shop)
    result = check.ok(cli("init", "--region", "NO", db=None))
    assert str(shop / "crm.json") in result.stdout
    assert read_config(shop / CONFIG_NAME) == {"db": "crm.json", "profile": "generic", "region": "NO"}
    crm = open_store(shop / "crm.json")
    assert crm.storage.exists() and crm.profile.name == "generic" and crm.region == "NO"
    # Later commands find the store through crmkit.toml, with the region for local numbers.
    check.ok(cli("customer", "add", "--name", "Kari", "--phone", "22 33 44 55", db=None))
    assert crm.customers.get("C-1").phones == ("+4722334455",)


def test_init_force_replaces_settings_but_never_a_store(cli, tmp_path, monkeypatch, check):
    monkeypatch.chdir(tmp_path)
    (tmp_path / CONFIG_NAME).write_text('[crmkit]\ndb = "old.json"\n')
    check.failed(cli("init", db=None), 1, CONFIG_NAME, "--force")
    assert not (tmp_path / "crm.json").exists()
    check.ok(cli("init", "--force", db=None))
    assert read_config(tmp_path / CONFIG_NAME)["db"] == "crm.json"


def test_store_resolution_order(cli, tmp_path, monkeypatch, open_store, check):
    project = tmp_path / "project"
    (project / "sub" / "deeper").mkdir(parents=True)
    (project / CONFIG_NAME).write_text('[crmkit]\ndb = "from-toml.json"\n')
    monkeypatch.chdir(project / "sub" / "deeper")
    check.ok(cli("customer", "add", "--name", "Toml", db=None))
    monkeypatch.setenv("CRMKIT_DB", str(tmp_path / "from-env.json"))
    check.ok(cli("customer", "add", "--name", "Env", db=None))
    check.ok(cli("customer", "add", "--name", "Option", db=str(tmp_path / "from-option.json")))
    for name, path in [("Toml", project / "from-toml.json"), ("Env", tmp_path / "from-env.json"),
                       ("Option", tmp_path / "from-option.json")]:
        assert [c.name for c in open_store(path).customers.find()] == [name]


def test_default_store_is_per_user(cli, tmp_path, check):
    check.ok(cli("customer", "add", "--name", "Default", db=None))
    stores = list((tmp_path / "home").rglob("crm.json"))
    assert len(stores) == 1


def test_user_option_names_the_actor(cli, open_store, check):
    check.ok(cli("--user", "maria", "customer", "add", "--name", "Ann"))
    assert open_store().events.for_record("C-1")[0].actor == "maria"


def test_plugin_commands_get_the_same_error_handling(pm, store_path, check):
    class Plugin:
        @hookimpl
        def crmkit_register_commands(self, cli):
            @cli.command("hello")
            def hello():
                """Say hello, then fail like the library does."""
                click.echo("hello")
                raise ValidationError("greeting", "hi", "is too short")

    pm.register(Plugin())
    result = CliRunner().invoke(build_cli(pm), ["hello"])
    assert result.stdout == "hello\n"
    check.failed(result, 1, "greeting", "too short")


def test_a_lazy_plugin_command_is_imported_when_run(pm, monkeypatch, tmp_path):
    import sys

    from crmkit.cli import lazy_command

    (tmp_path / "lazy_hello.py").write_text(
        "import click\n\n"
        "@click.group()\n"
        "def hello():\n"
        "    \"\"\"Greet people.\"\"\"\n\n"
        "@hello.command()\n"
        "def world():\n"
        "    click.echo('hello, world')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "lazy_hello", raising=False)

    class Plugin:
        @hookimpl
        def crmkit_register_commands(self, cli):
            cli.add_command(lazy_command("hello", "lazy_hello:hello", "Greet people."))

    pm.register(Plugin())
    cli = build_cli(pm)
    listed = CliRunner().invoke(cli, ["--help"]).stdout
    assert "  hello " in listed and "Greet people." in listed and "lazy_hello" not in sys.modules
    assert CliRunner().invoke(cli, ["hello", "world"]).stdout == "hello, world\n"
    assert CliRunner().invoke(cli, ["hello", "--help"]).stdout.count("world") == 1


def test_main_turns_plugin_errors_into_one_line(monkeypatch, capsys):
    def broken(**_kwargs):
        raise crmkit.PluginError("plugin 'x' failed to load: boom")

    monkeypatch.setattr("crmkit.plugins.make_plugin_manager", broken)
    with pytest.raises(SystemExit) as exit_info:
        main(["plugins"])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == "Error: plugin 'x' failed to load: boom\n"


def test_main_runs_the_cli(monkeypatch, capsys):
    monkeypatch.setattr("crmkit.plugins.make_plugin_manager", lambda: make_plugin_manager(entrypoints=False))
    main(["--version"])  # answered before plugins load, without SystemExit
    assert capsys.readouterr().out == f"crmkit, version {crmkit.__version__}\n"
    with pytest.raises(SystemExit) as exit_info:
        main(["plugins", "--format", "json"])
    assert exit_info.value.code == 0
    assert "crmkit.storage.tinydb" in capsys.readouterr().out


def test_store_is_closed_after_each_command(cli, store_path, monkeypatch, check):
    closed = []
    original = crmkit.CRM.close
    monkeypatch.setattr(crmkit.CRM, "close", lambda self: (closed.append(self), original(self)))
    check.ok(cli("customer", "list"))
    check.failed(cli("customer", "show", "C-9"), 1, "C-9")
    assert len(closed) == 2
    assert not Path(store_path).exists()  # reading never creates a store


def test_lazy_short_help_matches_each_command(pm):
    from crmkit.cli import BUILTIN_COMMANDS, load_command

    for name, (target, short_help) in BUILTIN_COMMANDS.items():
        command = load_command(target)
        assert command.name == name or name == "import"
        assert (command.help or "").startswith(short_help), name


def test_root_help_imports_no_command_module():
    import subprocess
    import sys

    code = ("import sys; from crmkit.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('crmkit.cli.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_relative_sqlite_path_in_crmkit_toml_is_beside_the_file(tmp_path, monkeypatch):
    import crmkit
    from crmkit.plugins import make_plugin_manager

    (tmp_path / "crmkit.toml").write_text('[crmkit]\ndb = "sqlite://crm.db"\n')
    sub = tmp_path / "sub"
    sub.mkdir()
    monkeypatch.chdir(sub)
    crm = crmkit.open(pm=make_plugin_manager(entrypoints=False))
    crm.customers.add("Ann")
    crm.close()
    assert (tmp_path / "crm.db").exists() and not (sub / "crm.db").exists()
