"""A worker process for the stress tests (run with ``sys.executable``; not a test module).

Usage::

    _worker.py changes STORE_URL PROC COUNT OUT_FILE GO_FILE SEED SHARED
    _worker.py writes  STORE_URL COUNT START

``changes``: waits for GO_FILE, then makes COUNT changes through the library.
Even-numbered changes update one of the SHARED customers (C-1 .. C-SHARED)
with the version read just before (adding the tag ``p{PROC}-{n}``); odd ones
add a new customer. Each outcome is appended to OUT_FILE as soon as the call
returns: ``applied C-3 p2-14``, ``conflict C-3 p2-16`` or ``inserted C-40 p2-15``.
Anything else that goes wrong is written as ``error ...`` and exits 1.

``writes``: prints ``ready``, then does COUNT writes numbered from START, each
a new customer followed by an update of it, printing ``added C-n`` and
``updated C-n`` only after each call has returned (an acknowledged write).
"""

from __future__ import annotations

import os
import random
import sys
import time
import traceback

import crmkit
from crmkit.errors import Conflict
from crmkit.plugins import make_plugin_manager


def _open(url: str, actor: str) -> crmkit.CRM:
    # Built-in backends only, unless the store is served by a plugin (postgresql).
    builtin = url.startswith(("tinydb:", "sqlite:", "memory:"))
    return crmkit.open(url, pm=make_plugin_manager(entrypoints=not builtin), actor=actor)


def changes(url: str, proc: int, count: int, out_file: str, go_file: str, seed: int, shared: int) -> int:
    rng = random.Random(seed * 1000 + proc)
    crm = _open(url, f"p{proc}")
    with open(out_file, "a", encoding="utf-8") as out:
        while not os.path.exists(go_file):
            time.sleep(0.001)
        for n in range(count):
            marker = f"p{proc}-{n}"
            try:
                if n % 2 == 0:
                    record_id = f"C-{rng.randint(1, shared)}"
                    version = crm.customers.get(record_id).version
                    try:
                        crm.customers.update(record_id, expected_version=version, add_tags=[marker])
                    except Conflict:
                        line = f"conflict {record_id} {marker}"
                    else:
                        line = f"applied {record_id} {marker}"
                else:
                    added = crm.customers.add(f"Proc {proc} change {n}", emails=[f"{marker}@example.com"])
                    line = f"inserted {added.id} {marker}"
            except Exception:  # report anything unexpected to the test, which fails on it
                out.write("error " + traceback.format_exc().replace("\n", " | ") + "\n")
                return 1
            out.write(line + "\n")
            out.flush()
    crm.close()
    return 0


def writes(url: str, count: int, start: int) -> int:
    crm = _open(url, "killer")
    print("ready", flush=True)
    for n in range(start, start + count):
        customer = crm.customers.add(f"Write {n}", emails=[f"w{n}-{os.getpid()}@example.com"])
        print(f"added {customer.id}", flush=True)
        crm.customers.update(customer.id, expected_version=1, notes=f"note {n}")
        print(f"updated {customer.id}", flush=True)
    return 0


def main(argv: list[str]) -> int:
    mode, url = argv[0], argv[1]
    if mode == "changes":
        return changes(url, int(argv[2]), int(argv[3]), argv[4], argv[5], int(argv[6]), int(argv[7]))
    if mode == "writes":
        return writes(url, int(argv[2]), int(argv[3]))
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
