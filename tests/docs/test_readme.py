"""The README's quick start and CLI tour work as written."""

from __future__ import annotations

import re
import shlex
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import crmkit
from crmkit.cli import build_cli
from crmkit.plugins import make_plugin_manager

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TEST_COMMAND = 'pip install -e ".[test]" && pytest'


def _commands(text: str) -> list[list[str]]:
    """The ``crmkit ...`` lines of the bash blocks in ``text``, split like a shell would."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "crmkit":
                commands.append(words[1:])
    return commands


def test_quick_start_is_exactly_two_commands(section) -> None:
    text = section(README, "Quick start")
    blocks = re.findall(r"```(\w*)\n(.*?)```", text, re.DOTALL)
    assert blocks == [("bash", "pip install . && crmkit demo\n"), ("bash", TEST_COMMAND + "\n")]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert TEST_COMMAND in ci.splitlines()


def test_quick_start_demo_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the demo's folder lands here
    monkeypatch.chdir(tmp_path)
    cli = build_cli(make_plugin_manager(entrypoints=False))
    result = CliRunner().invoke(cli, ["demo"], prog_name="crmkit")
    assert result.exit_code == 0, result.output
    (store,) = tmp_path.glob("crmkit-demo-*/crm.json")
    with crmkit.open(store) as crm:
        assert crm.customers.count() > 0 and crm.tickets.count() > 0
        # the demo's last step exported the customers
        assert len((store.parent / "customers.csv").read_text().splitlines()) == crm.customers.count() + 1
    assert not (tmp_path / "crmkit.toml").exists()


def test_cli_tour_runs_in_order(section, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    commands = _commands(section(README, "CLI tour"))
    assert len(commands) >= 20 and commands[0][0] == "init"
    shutil.copytree(ROOT / "examples", tmp_path / "examples")  # the tour imports the sample files
    monkeypatch.chdir(tmp_path)
    cli = build_cli(make_plugin_manager(entrypoints=False))
    runner = CliRunner()
    outputs = []
    for args in commands:
        result = runner.invoke(cli, args, prog_name="crmkit")
        assert result.exit_code == 0, f"crmkit {shlex.join(args)} failed:\n{result.output}"
        outputs.append(result.stdout)

    # The tour says what happened; check it through the library.
    assert (tmp_path / "crmkit.toml").exists() and (tmp_path / "customers.csv").exists()
    with crmkit.open(tmp_path / "crm.json") as crm:
        lee = crm.customers.get("C-1")
        assert (lee.name, lee.stage, lee.phones) == ("Lee Interiors", "customer", ("+441134960101",))
        assert [c.id for c in lee.contacts if c.primary] == ["P-1"]
        first, second = crm.tickets.get("T-1"), crm.tickets.get("T-2")
        assert first.status.value == "closed" and first.satisfaction.score == 5 and len(first.steps) == 1
        assert [t.id for t in crm.tickets.overdue()] == [second.id]
        assert crm.customers.count() == 1 + 25  # the dry run of the preset import wrote nothing
    # Commands that create a record print its id alone.
    assert outputs[1:5] == ["C-1\n", "P-1\n", "P-2\n", "I-1\n"]
    listed = next(out for args, out in zip(commands, outputs) if "--overdue" in args)
    assert "T-2" in listed and "T-1" not in listed


def test_cli_guide_commands_run_in_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every command in docs/cli.md's bash blocks, run top to bottom on one store, succeeds.

    ``name=$(crmkit ...)`` lines keep their output for later ``"$name"``; a ``| jq`` tail is dropped.
    """
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    shutil.copy(ROOT / "examples" / "sample_customers.csv", tmp_path / "new-customers.csv")
    shutil.copy(ROOT / "examples" / "google_contacts.csv", tmp_path / "google.csv")
    monkeypatch.chdir(tmp_path)
    cli = build_cli(make_plugin_manager(entrypoints=False))
    runner = CliRunner()
    variables: dict[str, str] = {}
    ran = 0
    for block in re.findall(r"```bash\n(.*?)```", text, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            assignment = re.fullmatch(r"(\w+)=\$\((.*)\)", line.strip())
            command = assignment.group(2) if assignment else line.split(" | ")[0]
            for name, value in variables.items():
                command = command.replace(f'"${name}"', value)
            words = shlex.split(command, comments=True)
            if not words or words[0] != "crmkit":
                continue
            result = runner.invoke(cli, words[1:], prog_name="crmkit")
            assert result.exit_code == 0, f"{command} failed:\n{result.output}"
            ran += 1
            if assignment:
                variables[assignment.group(1)] = result.stdout.strip()
    assert ran >= 30
    assert set(variables) == {"customer", "ticket"}
    with crmkit.open(tmp_path / "crm.json") as crm:
        assert crm.tickets.get(variables["ticket"]).status.value == "resolved"
        assert not crm.customers.exists("C-2")  # deleted in the guide
        assert crm.customers.get("C-1").stage == "lead"  # the forced correction
