"""Foundation benchmarks: run on demand, print a table. Not part of the test run.

    python benchmarks/bench_foundation.py            # 10k and 100k customers
    python benchmarks/bench_foundation.py --sizes 1000,10000 --repeat 3

Measures, on the embedded TinyDB store: CSV import (with email and phone
validation) of generated customers, a lookup by email on the largest store,
the wall time of a whole `crmkit customer add` process on a 10k store, and
`crmkit --help` / `crmkit --version`, each beside `python -c "import click"`
run in the same invocation so ratios hold on a noisy machine.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

import crmkit
from crmkit.io.transfer import import_records

FIRST = ["Ann", "Bob", "Kari", "Ola", "Lena", "Tom", "Eva", "Jonas", "Ida", "Nils", "Mia", "Omar"]
LAST = ["Lee", "Hansen", "Berg", "Olsen", "Nilsen", "Khan", "Larsen", "Dahl", "Moen", "Lund"]
CITIES = ["Oslo", "Bergen", "Trondheim", "Stavanger", "Tromsø"]


def write_customers_csv(path: Path, count: int, seed: int = 7) -> None:
    """A contact-style CSV: name, email, phone, company, title, city, tags, stage, tier."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fp:
        writer = csv.writer(fp)
        writer.writerow(["name", "emails", "phones", "company", "title", "address.city", "tags", "stage", "tier"])
        for n in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            writer.writerow([
                f"{first} {last}", f"{first}.{last}.{n}@example.com".lower(), f"+47{40000000 + n}",
                f"{last} AS" if n % 3 == 0 else "", "Manager" if n % 5 == 0 else "", rng.choice(CITIES),
                "vip" if n % 10 == 0 else "", rng.choice(["lead", "customer", "loyal"]), rng.choice("ABC"),
            ])


def store_bytes(store: Path) -> int:
    """Size of a TinyDB store on disk: its manifest and the collection files beside it."""
    folder = store.with_name(store.name + ".d")
    extra = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
    return store.stat().st_size + extra


def timed(fn, repeat: int = 1) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run(cmd: list[str], env: dict[str, str]) -> None:
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="customer counts for the import (comma separated)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per process timing (median reported)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows: list[list[object]] = []
    env = {**os.environ, "CRMKIT_USER": "bench"}
    crmkit_cmd = [sys.executable, "-m", "crmkit"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        stores: dict[int, Path] = {}
        for size in sizes:
            source = folder / f"customers-{size}.csv"
            write_customers_csv(source, size)
            store = folder / f"crm-{size}.json"
            crm = crmkit.open(store)
            seconds = timed(lambda: import_records(crm, source, record_type="customers"))
            crm.close()
            stores[size] = store
            rows.append([f"import {size:,} customers from CSV (validated)", f"{seconds:.2f} s",
                         f"{size / seconds:,.0f} rows/s", f"{store_bytes(store) / 1e6:.1f} MB on disk"])
        biggest = max(sizes)
        crm = crmkit.open(stores[biggest])
        with (folder / f"customers-{biggest}.csv").open(encoding="utf-8") as fp:
            email = list(csv.DictReader(fp))[biggest // 2]["emails"]
        crm.customers.find_by_email("warm@up.example")  # first lookup builds the index
        assert crm.customers.find_by_email(email) is not None
        lookup = timed(lambda: crm.customers.find_by_email(email), repeat=200)
        open_time = timed(lambda: crmkit.open(stores[biggest]).customers.find_by_email(email), repeat=3)
        crm.close()
        rows.append([f"find by email on {biggest:,} customers (warm)", f"{lookup * 1e6:.0f} µs", "", ""])
        rows.append([f"open {biggest:,}-customer store, find by email (cold)", f"{open_time:.2f} s", "", ""])

        click_time = timed(lambda: run([sys.executable, "-c", "import click"], env), args.repeat)
        rows.append(['python -c "import click" (reference)', f"{click_time * 1000:.0f} ms", "1.0x", ""])
        for label, extra in (("crmkit --version", ["--version"]), ("crmkit --help", ["--help"])):
            t = timed(lambda: run(crmkit_cmd + extra, env), args.repeat)
            rows.append([label, f"{t * 1000:.0f} ms", f"{t / click_time:.1f}x", ""])
        ten_k = min(stores, key=lambda s: abs(s - 10000))
        counter = iter(range(10**6))
        add = timed(lambda: run(crmkit_cmd + ["--db", str(stores[ten_k]), "customer", "add", "--name", "Bench",
                                              "--email", f"bench{next(counter)}@example.com"], env), args.repeat)
        rows.append([f"crmkit customer add on a {ten_k:,} store", f"{add * 1000:.0f} ms", f"{add / click_time:.1f}x",
                     ""])
    print(tabulate(rows, headers=["benchmark", "time", "ratio / rate", "note"]))


if __name__ == "__main__":
    main()
