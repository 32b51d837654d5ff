"""A writer process for the concurrency tests (run with ``sys.executable``).

Usage::

    _pg_writer.py insert URL COUNT          COUNT transactions of next_ids + insert; prints each id
    _pg_writer.py mixed  URL COUNT SEED     half inserts, half read-modify-write of C-1..C-20;
                                            prints "applied ID MARK", "conflict ID" or "added ID"
    _pg_writer.py crm    URL COUNT          COUNT crm.customers.add calls; prints each id

A line is printed only after its transaction returned: a printed change is acknowledged.
Every process waits for GO_FILE (the last argument) so that all start together.
"""

from __future__ import annotations

import os
import random
import sys
import time

from crmkit.errors import Conflict


def wait_for(go_file: str) -> None:
    print("ready", flush=True)
    while not os.path.exists(go_file):
        time.sleep(0.001)


def main() -> None:
    mode, url, count, *rest = sys.argv[1:]
    go_file = rest.pop()
    from crmkit_postgresql import open_postgresql

    if mode == "crm":
        import crmkit
        from crmkit.plugins import make_plugin_manager

        import crmkit_postgresql

        pm = make_plugin_manager(entrypoints=False, extra=[crmkit_postgresql])
        crm = crmkit.open(url, pm=pm, actor=f"writer-{os.getpid()}")
        wait_for(go_file)
        for n in range(int(count)):
            added = crm.customers.add(f"Writer {os.getpid()} #{n}", emails=[f"w{os.getpid()}-{n}@example.com"])
            print(added.id, flush=True)
        crm.close()
        return
    store = open_postgresql(url)
    rng = random.Random(int(rest[0]) if rest else 0)
    wait_for(go_file)
    for n in range(int(count)):
        if mode == "insert" or n % 2 == 0:
            with store.transaction():
                (number,) = store.next_ids("C")
                store.insert("customers", [{"id": f"C-{number}", "version": 1, "pid": os.getpid(), "notes": []}])
            print(("added " if mode == "mixed" else "") + f"C-{number}", flush=True)
            continue
        record_id = f"C-{rng.randint(1, 20)}"
        mark = f"{os.getpid()}:{n}"
        doc = store.get("customers", record_id)
        assert doc is not None
        try:
            store.replace("customers", {**doc, "notes": [*doc["notes"], mark], "version": doc["version"] + 1},
                          expected_version=doc["version"])
            print(f"applied {record_id} {mark}", flush=True)
        except Conflict:
            print(f"conflict {record_id}", flush=True)
    store.close()


if __name__ == "__main__":
    main()
