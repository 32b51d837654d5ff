"""A large CSV import is one storage commit and takes seconds, not minutes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from crmkit.io.transfer import export_records, import_records

ROWS = 10_000


def big_csv(path: Path) -> Path:
    lines = ["name,emails,phones,tags,address.city,fields.points,consent.email"]
    lines += [f"Customer {n},c{n}@example.com,+47{40000000 + n},\"t{n % 7}; all\",City {n % 50},{n},{'true' if n % 2 else 'false'}"
              for n in range(ROWS)]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_10k_rows_are_one_commit(open_tinydb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    crm = open_tinydb()
    crm.customers.add("Already here", emails=["here@example.com"])  # the store file exists before the import
    store = str(tmp_path / "crm.json")
    source = big_csv(tmp_path / "big.csv")
    writes: list[str] = []
    real_replace = os.replace

    def counting_replace(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
        if os.fspath(dst) == store:
            writes.append(os.fspath(src))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", counting_replace)
    started = time.perf_counter()
    report = import_records(crm, source, record_type="customers")
    elapsed = time.perf_counter() - started
    print(f"\n10k-row CSV import: {elapsed:.2f} s")
    assert report.created == ROWS and report.problems == []
    assert len(writes) == 1
    assert elapsed < 30
    reopened = open_tinydb()
    assert reopened.customers.count() == ROWS + 1
    last = reopened.customers.find(email=f"c{ROWS - 1}@example.com")[0]
    assert (last.name, last.phones, last.tags, last.fields, last.consent.email) == (
        f"Customer {ROWS - 1}", (f"+47{40000000 + ROWS - 1}",), (f"t{(ROWS - 1) % 7}", "all"),
        {"points": str(ROWS - 1)}, True)
    # And back out: the export writes every row.
    with (tmp_path / "out.csv").open("w", encoding="utf-8", newline="") as fp:
        assert export_records(reopened, "customers", fp, format="csv") == ROWS + 1


def test_bad_row_in_a_big_file_writes_nothing(open_tinydb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    crm = open_tinydb()
    crm.customers.add("Already here")
    before = (tmp_path / "crm.json").read_bytes()
    source = big_csv(tmp_path / "big.csv")
    text = source.read_text().replace("c9999@example.com", "broken-address")
    source.write_text(text)
    with pytest.raises(Exception) as info:
        import_records(crm, source, record_type="customers")
    assert getattr(info.value, "problems", None) and info.value.problems[0][0] == ROWS + 1
    assert (tmp_path / "crm.json").read_bytes() == before
