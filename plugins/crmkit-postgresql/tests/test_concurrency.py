"""Several processes writing to one PostgreSQL store: nothing lost, nothing applied twice.

The writers are real processes, each with its own connection, started together.
"""

from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path

import crmkit
from crmkit.plugins import make_plugin_manager

import crmkit_postgresql
from crmkit_postgresql import open_postgresql

WRITER = str(Path(__file__).with_name("_pg_writer.py"))


def run_writers(tmp_path: Path, argv_per_writer: list[list[str]], timeout: float = 240) -> list[list[str]]:
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, WRITER, *argv, str(go)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for argv in argv_per_writer]
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line == "ready", f"writer did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}"
    go.touch()
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err
        outputs.append(out.splitlines())
    return outputs


def test_eight_processes_inserting_lose_nothing(url: str, tmp_path: Path) -> None:
    outputs = run_writers(tmp_path, [["insert", url, "50"] for _ in range(8)])
    acknowledged = [line for out in outputs for line in out]
    assert len(acknowledged) == 400 == len(set(acknowledged))
    store = open_postgresql(url)
    assert sorted(doc["id"] for doc in store.scan("customers")) == sorted(acknowledged)
    assert store.counters() == {"C": 400}


def test_eight_processes_changing_shared_records_lose_no_update(url: str, tmp_path: Path) -> None:
    store = open_postgresql(url)
    store.insert("customers", [{"id": f"C-{n}", "version": 1, "notes": []} for n in range(1, 21)])
    store.bump_id("C", 20)
    outputs = run_writers(tmp_path, [["mixed", url, "50", str(seed)] for seed in range(8)])
    applied: dict[str, list[str]] = collections.defaultdict(list)
    added, conflicts = [], 0
    for out in outputs:
        assert len(out) == 50  # every change was either applied or reported
        for line in out:
            kind, record_id, *mark = line.split()
            if kind == "applied":
                applied[record_id].append(mark[0])
            elif kind == "conflict":
                conflicts += 1
            else:
                added.append(record_id)
    assert len(added) == 200 == len(set(added))
    for number in range(1, 21):
        doc = store.get("customers", f"C-{number}")
        assert doc is not None
        # Each applied change is in the document exactly once, and nothing else is.
        assert sorted(doc["notes"]) == sorted(applied[f"C-{number}"])
        assert doc["version"] == 1 + len(doc["notes"])
    assert sum(len(v) for v in applied.values()) + conflicts == 200
    assert store.count("customers") == 220


def test_four_crm_processes_adding_customers(url: str, tmp_path: Path) -> None:
    outputs = run_writers(tmp_path, [["crm", url, "25"] for _ in range(4)])
    acknowledged = [line for out in outputs for line in out]
    assert len(acknowledged) == 100 == len(set(acknowledged))
    pm = make_plugin_manager(entrypoints=False, extra=[crmkit_postgresql])
    with crmkit.open(url, pm=pm) as crm:
        assert sorted(c.id for c in crm.customers.find()) == sorted(acknowledged)
        created = [e for e in crm.events.find() if e.type == "customer.created"]
        assert sorted(e.record_id for e in created) == sorted(acknowledged)
