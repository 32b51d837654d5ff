"""Many processes on one store, and writers killed at random moments: nothing lost, nothing applied twice.

The workers are real processes (``_worker.py`` run with ``sys.executable``),
because file locks, fsync, atomic renames and busy timeouts are exactly what
threads would hide. Every backend that keeps files is tested (tinydb and
sqlite), and PostgreSQL too when ``CRMKIT_TEST_POSTGRESQL_URL`` names a server
and the crmkit-postgresql plugin is installed; ``memory://`` lives in one
process, so it has nothing to show here.

Sizes: ``CRMKIT_STRESS_CHANGES`` (default 100 changes per process, to keep the
suite quick; the issue's full size is 250) and ``CRMKIT_STRESS_PROCESSES`` (default 8) set the size, and
``CRMKIT_STRESS_WRITES`` (default 200) the writes of the kill test and
``CRMKIT_STRESS_KILLS`` (default 8) how many writers it kills.
"""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import crmkit
from crmkit import maintenance
from crmkit.plugins import make_plugin_manager
from crmkit.registry import registry

WORKER = str(Path(__file__).with_name("_worker.py"))
FILE_BACKENDS = [name for name in ("tinydb", "sqlite") if name in registry(make_plugin_manager(entrypoints=False),
                                                                           "backend")]
SUFFIX = {"tinydb": "json", "sqlite": "db"}
#: A PostgreSQL server to include (the crmkit-postgresql plugin's tests and CI set it).
PG_URL = os.environ.get("CRMKIT_TEST_POSTGRESQL_URL")
PROCESSES = int(os.environ.get("CRMKIT_STRESS_PROCESSES", "8"))
CHANGES = int(os.environ.get("CRMKIT_STRESS_CHANGES", "100"))
WRITES = int(os.environ.get("CRMKIT_STRESS_WRITES", "200"))
#: Writers killed in the SIGKILL test before one is let finish (a kill may land after the last write).
MAX_KILLS = int(os.environ.get("CRMKIT_STRESS_KILLS", "8"))
SHARED = 20

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX processes and signals")


def _shared_backends() -> list[str]:
    """The file backends, and postgresql when a server is named and its plugin is installed."""
    if not PG_URL:
        return FILE_BACKENDS
    try:
        installed = registry(make_plugin_manager(), "backend")
    except crmkit.CrmkitError:
        return FILE_BACKENDS
    return [*FILE_BACKENDS, *(["postgresql"] if "postgresql" in installed else [])]


def _open(url: str) -> crmkit.CRM:
    # Built-in backends only, unless the store is served by a plugin (postgresql).
    builtin = url.startswith(("tinydb:", "sqlite:", "memory:"))
    return crmkit.open(url, pm=make_plugin_manager(entrypoints=not builtin))


