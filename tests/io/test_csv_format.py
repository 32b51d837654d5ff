"""The CSV reader and writer: formula neutralising, delimiter sniffing, line numbers, ragged rows."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from crmkit.errors import ValidationError
from crmkit.io.base import ROW_ERROR
from crmkit.io.csv_format import neutralise_cell, read_csv, sniff_delimiter, unneutralise_cell, write_csv
from crmkit.io.transfer import read_rows


def read(text: str) -> list[tuple[int, dict]]:
    return list(read_csv(io.StringIO(text, newline="")))


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("@x", "'@x"),
        ("-x", "'-x"),
        ("+x", "'+x"),
        ("\tTabbed", "'\tTabbed"),
        ("\rCR", "'\rCR"),
        ("-12.5", "-12.5"),
        ("+4722334455", "+4722334455"),
        ("12", "12"),
        ("-3e5", "-3e5"),
        ("+47 22 33 44 55", "'+47 22 33 44 55"),  # not E.164: a spreadsheet would evaluate it
        ("Ann", "Ann"),
        ("a=b", "a=b"),
        ("", ""),
        ("'=x", "''=x"),  # an apostrophe the user typed survives the round trip
        ("'plain", "'plain"),
    ],
)
def test_neutralise_cell(cell: str, written: str) -> None:
    assert neutralise_cell(cell) == written
    assert unneutralise_cell(written) == cell


def test_dangerous_cells_survive_write_and_read() -> None:
    cells = ["=SUM(A1)", "@x", "-x", "+x", "-12.5", "+4722334455", "'=x", "''@y", "=1\n=2"]
    buf = io.StringIO(newline="")
    write_csv(buf, [{"v": c} for c in cells], ["v"])
    text = buf.getvalue()
    assert "\n'=SUM(A1)\n" in text and "\n-12.5\n" in text and "\n+4722334455\n" in text
    assert [row["v"] for _line, row in read(text)] == cells


def test_writer_neutralises_header_and_formats_values() -> None:
    buf = io.StringIO(newline="")
    write_csv(buf, [{"=a": True, "b": None, "c": 3}], ["=a", "b", "c"])
    assert buf.getvalue() == "'=a,b,c\ntrue,,3\n"


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [("a,b,c", ","), ("a;b;c", ";"), ("a\tb\tc", "\t"), ("single", ","), ('"x;y",b', ","), ("a;b,c;d", ";")],
)
def test_sniff_delimiter(header: str, delimiter: str) -> None:
    assert sniff_delimiter(header) == delimiter


def test_reads_comma_semicolon_and_tab_files() -> None:
    expected = [(2, {"name": "Ann", "emails": "ann@example.com"})]
    assert read("name,emails\nAnn,ann@example.com\n") == expected
    assert read("name;emails\r\nAnn;ann@example.com\r\n") == expected
    assert read("name\temails\nAnn\tann@example.com\n") == expected


def test_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffname,emails\nÅse,ase@example.com\n".encode())
    rows, fmt = read_rows(path, pm=None)
    assert fmt == "csv"
    assert rows == [(2, {"name": "Åse", "emails": "ase@example.com"})]
    # Also when the caller opened the file without utf-8-sig.
    with path.open(encoding="utf-8", newline="") as fp:
        assert list(read_csv(fp))[0][1]["name"] == "Åse"


def test_trailing_empty_cells_are_ignored_like_thunderbird_writes_them() -> None:
    rows = read("First Name,Last Name\nJohn,Doe,\nJane,Doe,,\n")
    assert rows == [(2, {"First Name": "John", "Last Name": "Doe"}), (3, {"First Name": "Jane", "Last Name": "Doe"})]


def test_trailing_empty_header_field_is_not_a_column() -> None:
    assert read("a,b,\n1,2,\n") == [(2, {"a": "1", "b": "2"})]


def test_extra_non_empty_or_missing_cells_are_row_errors() -> None:
    rows = read("a,b\n1,2,3\n1\n1,2\n")
    assert rows[0][0] == 2 and "has 3 cells but the header has 2" in rows[0][1][ROW_ERROR]
    assert rows[1][0] == 3 and "has 1 cells" in rows[1][1][ROW_ERROR]
    assert rows[2] == (4, {"a": "1", "b": "2"})


def test_quotes_embedded_newlines_and_physical_line_numbers() -> None:
    text = 'name,notes\n"Ann ""the boss""","line one\nline two\nline three"\n\nBob,"x"\n"Cy","a\r\nb"\n'
    rows = read(text)
    assert rows == [
        (2, {"name": 'Ann "the boss"', "notes": "line one\nline two\nline three"}),
        (6, {"name": "Bob", "notes": "x"}),
        (7, {"name": "Cy", "notes": "a\r\nb"}),
    ]


def test_binary_file_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    with pytest.raises(ValidationError) as info:
        read_rows(path)
    assert info.value.field == "file" and "not UTF-8" in info.value.reason


def test_nul_bytes_are_a_file_error() -> None:
    with pytest.raises(ValidationError, match="binary data"):
        read("a,b\n1,\x002\n")


def test_latin1_file_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("name\nBjørn\n".encode("latin-1"))
    with pytest.raises(ValidationError, match="not UTF-8"):
        read_rows(path)


def test_empty_file_and_duplicate_header_are_file_errors() -> None:
    with pytest.raises(ValidationError, match="empty"):
        read("")
    with pytest.raises(ValidationError, match="twice"):
        read("a,b,a\n1,2,3\n")


def test_reader_returns_the_header_so_a_file_without_rows_can_be_checked() -> None:
    reader = read_csv(io.StringIO("name;E-mail\n"))
    with pytest.raises(StopIteration) as info:
        next(reader)
    assert info.value.value == ["name", "E-mail"]
