"""A writer process for the crash and concurrency tests (run with ``sys.executable``).

Usage::

    _writer.py insert  STORE COUNT PAYLOAD_BYTES [GO_FILE]
    _writer.py replace STORE RECORD_ID NAME GO_FILE

``insert`` adds COUNT customers, one transaction each (``next_ids`` + ``insert``),
and prints each id only after its transaction has returned: a printed id is an
acknowledged, durable write. ``replace`` reads a record, prints ``ready``, waits
for GO_FILE, replaces it with the version it read and prints ``ok`` or ``conflict``.
"""

from __future__ import annotations

import os
import sys
import time

from crmkit.errors import Conflict
from crmkit.storage.tinydb import TinyDBStore


def wait_for(go_file: str) -> None:
    while not os.path.exists(go_file):
        time.sleep(0.001)


def insert(store: TinyDBStore, count: int, payload_bytes: int, go_file: str | None) -> None:
    payload = "x" * payload_bytes
    print("ready", flush=True)
    if go_file:
        wait_for(go_file)
    for _ in range(count):
        with store.transaction():
            (number,) = store.next_ids("C")
            record_id = f"C-{number}"
            store.insert("customers", [{"id": record_id, "version": 1, "pid": os.getpid(), "notes": payload}])
        print(record_id, flush=True)


def replace(store: TinyDBStore, record_id: str, name: str, go_file: str) -> None:
    doc = store.get("customers", record_id)
    assert doc is not None
    print("ready", flush=True)
    wait_for(go_file)
    try:
        store.replace("customers", {**doc, "name": name, "version": doc["version"] + 1}, doc["version"])
    except Conflict:
        print("conflict", flush=True)
    else:
        print("ok", flush=True)


def main(argv: list[str]) -> None:
    mode, path = argv[0], argv[1]
    store = TinyDBStore(path, lock_timeout=60)
    if mode == "insert":
        insert(store, int(argv[2]), int(argv[3]), argv[4] if len(argv) > 4 else None)
    elif mode == "replace":
        replace(store, argv[2], argv[3], argv[4])
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
