"""Storage benchmarks against the issue's targets: run on demand, print a table. Not part of the test run.

    python benchmarks/bench_storage.py                         # every benchmark, default sizes
    python benchmarks/bench_storage.py --only startup,commands --repeat 9
    python benchmarks/bench_storage.py --import-rows 20000 --store-customers 2000 --backends sqlite
    python benchmarks/bench_storage.py --install-sqlite-utils  # fetch the import reference into a temp venv

Each benchmark runs beside its reference in the same invocation, alternating
runs, so the ratio holds on a noisy machine:

- import:   `crmkit import` of a generated 100k-customer CSV (email and phone
            validated) into a new store per backend, against
            `sqlite-utils insert --csv` of the same file (which validates nothing);
            the peak memory (max RSS) of each import process is reported too;
- commands: `customer add`, `customer show` and `ticket list --overdue` on a
            store of 10k customers, 50k interactions, 5k tickets and their events,
            per backend, against `python -c "import click"`;
            then `crmkit.maintenance` migrate, check, backup and restore on that store;
- startup:  `crmkit --version` and `crmkit --help` against `python -c "import click"`;
- list:     `customer list --where ... --format json` on the 100k store, per backend.

Every process is timed from outside (wall clock, median of --repeat runs) with
the environment a user has: installed plugins load as usual. sqlite-utils is
not a crmkit dependency; the script finds it on PATH or in this interpreter,
or installs it into a temporary virtualenv with --install-sqlite-utils
(see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_foundation import CITIES, FIRST, LAST, write_customers_csv  # noqa: E402

import crmkit  # noqa: E402
from crmkit import maintenance  # noqa: E402
from crmkit.models import Resolution  # noqa: E402
from crmkit.plugins import make_plugin_manager  # noqa: E402
from crmkit.registry import registry  # noqa: E402

SUFFIX = {"tinydb": "json", "sqlite": "db"}
#: The issue's targets. Ratios are crmkit time / reference time; None: no target for that backend.
IMPORT_RATIO = {"tinydb": 1.0, "sqlite": 1.0}
IMPORT_MEMORY_MB = {"tinydb": 400, "sqlite": 200}
COMMAND_RATIO = {"tinydb": 5.0, "sqlite": 2.5}
VERSION_RATIO = 1.5
HELP_RATIO = 2.0
LIST_SECONDS = {"sqlite": 1.0}
LIST_FILTER = "address.city=Oslo"
ALL = ("import", "commands", "startup", "list")
Row = list[Any]


# -- running processes ---------------------------------------------------------------


def child_env() -> dict[str, str]:
    """The user's environment without crmkit settings that would point the commands elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMKIT_")}
    env["CRMKIT_USER"] = "bench"
    return env


def run(cmd: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, float]:
    """Run a process to the end; return (wall seconds, peak RSS in MB) of that process alone."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(cmd), env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # wait4 gives this child's own rusage (RUSAGE_CHILDREN would give the biggest child so far).
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
    return seconds, usage.ru_maxrss / 1024  # KB on Linux


def side_by_side(commands: dict[str, Callable[[], Sequence[str]]], env: dict[str, str], repeat: int,
                 warmup: bool = True) -> dict[str, float]:
    """Median wall time per named command, running them in turn ``repeat`` times (a cold first round dropped)."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    if warmup:
        for make in commands.values():
            run(make(), env)
    for _ in range(repeat):
        for name, make in commands.items():
            samples[name].append(run(make(), env)[0])
    return {name: statistics.median(values) for name, values in samples.items()}


def verdict(value: float, limit: float | None) -> str:
    if limit is None:
        return "-"
    return "PASS" if value <= limit else "FAIL"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


# -- the reference: sqlite-utils -------------------------------------------------------


