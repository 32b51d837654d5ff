"""The import's per-file shortcuts give exactly what the general, per-cell paths give.

- ``unflatten`` plans a file's columns once (``_row_plan``); the planned rows must
  equal the general path's, key for key, and fail with the same errors.
- A whole import through the planned path stores the same documents, lookup keys
  and events as one through the general path (compared store against store).
- ``plain_email`` remembers its verdict per domain; the SQLite insert checks and
  encodes in bulk: both keep their answers and errors.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import crmkit
from crmkit.errors import Conflict, ImportRowsError, ValidationError
from crmkit.io import records
from crmkit.io.records import _unflatten_general, unflatten
from crmkit.io.transfer import import_records
from crmkit.models import Customer, Interaction, Ticket
from crmkit.services import normalize
from crmkit.storage.sqlite import SQLiteStore

from .conftest import ticking_clock

ROWS: list[tuple[type, dict[str, Any]]] = [
    (Customer, {"name": "Ann", "emails": "ann@example.com", "phones": "+4722334455", "address.city": "Oslo",
                "tags": "a; b;  ; a", "stage": "lead", "tier": "A"}),
    (Customer, {"name": " Bob ", "emails": "", "phones": "   ", "address.city": "", "tags": ";"}),
    (Customer, {"name": "Cy", "address.city": "Oslo", "address.street": " Main 1 ", "address.country": ""}),
    (Customer, {"name": "Di", "consent.email": "true", "consent.sms": "", "fields.points": "",
                "fields.level": "gold", "external_ids.crm": "7", "external_ids.old": ""}),
    (Customer, {"name": "Ed", "email": "e@example.com", "tag": "x", "city": "Bergen"}),
    (Customer, {"name": "Fi", "emails": ["f@example.com", " g@example.com "], "address.city": None,
                "contacts": '[{"name": "Gus"}]', "stage_history": ""}),
    (Customer, {"name": "Gil", "address.city": 5, "tags": None, "external_ids.x": None}),
    (Customer, {"name": "Hal", "address.city": True}),
    (Customer, {"name": "Ida", "unknown": "1", "address.planet": "Mars"}),
    (Customer, {"id": "C-4", "name": "Jo", "created_at": "2024-01-02T03:04:05Z", "version": "3"}),
    (Ticket, {"customer": "C-1", "title": "Broken", "opened_at": "2024-01-02", "resolution.solution": "Fixed",
              "steps": ""}),
    (Interaction, {"customer_id": "C-1", "occurred_at": "2024-01-02T10:00:00", "topics": "a;b",
                   "customer_email": "a@example.com"}),
]

BAD_ROWS: list[tuple[type, dict[str, Any]]] = [
    (Customer, {"name": "x", "emails": "a@example.com", "email": "b@example.com", "address": "x"}),
    (Customer, {"name": "x", "address": "Oslo", "address.city": "Oslo"}),
    (Customer, {"name": "x", "address.city": "Oslo", "address": "Oslo"}),
    (Customer, {"name": "x", "city": "Oslo", "address.city": "Bergen"}),
    (Customer, {"name": "x", "consent.email": "perhaps"}),
    (Customer, {"name": "x", "contacts": "[not json"}),
    (Customer, {"name": "x", "fields": "gold"}),
    (Customer, {"name": "x", "address.planet": "Mars"}),
    (Customer, {"name": "x", "created_at": "yesterday"}),
    (Customer, {"name": "x", "version": "three"}),
]


def _outcome(fn: Any) -> Any:
    try:
        return ("ok", list(fn().items()))
    except ValidationError as err:
        return ("error", err.field, err.value, err.reason)


@pytest.mark.parametrize(("model", "row"), ROWS + BAD_ROWS)
def test_planned_unflatten_equals_the_general_path(model: type, row: dict[str, Any]) -> None:
    planned = _outcome(lambda: unflatten(row, model))
    general = _outcome(lambda: _unflatten_general(row, model))
    assert planned == general
    assert _outcome(lambda: unflatten(row, model)) == general  # a second row of the same file (cached plan)


def test_rows_sharing_cells_share_their_frozen_address_but_not_other_cells() -> None:
    first = unflatten({"name": "A", "address.city": "Oslo"}, Customer)
    second = unflatten({"name": "B", "address.city": "Oslo"}, Customer)
    assert first["address"] == second["address"] and first["address"].city == "Oslo"
    # 1, 1.0 and True are equal keys, but make different addresses
    cities = [unflatten({"name": "A", "address.city": v}, Customer)["address"].city for v in (1, 1.0, True)]
    assert cities == ["1", "1.0", "True"]


def test_clashing_columns_take_the_general_path() -> None:
    assert records._row_plan(Customer, ("name", "city", "address.city")) is None
    assert records._row_plan(Customer, ("name", "email", "emails")) is None
    assert records._row_plan(Customer, ("name", "emails", "address.city")) is not None


# -- whole imports, planned against general -------------------------------------------

CSV = """name,emails,phones,company,title,address.city,tags,stage,tier,fields.note,consent.email
Tom Berg,tom.berg.0@example.com,+4740000000,Berg AS,Manager,Stavanger,vip,lead,A,,true
Bob Moen,Bob.Moen.1@Example.COM,+4740000001,,,Oslo,,customer,C,hello,
Eva Lie,eva@example.com; eva.lie@example.org,,,,Oslo,"a; b",,B,,false
Kim Ek,kim@example.com,+47 22 33 44 55,,,,,,,,
"""


def _open(path: Path) -> Any:
    clock = ticking_clock(datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc))
    return crmkit.open(f"sqlite:///{path}", actor="tester", clock=clock, region="NO")


def _contents(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                     "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {name: conn.execute(f'SELECT * FROM "{name}" ORDER BY 1, 2').fetchall() for name in tables}
    finally:
        conn.close()


def _import(tmp_path: Path, name: str, text: str, **options: Any) -> tuple[Any, dict[str, list[tuple[Any, ...]]]]:
    source = tmp_path / "in.csv"
    source.write_text(text, "utf-8")
    store = _open(tmp_path / name)
    try:
        try:
            outcome: Any = import_records(store, str(source), record_type="customers", **options)
            outcome = (outcome.created, outcome.skipped, outcome.problems)
        except ImportRowsError as err:
            outcome = ("refused", str(err))
    finally:
        store.close()
    return outcome, _contents(tmp_path / name)


@pytest.mark.parametrize("options", [{}, {"skip_invalid": True}])
@pytest.mark.parametrize("text", [CSV, CSV + "Bad,not-an-email,,,,,,,,,\n,x@example.com,,,,,,,,,\n"
                                  "Dup,tom.berg.0@example.com,,,,,,,,,\n"])
def test_planned_import_stores_what_the_general_path_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              text: str, options: dict[str, Any]) -> None:
    planned = _import(tmp_path, "planned.db", text, **options)
    with monkeypatch.context() as patch:
        patch.setattr(records, "_row_plan", lambda model, names: None)
        general = _import(tmp_path, "general.db", text, **options)
    assert planned == general
    outcome, tables = planned
    if outcome[0] != "refused":
        # documents, their lookup keys (k_*) and one creation event each
        assert len(tables["c_customers"]) == outcome[0] and len(tables["c_events"]) == outcome[0]
        assert any(row[:2] == ("emails", "bob.moen.1@example.com") for row in tables["k_customers"])
        store = _open(tmp_path / "planned.db")
        try:
            assert store.customers.find_by_email("BOB.moen.1@example.com").address.city == "Oslo"
        finally:
            store.close()


# -- plain_email's remembered domains ----------------------------------------------------


@pytest.mark.parametrize("addresses", [
    ["ann@Example.COM", "bob@Example.COM", "info@Example.COM", "ann@Example.COM"],
    ["a@b.test", "c@b.test", "a@x.localhost", "a@localhost"],
    ["a@ex--ample.com", "b@ex--ample.com", "x@" + "a" * 250 + ".com", "a@b.c-", "a@b.c-"],
    ["a..b@example.com", "ann@example.com", "\"q\"@example.com", "ann@exämple.com"],
])
def test_plain_email_answers_the_same_with_its_domain_memory(addresses: list[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(normalize, "_DOMAINS", {})
    first = [normalize.plain_email(a) for a in addresses]
    again = [normalize.plain_email(a) for a in addresses]  # answered from the memory
    monkeypatch.setattr(normalize, "_DOMAINS", {})
    fresh = [normalize.plain_email(a) for a in reversed(addresses)][::-1]
    assert first == again == fresh
    expected = {"ann@Example.COM": "ann@example.com", "info@Example.COM": None, "a@b.test": None,
                "a@ex--ample.com": None, "a..b@example.com": None, "ann@exämple.com": None}
    for address, result in zip(addresses, first):
        if address in expected:
            assert result == expected[address], address


# -- the SQLite bulk insert ----------------------------------------------------------------


def test_bulk_insert_keeps_its_checks_and_flags(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    try:
        with pytest.raises(ValidationError, match="version"):
            store.insert("notes", [{"id": "N-1", "version": True}])
        with pytest.raises(ValidationError, match="record id"):
            store.insert("notes", [{"id": "N-1", "version": 1}, {"id": "n 2", "version": 1}])
        with pytest.raises(Conflict, match="N-2"):
            store.insert("notes", [{"id": "N-1", "version": 1}, {"id": "N-2", "version": 1},
                                   {"id": "N-2", "version": 1}])
        with pytest.raises(ValidationError, match="not JSON-compatible"):
            store.insert("notes", [{"id": "N-1", "version": 1}, {"id": "N-2", "version": 1, "at": object()}])

        class Doc(dict):  # type: ignore[type-arg]
            pass

        store.insert("notes", [{"id": "N-1", "version": 1, "text": "a\x00b"}, Doc(id="N-2", version=2),
                               {"id": "N-3", "version": 1, "x": [[1]]}])
        assert [d["id"] for d in store.scan("notes")] == ["N-1", "N-2", "N-3"]
    finally:
        store.close()
    conn = sqlite3.connect(tmp_path / "s.db")
    try:
        assert conn.execute("SELECT id, version, odd FROM c_notes ORDER BY seq").fetchall() == [
            ("N-1", 1, 1), ("N-2", 2, 0), ("N-3", 1, 1)]
    finally:
        conn.close()


def test_csv_rows_with_and_without_apostrophes_read_alike() -> None:
    import io

    from crmkit.io.csv_format import read_csv

    text = "a,b\nO'Brien,'=x\nplain,'=y\n'@z,it's\nx,y\n"
    rows = [row for _line, row in read_csv(io.StringIO(text))]
    assert rows == [{"a": "O'Brien", "b": "=x"}, {"a": "plain", "b": "=y"}, {"a": "@z", "b": "it's"},
                    {"a": "x", "b": "y"}]


@pytest.mark.parametrize("count", [1, 127, 128, 129, 300])
def test_bulk_insert_writes_every_row_and_key_in_order(tmp_path: Path, count: int) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    try:
        docs = [{"id": f"C-{n}", "version": 1, "emails": [f"p{n}@example.com", f"Q{n}@example.com"]}
                for n in range(1, count + 1)]
        store.insert("customers", docs)
        assert store.scan("customers") == docs
        assert store.scan("customers", where=None, limit=None)[-1]["id"] == f"C-{count}"
    finally:
        store.close()
    conn = sqlite3.connect(tmp_path / "s.db")
    try:
        keys = conn.execute("SELECT path, value, seq FROM k_customers ORDER BY seq, value").fetchall()
    finally:
        conn.close()
    assert keys == [("emails", f"{letter}{n}@example.com", n) for n in range(1, count + 1) for letter in "pq"]
