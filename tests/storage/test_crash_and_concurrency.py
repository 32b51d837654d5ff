"""The tinydb backend under SIGKILL and under several writer processes.

The writers are real processes (``_writer.py`` run with ``sys.executable``),
because what is tested is exactly what threads would hide: file locks, fsync,
atomic rename, and reloading what another process wrote.
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


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, WRITER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


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
