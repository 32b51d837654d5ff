"""A worker process for the tinydb crash and concurrency tests (run with ``sys.executable``).

Usage::

    _tinydb_worker.py add    STORE COUNT PAYLOAD_BYTES [GO_FILE]
    _tinydb_worker.py import STORE COUNT
    _tinydb_worker.py mixed  STORE COUNT SHARED GO_FILE

Every mode prints ``ready`` first, and then a line per acknowledged
transaction (printed only after the transaction returned, so a printed line is
a durable write):

- ``add``: COUNT transactions, each ``next_ids`` + a customer + its event
  (the customers file is rewritten and the event log appended each time);
  prints the customer id.
- ``import``: one transaction adding COUNT customers and COUNT events (like a
  bulk import); prints ``done FIRST LAST``.
- ``mixed``: COUNT transactions, every other one adding a customer and the
  others replacing one of the SHARED records ``C-1`` .. ``C-SHARED`` with the
  version read (half of the changes land on the same few records); each also
  appends an event. Prints ``add ID``, ``ok ID VERSION`` or ``conflict ID``.
"""

from __future__ import annotations

import os
import random
import sys
import time

from crmkit.errors import Conflict
from crmkit.storage.tinydb import TinyDBStore


def wait_for(go_file: str | None) -> None:
    while go_file and not os.path.exists(go_file):
        time.sleep(0.001)


def event(store: TinyDBStore, record_id: str, kind: str) -> dict[str, object]:
    (number,) = store.next_ids("E")
    return {"id": f"E-{number}", "version": 1, "type": kind, "record_id": record_id, "pid": os.getpid()}


def add(store: TinyDBStore, count: int, payload_bytes: int, go_file: str | None) -> None:
    payload = "x" * payload_bytes
    print("ready", flush=True)
    wait_for(go_file)
    for _ in range(count):
        with store.transaction():
            (number,) = store.next_ids("C")
            record_id = f"C-{number}"
            store.insert("customers", [{"id": record_id, "version": 1, "pid": os.getpid(), "notes": payload}])
            store.insert("events", [event(store, record_id, "customer.created")])
        print(record_id, flush=True)


def bulk_import(store: TinyDBStore, count: int) -> None:
    print("ready", flush=True)
    with store.transaction():
        numbers = store.next_ids("C", count)
        events = store.next_ids("E", count)
        store.insert("customers", [{"id": f"C-{n}", "version": 1, "name": f"Imported {n}", "emails": [f"i{n}@example.com"]}
                                   for n in numbers])
        store.insert("events", [{"id": f"E-{e}", "version": 1, "type": "customer.created", "record_id": f"C-{n}"}
                                for n, e in zip(numbers, events)])
    print(f"done C-{numbers[0]} C-{numbers[-1]}", flush=True)


def mixed(store: TinyDBStore, count: int, shared: int, go_file: str) -> None:
    rng = random.Random(os.getpid())
    print("ready", flush=True)
    wait_for(go_file)
    for n in range(count):
        if n % 2 == 0:
            with store.transaction():
                (number,) = store.next_ids("C")
                record_id = f"C-{number}"
                store.insert("customers", [{"id": record_id, "version": 1, "pid": os.getpid()}])
                store.insert("events", [event(store, record_id, "customer.created")])
            print("add", record_id, flush=True)
            continue
        record_id = f"C-{rng.randint(1, shared)}"
        doc = store.get("customers", record_id)
        assert doc is not None
        time.sleep(rng.random() / 1000)  # widen the window between the read and the write
        try:
            with store.transaction():
                store.replace("customers", {**doc, "version": doc["version"] + 1, "by": os.getpid()}, doc["version"])
                store.insert("events", [event(store, record_id, "customer.updated")])
        except Conflict:
            print("conflict", record_id, flush=True)
        else:
            print("ok", record_id, doc["version"] + 1, flush=True)


def main(argv: list[str]) -> None:
    mode, path = argv[0], argv[1]
    store = TinyDBStore(path, lock_timeout=120)
    if mode == "add":
        add(store, int(argv[2]), int(argv[3]), argv[4] if len(argv) > 4 else None)
    elif mode == "import":
        bulk_import(store, int(argv[2]))
    elif mode == "mixed":
        mixed(store, int(argv[2]), int(argv[3]), argv[4])
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