def find_sqlite_utils(explicit: str | None, install: bool, folder: Path) -> list[str] | None:
    """The command that runs sqlite-utils, or None (then the import ratio is not measured)."""
    if explicit:
        return explicit.split()
    on_path = shutil.which("sqlite-utils")
    if on_path:
        return [on_path]
    if importlib.util.find_spec("sqlite_utils") is not None:
        return [sys.executable, "-m", "sqlite_utils"]
    if not install:
        return None
    venv = folder / "sqlite-utils-venv"
    print(f"installing sqlite-utils into {venv} (a temporary virtualenv) ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "sqlite-utils"], check=True)
    return [str(venv / "bin" / "sqlite-utils")]


# -- building a store through the bulk paths -----------------------------------------


def build_store(crm: crmkit.CRM, customers: int, interactions: int, tickets: int, seed: int = 11) -> None:
    """Fill a store through the services' bulk paths (add_many, log_many, open_many): with their events."""
    rng = random.Random(seed)
    now = crm.now()
    rows = []
    for n in range(customers):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows.append({"name": f"{first} {last}", "emails": [f"{first}.{last}.{n}@example.com".lower()],
                     "phones": [f"+47{40000000 + n}"], "address": {"city": rng.choice(CITIES)},
                     "tags": ["vip"] if n % 10 == 0 else []})
    ids = [c.id for c in crm.customers.add_many(rows)]
    channels = ("phone", "email", "meeting", "chat")
    for start in range(0, interactions, 10_000):
        crm.interactions.log_many([
            {"customer_id": rng.choice(ids), "channel": rng.choice(channels), "summary": f"Talked about order {n}",
             "at": now - timedelta(days=rng.uniform(0, 365))}
            for n in range(start, min(start + 10_000, interactions))
        ])
    opened = []
    for n in range(tickets):
        at = now - timedelta(days=rng.uniform(0, 90))
        row: dict[str, Any] = {"customer_id": rng.choice(ids), "subject": f"Problem {n}", "at": at,
                               "priority": rng.choice(("low", "normal", "high"))}
        if n % 10:  # nine in ten are settled; the rest are open, most of them overdue
            row.update(status="resolved", resolved_at=at + timedelta(hours=5), first_response_at=at,
                       resolution=Resolution(solution="Fixed"))
        opened.append(row)
    crm.tickets.open_many(opened)


# -- the benchmarks ----------------------------------------------------------------------


def bench_import(args: argparse.Namespace, folder: Path, env: dict[str, str], reference: list[str] | None,
                 crmkit_cmd: list[str]) -> tuple[list[Row], dict[str, str]]:
    """CSV import per backend against sqlite-utils; returns the rows and the 100k store URL per backend."""
    source = folder / f"customers-{args.import_rows}.csv"
    write_customers_csv(source, args.import_rows)
    rows: list[Row] = []
    stores: dict[str, str] = {}
    times: dict[str, list[float]] = {name: [] for name in args.backends}
    peaks: dict[str, list[float]] = {name: [] for name in args.backends}
    ref_times: list[float] = []
    ref_peaks: list[float] = []
    for round_ in range(args.import_repeat):
        if reference:
            target = folder / f"sqlite-utils-{round_}.db"
            seconds, peak = run([*reference, "insert", str(target), "customers", str(source), "--csv"], env)
            ref_times.append(seconds)
            ref_peaks.append(peak)
        for backend in args.backends:
            url = f"{backend}://{folder / f'import-{round_}.{SUFFIX[backend]}'}"
            seconds, peak = run([*crmkit_cmd, "--db", url, "import", str(source)], env)
            times[backend].append(seconds)
            peaks[backend].append(peak)
            stores[backend] = url
    size = f"{args.import_rows:,}"
    ref_time = statistics.median(ref_times) if ref_times else None
    if ref_time is not None:
        rows.append([f"import {size} customers (CSV)", "sqlite-utils", f"{ref_time:.2f} s", "(reference)", "1.0x",
                     "", ""])
    for backend in args.backends:
        seconds = statistics.median(times[backend])
        ratio = seconds / ref_time if ref_time else None
        limit = IMPORT_RATIO.get(backend)
        rows.append([f"import {size} customers (CSV, validated)", backend, f"{seconds:.2f} s",
                     f"{ref_time:.2f} s" if ref_time else "n/a", f"{ratio:.2f}x" if ratio else "n/a",
                     f"<= {limit}x" if limit else "", verdict(ratio, limit) if ratio else "n/a"])
    if ref_peaks:
        rows.append([f"peak memory, import {size}", "sqlite-utils", f"{max(ref_peaks):.0f} MB", "", "", "", ""])
    for backend in args.backends:
        peak = max(peaks[backend])
        limit = IMPORT_MEMORY_MB.get(backend)
        rows.append([f"peak memory, import {size}", backend, f"{peak:.0f} MB", "", "",
                     f"< {limit} MB" if limit else "", verdict(peak, limit)])
    return rows, stores


def bench_commands(args: argparse.Namespace, folder: Path, env: dict[str, str], crmkit_cmd: list[str]) -> list[Row]:
    """Single-command latency on a 10k/50k/5k store per backend, against `python -c "import click"`."""
    pm = make_plugin_manager()
    started = time.perf_counter()
    with crmkit.open("memory://", pm=pm, actor="bench") as source:
        build_store(source, args.store_customers, args.store_interactions, args.store_tickets)
        urls = {}
        migrate_times = {}
        for backend in args.backends:
            urls[backend] = f"{backend}://{folder / f'commands.{SUFFIX[backend]}'}"
            begun = time.perf_counter()
            report = maintenance.migrate(source, urls[backend], pm=pm)
            migrate_times[backend] = time.perf_counter() - begun
            if not report.ok:
                raise SystemExit(f"building the {backend} store failed its verification")
        events = source.storage.count("events")
        total = sum(source.stats().values())
    print(f"built the command store ({args.store_customers:,} customers, {args.store_interactions:,} interactions, "
          f"{args.store_tickets:,} tickets, {events:,} events) in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    counter = iter(range(10**9))
    show_id = f"C-{args.store_customers // 2}"
    rows: list[Row] = []
    for backend, url in urls.items():
        base = [*crmkit_cmd, "--db", url]
        commands: dict[str, Callable[[], Sequence[str]]] = {
            "click": lambda: [sys.executable, "-c", "import click"],
            "customer add": lambda: [*base, "customer", "add", "--name", "Bench Mark",
                                     "--email", f"bench{next(counter)}@example.com"],
            "customer show": lambda: [*base, "customer", "show", show_id],
            "ticket list --overdue": lambda: [*base, "ticket", "list", "--overdue"],
        }
        medians = side_by_side(commands, env, args.repeat)
        click_time = medians.pop("click")
        rows.append([f"python -c 'import click' (beside {backend})", "-", ms(click_time), "(reference)", "1.0x",
                     "", ""])
        limit = COMMAND_RATIO.get(backend)
        for name, seconds in medians.items():
            ratio = seconds / click_time
            rows.append([f"crmkit {name}", backend, ms(seconds), ms(click_time), f"{ratio:.1f}x",
                         f"<= {limit}x" if limit else "", verdict(ratio, limit)])
        rows += maintenance_rows(backend, url, folder, total, migrate_times[backend], pm)
    return rows


def maintenance_rows(backend: str, url: str, folder: Path, total: int, migrate_time: float, pm: Any) -> list[Row]:
    """How long the `crmkit db` operations take on the command store (in-process; no targets)."""
    rows: list[Row] = [[f"db migrate memory -> {backend} ({total:,} documents, verified)", backend,
                        f"{migrate_time:.2f} s", "", "", "", "-"]]
    backup = folder / f"commands-{backend}.crmkit.gz"
    with crmkit.open(url, pm=pm) as crm:
        for label, action in (("db check", lambda: maintenance.check(crm)),
                              ("db backup", lambda: maintenance.backup(crm, backup))):
            begun = time.perf_counter()
            result = action()
            rows.append([f"{label} ({total:,} documents)", backend, f"{time.perf_counter() - begun:.2f} s", "", "",
                         "", "-"])
            if label == "db check" and result:
                raise SystemExit(f"db check found problems in the {backend} store: {result[:3]}")
    begun = time.perf_counter()
    maintenance.restore(backup, f"{backend}://{folder / f'restored.{SUFFIX[backend]}'}", pm=pm)
    rows.append([f"db restore ({total:,} documents, verified)", backend, f"{time.perf_counter() - begun:.2f} s",
                 "", "", "", "-"])
    return rows


def bench_startup(args: argparse.Namespace, env: dict[str, str], crmkit_cmd: list[str]) -> list[Row]:
    """`crmkit --version` and `crmkit --help` against `python -c "import click"`."""
    medians = side_by_side({
        "click": lambda: [sys.executable, "-c", "import click"],
        "--version": lambda: [*crmkit_cmd, "--version"],
        "--help": lambda: [*crmkit_cmd, "--help"],
    }, env, args.repeat)
    click_time = medians["click"]
    rows: list[Row] = [["python -c 'import click'", "-", ms(click_time), "(reference)", "1.0x", "", ""]]
    for name, limit in (("--version", VERSION_RATIO), ("--help", HELP_RATIO)):
        ratio = medians[name] / click_time
        rows.append([f"crmkit {name}", "-", ms(medians[name]), ms(click_time), f"{ratio:.1f}x", f"<= {limit}x",
                     verdict(ratio, limit)])
    return rows


def bench_list(args: argparse.Namespace, folder: Path, env: dict[str, str], crmkit_cmd: list[str],
               stores: dict[str, str]) -> list[Row]:
    """A filtered list of the 100k-customer store to JSON, per backend (a whole process, stdout discarded)."""
    rows: list[Row] = []
    size = f"{args.import_rows:,}"
    for backend in args.backends:
        url = stores.get(backend)
        if url is None:  # --only list: import the store through the library first
            url = f"{backend}://{folder / f'list.{SUFFIX[backend]}'}"
            source = folder / "list.csv"
            if not source.exists():
                write_customers_csv(source, args.import_rows)
            run([*crmkit_cmd, "--db", url, "import", str(source)], env)
        with crmkit.open(url, pm=make_plugin_manager()) as crm:
            matched = crm.customers.count(LIST_FILTER)
        medians = side_by_side({"list": lambda: [*crmkit_cmd, "--db", url, "customer", "list", "--where",
                                                 LIST_FILTER, "--format", "json"]}, env, args.repeat)
        limit = LIST_SECONDS.get(backend)
        rows.append([f"customer list --where {LIST_FILTER} --format json ({matched:,} of {size})", backend,
                     f"{medians['list']:.2f} s", "", "", f"< {limit} s" if limit else "",
                     verdict(medians["list"], limit)])
    return rows


# -- main ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    available = [b for b in ("tinydb", "sqlite") if b in registry(make_plugin_manager(), "backend")]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default=",".join(available),
                        help=f"comma-separated file backends to measure (default: {','.join(available)})")
    parser.add_argument("--only", default=",".join(ALL), help=f"which benchmarks to run (default: {','.join(ALL)})")
    parser.add_argument("--import-rows", type=int, default=100_000, help="customers in the CSV import (100000)")
    parser.add_argument("--import-repeat", type=int, default=1, help="runs of each import (median; 1)")
    parser.add_argument("--store-customers", type=int, default=10_000, help="customers in the command store")
    parser.add_argument("--store-interactions", type=int, default=50_000, help="interactions in the command store")
    parser.add_argument("--store-tickets", type=int, default=5_000, help="tickets in the command store")
    parser.add_argument("--repeat", type=int, default=5, help="runs per process timing (median; 5)")
    parser.add_argument("--sqlite-utils", metavar="CMD", help="how to run sqlite-utils (default: find it)")
    parser.add_argument("--install-sqlite-utils", action="store_true",
                        help="if sqlite-utils is not found, pip-install it into a temporary virtualenv")
    parser.add_argument("--keep", metavar="DIR", type=Path, help="build the stores in DIR and keep them")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in args.backends if b not in available]
    if unknown:
        parser.error(f"unknown or unavailable backends: {', '.join(unknown)} (available: {', '.join(available)})")
    args.only = [o.strip() for o in args.only.split(",") if o.strip()]
    if set(args.only) - set(ALL):
        parser.error(f"--only takes {', '.join(ALL)}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    env = child_env()
    crmkit_cmd = [sys.executable, "-m", "crmkit"]
    console = Path(sys.executable).with_name("crmkit")
    if console.exists():
        crmkit_cmd = [str(console)]  # the console script, as users run it
    rows: list[Row] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="crmkit-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        stores: dict[str, str] = {}
        if "startup" in args.only:
            rows += bench_startup(args, env, crmkit_cmd)
        if "import" in args.only:
            reference = find_sqlite_utils(args.sqlite_utils, args.install_sqlite_utils, Path(tmp))
            if reference is None:
                notes.append("sqlite-utils not found: import ratios not measured. Install it (pip install "
                             "sqlite-utils, or pipx), pass --sqlite-utils CMD, or run with --install-sqlite-utils.")
            import_rows, stores = bench_import(args, folder, env, reference, crmkit_cmd)
            rows += import_rows
        if "list" in args.only:
            rows += bench_list(args, folder, env, crmkit_cmd, stores)
        if "commands" in args.only:
            rows += bench_commands(args, folder, env, crmkit_cmd)
    print(f"crmkit {crmkit.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; median of {args.repeat} runs per process timing")
    print(tabulate(rows, headers=["benchmark", "backend", "crmkit", "reference", "ratio", "target", "result"],
                   disable_numparse=True))
    for note in notes:
        print(f"note: {note}")
    failed = sum(1 for row in rows if row[-1] == "FAIL")
    passed = sum(1 for row in rows if row[-1] == "PASS")
    print(f"{passed} targets met, {failed} missed")


if __name__ == "__main__":
    main()
