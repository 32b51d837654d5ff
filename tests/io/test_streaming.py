"""A CSV import reads its file one chunk at a time, with the same checks and report as a whole file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import crmkit
from crmkit import hookimpl
from crmkit.errors import ImportRowsError, ValidationError
from crmkit.io._importer import CHUNK
from crmkit.io.base import ImporterSpec
from crmkit.io.transfer import import_records
from crmkit.plugins import make_plugin_manager


def write_csv(path: Path, rows: int, bad_line: int | None = None) -> Path:
    lines = ["name,emails"]
    for n in range(rows):
        email = "not-an-address" if n + 2 == bad_line else f"p{n}@example.com"
        lines.append(f"Person {n},{email}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_csv_file_is_planned_and_written_while_it_is_read(tmp_path: Path) -> None:
    stored_when_read: list[int] = []

    class CountingCsv:
        """The CSV reader, noting how many customers the store holds as each row is read."""

        @hookimpl
        def crmkit_importers(self) -> list[ImporterSpec]:
            from crmkit.io.csv_format import read_csv

            def read(fp: Any) -> Any:
                for line, row in read_csv(fp):
                    stored_when_read.append(crm.storage.count("customers"))
                    yield line, row

            return [ImporterSpec(format="countcsv", read=read, suffixes=(".countcsv",), flat=True, uniform_rows=True)]

    crm = crmkit.open("memory://", pm=make_plugin_manager(entrypoints=False, extra=[CountingCsv()]))
    source = write_csv(tmp_path / "people.countcsv", 3 * CHUNK + 7)
    report = import_records(crm, source, record_type="customers")
    assert (report.created, report.total) == (3 * CHUNK + 7, 3 * CHUNK + 7)
    assert crm.customers.count() == 3 * CHUNK + 7
    # the first chunk was read before anything was written, the last after three chunks were
    assert stored_when_read[0] == 0 and stored_when_read[-1] == 3 * CHUNK


def test_a_bad_row_in_a_late_chunk_imports_nothing(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = write_csv(tmp_path / "people.csv", 2 * CHUNK + 10, bad_line=2 * CHUNK + 5)
    with pytest.raises(ImportRowsError) as err:
        import_records(crm, source, record_type="customers")
    assert [line for line, _ in err.value.problems] == [2 * CHUNK + 5]
    assert err.value.total == 2 * CHUNK + 10
    assert crm.customers.count() == 0


def test_skip_invalid_counts_every_row_of_a_stream(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = write_csv(tmp_path / "people.csv", CHUNK + 3, bad_line=CHUNK + 2)
    report = import_records(crm, source, record_type="customers", skip_invalid=True)
    assert (report.created, report.skipped, report.total) == (CHUNK + 2, 1, CHUNK + 3)


def test_columns_that_appear_late_in_a_flat_stream_are_refused(tmp_path: Path) -> None:
    class Ragged:
        """A reader that says its rows all have the header's columns, and breaks its word."""

        @hookimpl
        def crmkit_importers(self) -> list[ImporterSpec]:
            def read(fp: Any) -> Any:
                for n in range(CHUNK + 5):
                    row = {"name": f"Person {n}"}
                    if n == CHUNK + 1:
                        row["shoe_size"] = "44"
                    yield n + 2, row

            return [ImporterSpec(format="ragged", read=read, suffixes=(".ragged",), flat=True, uniform_rows=True)]

    crm = crmkit.open("memory://", pm=make_plugin_manager(entrypoints=False, extra=[Ragged()]))
    (tmp_path / "x.ragged").write_text("", encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        import_records(crm, tmp_path / "x.ragged", record_type="customers")
    assert err.value.field == "columns" and "shoe_size" in str(err.value)
    assert crm.customers.count() == 0


def test_an_empty_csv_file_with_a_header_is_checked(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "empty.csv").write_text("name,shoe_size\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="shoe_size"):
        import_records(crm, tmp_path / "empty.csv", record_type="customers")
    (tmp_path / "fine.csv").write_text("name,emails\n", encoding="utf-8")
    assert import_records(crm, tmp_path / "fine.csv", record_type="customers").total == 0


def test_a_reader_without_uniform_rows_is_read_whole_for_its_mapping(tmp_path: Path) -> None:
    class Cards:
        """Like a vCard reader: a flat reader whose later rows carry columns the first lacks."""

        @hookimpl
        def crmkit_importers(self) -> list[ImporterSpec]:
            def read(fp: Any) -> Any:
                yield 1, {"FN": "Ann Lee"}
                yield 2, {"FN": "Bo Berg", "EMAIL": "bo@example.com"}

            return [ImporterSpec(format="cards", read=read, suffixes=(".cards",), flat=True)]

    crm = crmkit.open("memory://", pm=make_plugin_manager(entrypoints=False, extra=[Cards()]))
    (tmp_path / "x.cards").write_text("", encoding="utf-8")
    report = import_records(crm, tmp_path / "x.cards", record_type="customers",
                            mapping={"FN": "name", "EMAIL": "emails"})
    assert report.created == 2 and crm.customers.find_by_email("bo@example.com").name == "Bo Berg"


def test_only_regular_files_are_streamed(tmp_path: Path) -> None:
    # a pipe may keep the import, and so the store's write lock, waiting on its writer
    import io
    import os

    from crmkit.io.transfer import _regular_file

    (tmp_path / "a.csv").write_text("name\nAnn\n", encoding="utf-8")
    with open(tmp_path / "a.csv", encoding="utf-8") as fp:
        assert _regular_file(fp)
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, encoding="utf-8") as fp:
        os.close(write_end)
        assert not _regular_file(fp)
    assert not _regular_file(io.StringIO("name\nAnn\n"))


def test_one_row_giving_an_email_twice_is_refused(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "dup.csv").write_text("name,emails\nAnn Lee,Ann@example.com; ann@example.com\n", encoding="utf-8")
    with pytest.raises(ImportRowsError) as err:
        import_records(crm, tmp_path / "dup.csv", record_type="customers")
    assert err.value.problems == [(2, "email: is given twice (for Ann Lee)")]
    assert crm.customers.count() == 0
