"""Order import benchmark on the real CDNOW transaction log: run on demand, not part of the test run.

    python benchmarks/bench_orders.py                     # tinydb and sqlite
    python benchmarks/bench_orders.py --backends sqlite --repeat 3

Converts ``../shared/datasets/retail_transactions/lifetimes_CDNOW_master.txt``
(69,659 purchases of 23,570 customers, fixed-width text) into two CSV files,
imports the customers with ``crmkit import``, then times
``crmkit import orders.csv --type orders`` (one process, one transaction,
every row validated) and ``crmkit order summary --format csv`` over the result.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from tabulate import tabulate

ROOT = Path(__file__).resolve().parents[1]
CDNOW = ROOT.parent / "shared" / "datasets" / "retail_transactions" / "lifetimes_CDNOW_master.txt"
CRMKIT = [sys.executable, "-m", "crmkit"]


def write_csvs(folder: Path) -> int:
    """customers.csv (C-1.. in file order of first purchase) and orders.csv; return the order count."""
    rows = [line.split() for line in CDNOW.read_text().splitlines()[1:] if line.strip()]
    ids = list(dict.fromkeys(r[0] for r in rows))
    number = {cid: n for n, cid in enumerate(ids, 1)}
    with (folder / "customers.csv").open("w", newline="") as fp:
        writer = csv.writer(fp)
        writer.writerow(["name", "external_ids.cdnow"])
        writer.writerows([f"CDNOW {cid}", cid] for cid in ids)
    with (folder / "orders.csv").open("w", newline="") as fp:
        writer = csv.writer(fp)
        writer.writerow(["customer_id", "ordered_at", "total", "currency", "notes"])
        for cid, day, cds, value in rows:
            at = datetime.strptime(day, "%Y%m%d").strftime("%Y-%m-%dT00:00:00+00:00")
            writer.writerow([f"C-{number[cid]}", at, value, "USD", f"{cds} CDs"])
    return len(rows)


def timed(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([*CRMKIT, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="tinydb,sqlite")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if not CDNOW.exists():
        sys.exit(f"{CDNOW} is not here")
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        count = write_csvs(folder)
        for backend in args.backends.split(","):
            for run in range(args.repeat):
                url = f"{backend}:///{folder}/store-{backend}-{run}.{'json' if backend == 'tinydb' else 'db'}"
                timed("--db", url, "import", str(folder / "customers.csv"))
                seconds = timed("--db", url, "import", str(folder / "orders.csv"), "--type", "orders")
                summary = timed("--db", url, "order", "summary", "--format", "csv")
                table.append([backend, run + 1, count, f"{seconds:.1f}", f"{count / seconds:,.0f}", f"{summary:.1f}"])
    print(tabulate(table, headers=["backend", "run", "orders", "import s", "rows/s", "summary s"]))


if __name__ == "__main__":
    main()
