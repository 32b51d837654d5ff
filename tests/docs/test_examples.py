"""examples/: the sample CSV imports as described, and script.py reports what the store holds."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import crmkit
from crmkit.io.transfer import import_records
from crmkit.plugins import make_plugin_manager

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SAMPLE = EXAMPLES / "sample_customers.csv"


def _open(url):
    return crmkit.open(url, pm=make_plugin_manager(entrypoints=False))


def test_sample_customers_import(tmp_path: Path) -> None:
    with _open(tmp_path / "crm.json") as crm:
        report = import_records(crm, SAMPLE, record_type="customers")
        assert (report.created, report.skipped, report.problems) == (25, 0, [])
        assert crm.customers.count() == 25

        ann = crm.customers.find_by_email("ann.lee@example.com")
        assert (ann.name, ann.company, ann.title, ann.address.city) == ("Ann Lee", "Lee Interiors", "Owner", "Leeds")
        assert (ann.tags, ann.stage, ann.tier) == (("trade", "vip"), "loyal", "gold")
        assert ann.phones == ("+441134960101",)

        zoe = crm.customers.find("name=\"Zoë Müller\"")[0]
        assert zoe.emails == ("zoe@mueller-moebel.example", "info@mueller-moebel.example")
        assert zoe.company == "Müller Möbel GmbH" and zoe.address.city == "Berlin"
        assert crm.customers.find_by_email("hanako.yamada@example.jp").name == "山田 花子"

        # every stage is one of the generic profile's, and the first move in each history is the import
        stages = {c.stage for c in crm.customers.find()}
        assert stages <= set(crm.profile.stage_names)
        assert all(c.stage_history[0].to_stage == c.stage for c in crm.customers.find())
        # phones are all in international form in the file, so no region was needed
        assert all(p.startswith("+") for c in crm.customers.find() for p in c.phones)


def test_sample_file_is_what_the_readme_says() -> None:
    with SAMPLE.open(encoding="utf-8", newline="") as fp:
        rows = list(csv.DictReader(fp))
    assert list(rows[0]) == ["name", "emails", "phones", "company", "title", "address.city", "tags", "stage", "tier"]
    assert len(rows) == 25
    assert any(not row["name"].isascii() for row in rows)
    assert all(phone.strip().startswith("+") for row in rows for phone in row["phones"].split(";"))


def test_google_contacts_example_imports_with_the_preset(tmp_path: Path) -> None:
    with _open(tmp_path / "crm.json") as crm:
        report = import_records(crm, EXAMPLES / "google_contacts.csv", record_type="customers", preset="google")
        assert (report.created, report.problems) == (3, [])
        nadia = crm.customers.find_by_email("nadia.h@example.net")
        assert (nadia.name, nadia.company, nadia.address.city) == ("Nadia Haddad", "Haddad Home", "Harrogate")
        assert "Trade fair" in nadia.tags
        assert len(crm.customers.find_by_email("ruth.cohen@example.org").phones) == 2


def _run_script(store: Path) -> str:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run([sys.executable, str(EXAMPLES / "script.py"), str(store)], capture_output=True,
                            text=True, encoding="utf-8", env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def _report(output: str) -> tuple[dict[str, int], list[str]]:
    stages_text = output.split("Customers per stage\n", 1)[1].split("\n\n", 1)[0]
    stages = {name: int(count) for name, count in re.findall(r"^  (\S+)\s+(\d+)$", stages_text, re.MULTILINE)}
    overdue_text = output.split("Overdue tickets\n", 1)[1]
    overdue = re.findall(r"^  (T-\d+) ", overdue_text, re.MULTILINE)
    return stages, overdue


def test_script_reports_the_store(tmp_path: Path) -> None:
    store = tmp_path / "crm.json"
    output = _run_script(store)
    stages, overdue = _report(output)
    with _open(store) as crm:
        assert crm.customers.count() == 25
        expected = {name: crm.customers.count(stage=name) for name in crm.profile.stage_names}
        assert stages == {**expected, "total": 25}
        assert overdue == [t.id for t in crm.tickets.overdue()]
        assert overdue, "the script opens a ticket that misses its SLA"

        # What the script says it did is in the store.
        worked = re.search(r"^Worked (T-\d+) for (.+): 1 step, closed, rated 5/5$", output, re.MULTILINE)
        ticket = crm.tickets.get(worked.group(1))
        assert ticket.status.value == "closed" and ticket.satisfaction.score == 5
        assert crm.customers.get(ticket.customer_id).name == worked.group(2)
        assert [e.type for e in crm.events.for_record(ticket.id)] == [
            "ticket.opened", "ticket.assigned", "ticket.stepped", "ticket.escalated", "ticket.resolved",
            "ticket.rated", "ticket.closed"]
        for interaction_id in re.findall(r"^Logged (I-\d+):", output, re.MULTILINE):
            assert crm.interactions.exists(interaction_id)
        for customer_id, stage in re.findall(r"^Moved (C-\d+) \(.*\) to (\w+)$", output, re.MULTILINE):
            assert crm.customers.get(customer_id).stage == stage
        assert crm.events.count("type=lifecycle.changed") == len(re.findall(r"^Moved ", output, re.MULTILINE))


def test_script_runs_again_on_the_same_store(tmp_path: Path) -> None:
    store = tmp_path / "crm.json"
    _run_script(store)
    output = _run_script(store)
    assert "not importing" in output
    stages, overdue = _report(output)
    with _open(store) as crm:
        assert crm.customers.count() == 25 == stages["total"]
        assert overdue == [t.id for t in crm.tickets.overdue()]
