"""The tinydb backend under SIGKILL and under several writer processes.

The writers are real processes (``_writer.py`` and ``_tinydb_worker.py`` run
with ``sys.executable``), because what is tested is exactly what threads would
hide: file locks, fsync, atomic rename of the manifest, appending to the event
log, and reloading what another process wrote.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crmkit.storage.tinydb import TinyDBStore

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

WRITER = str(Path(__file__).with_name("_writer.py"))
WORKER = str(Path(__file__).with_name("_tinydb_worker.py"))


def start(*args: str, script: str = WRITER) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, script, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def kill(proc: subprocess.Popen[str], seed: int) -> list[str]:
    """SIGKILL the process and return the lines it printed (after "ready")."""
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode in (-signal.SIGKILL, 0), f"seed {seed}: the worker failed: {proc.returncode}"
    return out.splitlines()


def check_store(path: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """Open the store afresh; check that manifest counts match the files; return customers and events by id."""
    store = TinyDBStore(path)
    counted = {name: store.count(name) for name in ("customers", "events")}
    customers = {doc["id"]: doc for doc in store.scan("customers")}
    events = {doc["id"]: doc for doc in store.scan("events")}
    assert counted == {"customers": len(customers), "events": len(events)}
    store.close()
    return customers, events


def wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "ready", f"writer did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}"


def finish(proc: subprocess.Popen[str], timeout: float = 30) -> list[str]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out.split()


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "crm.json"
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    acknowledged: list[str] = []
    for _ in range(5):
        # ~20 KB per document: the file grows by 20 KB a transaction, so later
        # kills land in the middle of multi-megabyte writes.
        proc = start("insert", str(path), "100000", "20000")
        wait_ready(proc)
        time.sleep(rng.uniform(0.05, 0.8))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == -signal.SIGKILL, f"seed {seed}: the writer ended early"
        acknowledged += out.split()  # wait_ready consumed "ready"
        store = TinyDBStore(path)
        stored = {doc["id"]: doc for doc in store.scan("customers")}
        missing = [i for i in acknowledged if i not in stored]
        assert not missing, f"seed {seed}: acknowledged but lost: {missing}"
        assert all(len(doc["notes"]) == 20000 for doc in stored.values())
        store.close()
    assert len(acknowledged) > 5, "the writer never got going; the test proved nothing"


def test_four_writers_lose_nothing_and_share_no_id(tmp_path: Path) -> None:
    path, go = tmp_path / "crm.json", tmp_path / "go"
    writers = [start("insert", str(path), "100", "100", str(go)) for _ in range(4)]
    for proc in writers:
        wait_ready(proc)
    go.touch()
    printed = [finish(proc) for proc in writers]
    docs = TinyDBStore(path).scan("customers")
    ids = [doc["id"] for doc in docs]
    assert len(docs) == 400 and len(set(ids)) == 400
    assert sorted(ids) == sorted(i for out in printed for i in out)
    assert sorted(int(i[2:]) for i in ids) == list(range(1, 401))
    assert {doc["pid"] for doc in docs} == {proc.pid for proc in writers}


def test_concurrent_replace_one_wins_the_other_conflicts(tmp_path: Path) -> None:
    path = tmp_path / "crm.json"
    store = TinyDBStore(path)
    store.insert("customers", [{"id": "C-1", "version": 1, "name": "original"}])
    for round_ in range(3):
        go = tmp_path / f"go-{round_}"
        version = store.get("customers", "C-1")["version"]  # type: ignore[index]
        writers = {name: start("replace", str(path), "C-1", name, str(go)) for name in ("ann", "bob")}
        for proc in writers.values():
            wait_ready(proc)
        go.touch()
        results = {name: finish(proc) for name, proc in writers.items()}
        assert sorted(results.values()) == [["conflict"], ["ok"]]
        winner = next(name for name, out in results.items() if out == ["ok"])
        doc = store.get("customers", "C-1")
        assert doc == {"id": "C-1", "version": version + 1, "name": winner}


def test_acknowledged_writes_and_their_events_survive_sigkill(tmp_path: Path) -> None:
    # 200 single-record transactions (customer + event: a rewritten collection
    # file and an appended log line), killed at random moments.
    path = tmp_path / "crm.json"
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    acknowledged: list[str] = []
    kills = 0
    while len(acknowledged) < 200:
        proc = start("add", str(path), str(200 - len(acknowledged)), "2000", script=WORKER)
        wait_ready(proc)
        # short enough that a fast, idle machine is still mid-stream when the kill lands
        time.sleep(rng.uniform(0.0, 0.12))
        printed = kill(proc, seed)
        kills += proc.returncode == -signal.SIGKILL
        acknowledged += printed
        customers, events = check_store(path)
        missing = [i for i in acknowledged if i not in customers]
        assert not missing, f"seed {seed}: acknowledged but lost: {missing}"
        created = {doc["record_id"] for doc in events.values()}
        assert set(customers) == created, f"seed {seed}: a customer without its event or the reverse"
    assert kills >= 3, f"seed {seed}: the workers finished before they could be killed; the test proved little"


def test_a_killed_bulk_import_lands_whole_or_not_at_all(tmp_path: Path) -> None:
    # One transaction of 20,000 customers and 20,000 events (several MB of
    # collection file and log), killed at random moments, again and again.
    path = tmp_path / "crm.json"
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    store = TinyDBStore(path)
    store.insert("customers", [{"id": "C-1", "version": 1, "name": "before the import"}])
    store.bump_id("C", 1)
    store.close()
    acknowledged: list[str] = []
    interrupted = 0
    duration = None
    for _ in range(6):
        proc = start("import", str(path), "20000", script=WORKER)
        wait_ready(proc)
        if duration is None:
            # The first import runs to the end and times itself; the others are
            # killed within that time (they take longer: the store has grown),
            # so most kills land mid-transaction on a slow machine or a fast one.
            began = time.monotonic()
            out, err = proc.communicate(timeout=120)
            duration = time.monotonic() - began
            assert proc.returncode == 0, err
            printed = out.splitlines()
        else:
            time.sleep(rng.uniform(0.0, duration))
            printed = kill(proc, seed)
            interrupted += not printed
        acknowledged += [word for line in printed for word in line.split()[1:]]
        customers, events = check_store(path)
        imported = [doc for doc in customers.values() if doc["name"].startswith("Imported")]
        assert len(imported) % 20000 == 0, f"seed {seed}: a partial import: {len(imported)} customers"
        assert len(events) == len(imported), f"seed {seed}: {len(events)} events for {len(imported)} customers"
        assert "C-1" in customers
        assert all(record_id in customers for record_id in acknowledged), f"seed {seed}: an acknowledged import was lost"
    assert interrupted, f"seed {seed}: no import was killed before it finished; the test proved little"


def test_eight_writers_lose_nothing(tmp_path: Path) -> None:
    # The target: 8 processes, 250 changes each, half of them to the
    # same 20 records. Every change is applied or reported as a conflict, none
    # is lost or applied twice, and each came with exactly one event. 250 per
    # writer takes about 30 s, so the default run does 60 and
    # CRMKIT_STRESS_CHANGES=250 runs the full target.
    path, go = tmp_path / "crm.json", tmp_path / "go"
    shared, per_writer = 20, int(os.environ.get("CRMKIT_STRESS_CHANGES", "60"))
    store = TinyDBStore(path)
    store.insert("customers", [{"id": f"C-{n}", "version": 1} for n in range(1, shared + 1)])
    store.bump_id("C", shared)
    workers = [start("mixed", str(path), str(per_writer), str(shared), str(go), script=WORKER) for _ in range(8)]
    for proc in workers:
        wait_ready(proc)
    go.touch()
    outputs = [proc.communicate(timeout=600) for proc in workers]
    assert all(proc.returncode == 0 for proc in workers), [err for _, err in outputs]
    lines = [line.split() for out, _ in outputs for line in out.splitlines()]
    assert len(lines) == 8 * per_writer
    added = [line[1] for line in lines if line[0] == "add"]
    applied = [line[1:] for line in lines if line[0] == "ok"]
    conflicts = [line for line in lines if line[0] == "conflict"]
    assert len(added) + len(applied) + len(conflicts) == 8 * per_writer
    customers, events = check_store(path)
    assert len(customers) == shared + len(added) and len(set(added)) == len(added)
    assert all(record_id in customers for record_id in added)
    for n in range(1, shared + 1):
        record_id = f"C-{n}"
        versions = sorted(int(version) for rid, version in applied if rid == record_id)
        # Each applied change raised the version by one, from 1: no lost and no doubled update.
        assert versions == list(range(2, len(versions) + 2)), record_id
        assert customers[record_id]["version"] == len(versions) + 1
    kinds = [doc["type"] for doc in events.values()]
    assert kinds.count("customer.created") == len(added)
    assert kinds.count("customer.updated") == len(applied)
