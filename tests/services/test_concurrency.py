"""Several processes using the library on one TinyDB store, and writers killed mid-write."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import crmkit
from crmkit.plugins import make_plugin_manager

ADDER = textwrap.dedent("""
    import sys, crmkit
    crm = crmkit.open(sys.argv[1], actor=f"proc{sys.argv[2]}")
    for n in range(int(sys.argv[3])):
        customer = crm.customers.add(f"Proc {sys.argv[2]} customer {n}", emails=[f"p{sys.argv[2]}n{n}@example.com"])
        print(customer.id, flush=True)
""")


def _open(path):
    return crmkit.open(path, pm=make_plugin_manager(entrypoints=False))


def test_four_processes_adding_customers_lose_none(tmp_path):
    store = tmp_path / "crm.json"
    procs = [subprocess.Popen([sys.executable, "-c", ADDER, str(store), str(p), "100"], stdout=subprocess.PIPE,
                              text=True) for p in range(4)]
    printed = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        printed += out.split()
    crm = _open(store)
    customers = crm.customers.find()
    assert len(customers) == 400
    assert sorted(c.id for c in customers) == sorted(printed)
    assert len({c.id for c in customers}) == 400
    # one creation event each, every one written with its change
    assert crm.events.count("type=customer.created") == 400


def test_killed_writer_leaves_every_acknowledged_customer(tmp_path):
    store = tmp_path / "crm.json"
    rng = random.Random(1)
    acknowledged = []
    for attempt in range(4):
        proc = subprocess.Popen([sys.executable, "-c", ADDER, str(store), str(attempt), "10000"],
                                stdout=subprocess.PIPE, text=True)
        time.sleep(0.8 + rng.random())
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        acknowledged += out.split()
        crm = _open(store)  # must open: never a half-written file
        stored = {c.id for c in crm.customers.find()}
        assert set(acknowledged) <= stored
        crm.close()
    assert acknowledged, "the writer never got going; the test proved nothing"
