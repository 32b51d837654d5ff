"""The json and jsonl readers and writers: shapes, line numbers, exact output."""

from __future__ import annotations

import io
import json

import pytest

from crmkit.entities import RECORD_TYPES
from crmkit.errors import ValidationError
from crmkit.io.base import ROW_ERROR
from crmkit.io.json_format import (
    read_json,
    read_json_all,
    read_jsonl,
    read_jsonl_all,
    write_json,
    write_json_all,
    write_jsonl,
    write_jsonl_all,
)

DOCS = [{"id": "C-1", "name": "Ann", "tags": ["a", "b"], "address": {"city": "Oslo"}}, {"id": "C-2", "name": "Ø"}]


def test_json_writer_matches_json_dumps_and_reads_back_with_lines() -> None:
    buf = io.StringIO()
    write_json(buf, DOCS, [])
    assert buf.getvalue() == json.dumps(DOCS, indent=2, ensure_ascii=False) + "\n"
    rows = list(read_json(io.StringIO(buf.getvalue())))
    assert [row for _line, row in rows] == DOCS
    lines = buf.getvalue().splitlines()
    assert [line for line, _row in rows] == [2, 13]  # where each object's "{" is
    assert lines[1] == lines[12] == "  {"


def test_json_empty_list() -> None:
    buf = io.StringIO()
    write_json(buf, [], [])
    assert buf.getvalue() == "[]\n"
    assert list(read_json(io.StringIO(buf.getvalue()))) == []


def test_json_all_shape_round_trip() -> None:
    groups = {"customers": DOCS, "interactions": [], "tickets": [{"id": "T-1"}], "events": []}
    buf = io.StringIO()
    write_json_all(buf, groups)
    assert json.loads(buf.getvalue()) == groups
    assert buf.getvalue() == json.dumps(groups, indent=2, ensure_ascii=False) + "\n"
    read = list(read_json_all(io.StringIO(buf.getvalue())))
    assert [(kind, row["id"]) for kind, _line, row in read] == [("customers", "C-1"), ("customers", "C-2"),
                                                                ("tickets", "T-1")]


def test_json_reader_refuses_other_shapes() -> None:
    with pytest.raises(ValidationError, match="all"):
        list(read_json(io.StringIO('{"customers": []}')))
    with pytest.raises(ValidationError, match="list of objects"):
        list(read_json(io.StringIO('"text"')))
    with pytest.raises(ValidationError, match="not valid JSON") as info:
        list(read_json(io.StringIO('[\n {"a": 1},\n {"a": }\n]')))
    assert "line 3" in info.value.reason


def test_json_non_object_element_is_a_row_error() -> None:
    rows = list(read_json(io.StringIO('[{"a": 1},\n 5]')))
    assert rows[0] == (1, {"a": 1})
    assert rows[1][0] == 2 and "not an object" in rows[1][1][ROW_ERROR]


def test_jsonl_writer_and_reader() -> None:
    buf = io.StringIO()
    write_jsonl(buf, DOCS, [])
    lines = buf.getvalue().splitlines()
    assert [json.loads(line) for line in lines] == DOCS
    text = buf.getvalue() + "\n" + "{not json}\n" + "[1]\n"
    rows = list(read_jsonl(io.StringIO(text)))
    assert rows[:2] == [(1, DOCS[0]), (2, DOCS[1])]
    assert rows[2][0] == 4 and "not valid JSON" in rows[2][1][ROW_ERROR]
    assert rows[3][0] == 5 and "not an object" in rows[3][1][ROW_ERROR]


def test_jsonl_all_shape() -> None:
    buf = io.StringIO()
    write_jsonl_all(buf, {"customers": DOCS[:1], "tickets": [{"id": "T-1"}]})
    assert buf.getvalue().splitlines()[0] == json.dumps({"type": "customers", "record": DOCS[0]}, ensure_ascii=False)
    read = list(read_jsonl_all(io.StringIO(buf.getvalue() + '{"oops": 1}\n')))
    assert read[:2] == [("customers", 1, DOCS[0]), ("tickets", 2, {"id": "T-1"})]
    assert read[2][0] == "" and ROW_ERROR in read[2][2]


def test_json_reader_names_what_a_foreign_object_holds() -> None:
    with pytest.raises(ValidationError) as info:
        list(read_json(io.StringIO('{"records": [{"LastName": "Lee"}]}')))
    assert info.value.reason.startswith("holds one JSON object with the keys 'records', not records crmkit can read")
    assert "a list of records" in info.value.reason and f"{'/'.join(RECORD_TYPES)} keys" in info.value.reason
    with pytest.raises(ValidationError, match="holds an empty JSON object"):
        list(read_json(io.StringIO("{}")))
    with pytest.raises(ValidationError, match="list of records of one type"):
        list(read_json_all(io.StringIO("[]")))