@pytest.fixture
def store_url(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """``store_url(backend)``: a new store; a PostgreSQL one gets a schema of its own, dropped afterwards."""
    schemas: list[str] = []

    def make(backend: str) -> str:
        if backend != "postgresql":
            return f"{backend}://{tmp_path / f'crm.{SUFFIX[backend]}'}"
        schemas.append(f"stress_{uuid.uuid4().hex[:12]}")
        return f"{PG_URL}{'&' if '?' in (PG_URL or '') else '?'}schema={schemas[-1]}"

    yield make
    if schemas:
        import psycopg  # the postgresql plugin's own dependency

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.parametrize("backend", _shared_backends())
def test_concurrent_changes_are_applied_once_or_reported_as_conflicts(backend, store_url, tmp_path):
    url = store_url(backend)
    with _open(url) as crm:
        crm.customers.add_many([{"name": f"Shared {n}", "emails": [f"shared{n}@example.com"]}
                                for n in range(1, SHARED + 1)])
    seed = random.randrange(1_000_000)
    go = tmp_path / "go"
    logs = [tmp_path / f"proc-{p}.log" for p in range(PROCESSES)]
    procs = [subprocess.Popen([sys.executable, WORKER, "changes", url, str(p), str(CHANGES), str(logs[p]), str(go),
                               str(seed), str(SHARED)], stderr=subprocess.PIPE, text=True)
             for p in range(PROCESSES)]
    time.sleep(0.2)
    go.touch()  # all at once, so they really compete
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"seed {seed}: {err}"
    outcomes = [line.split() for log in logs for line in log.read_text().splitlines()]
    assert not [o for o in outcomes if o[0] == "error"], f"seed {seed}: {outcomes}"
    assert len(outcomes) == PROCESSES * CHANGES, f"seed {seed}: a change has no outcome"
    applied = collections.defaultdict(set)
    conflicts = collections.defaultdict(set)
    inserted = {}
    for kind, record_id, marker in outcomes:
        if kind == "inserted":
            inserted[record_id] = marker
        else:
            (applied if kind == "applied" else conflicts)[record_id].add(marker)
    assert len(inserted) == PROCESSES * (CHANGES // 2), f"seed {seed}: two inserts got one id"

    with _open(url) as crm:
        for n in range(1, SHARED + 1):
            customer = crm.customers.get(f"C-{n}")
            # Every applied update is there exactly once, no conflicted one is.
            assert set(customer.tags) == applied[customer.id], f"seed {seed}: {customer.id}"
            assert customer.version == 1 + len(applied[customer.id]), f"seed {seed}: {customer.id}"
            updates = crm.events.find(record_id=customer.id, type="customer.updated")
            assert len(updates) == len(applied[customer.id])
            added_by_events = {tag for e in updates
                               for tag in set(e.changes["tags"][1]) - set(e.changes["tags"][0] or ())}
            assert added_by_events == applied[customer.id], f"seed {seed}: {customer.id}"
        for record_id, marker in inserted.items():
            assert crm.customers.get(record_id).emails == (f"{marker}@example.com",)
        assert crm.customers.count() == SHARED + len(inserted)
        assert crm.events.count(type="customer.created") == SHARED + len(inserted)
        assert maintenance.check(crm) == []
    total_conflicts = sum(len(m) for m in conflicts.values())
    print(f"{backend}: {PROCESSES}x{CHANGES} changes, {sum(len(m) for m in applied.values())} updates applied, "
          f"{total_conflicts} conflicts, {len(inserted)} inserts (seed {seed})")


def _start_writer(url: str, count: int, start: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, WORKER, "writes", url, str(count), str(start)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "ready", f"the writer did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}"
    return proc


@pytest.mark.parametrize("backend", FILE_BACKENDS)
def test_sigkill_at_random_moments_loses_no_acknowledged_write(backend, store_url):
    url = store_url(backend)
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    added: list[str] = []
    updated: list[str] = []
    kills = 0
    done = 0
    while done < WRITES:
        proc = _start_writer(url, WRITES - done, done)
        if kills < MAX_KILLS:  # then the last writer may finish, which bounds the test's time
            # Shorter than a writer's whole run (200 sqlite writes take about 0.4 s on a quiet
            # machine), so that the first writer is killed too and the test always proves something.
            time.sleep(rng.uniform(0.0, 0.3))
            proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
        if proc.returncode == -signal.SIGKILL:
            kills += 1
        else:
            assert proc.returncode == 0, f"seed {seed}: {err}"
        for line in out.split("\n"):
            if line.startswith("added "):
                added.append(line.split()[1])
            elif line.startswith("updated "):
                updated.append(line.split()[1])
        done = len(added)
        with _open(url) as crm:  # the store always opens ...
            stored = {c.id: c for c in crm.customers.find()}
            # ... and holds every acknowledged write, each with its event
            assert set(added) <= set(stored), f"seed {seed}: lost {set(added) - set(stored)}"
            assert all(stored[i].version == 2 and stored[i].notes for i in updated), f"seed {seed}"
            assert maintenance.check(crm) == [], f"seed {seed}"
            for customer in stored.values():
                kinds = [e.type for e in crm.events.for_record(customer.id)]
                assert kinds == ["customer.created", "customer.updated"][: customer.version], f"seed {seed}"
    assert kills >= 1, "the writer was never killed; the test proved nothing"
    print(f"{backend}: {len(added)} acknowledged writes survived {kills} kills (seed {seed})")
