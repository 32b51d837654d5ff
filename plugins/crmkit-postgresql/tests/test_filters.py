"""The SQL translation of filters and sorts gives exactly what ``matches`` and ``sort_docs`` give.

The documents are chosen to be hard on SQL: casefolding that is not ASCII
lowercasing (ß, ſ, the Kelvin sign), numbers that jsonb rewrites (1e16, -0.0),
NUL, lists inside lists, numbers next to their strings, bools next to 1.
"""

from __future__ import annotations

import random

import pytest
from crmkit.storage.query import (
    And,
    Compare,
    Exists,
    Filter,
    In,
    Not,
    Or,
    SortKey,
    matches,
    sort_docs,
)
from crmkit.testing import where

from crmkit_postgresql import PostgresStore
from crmkit_postgresql.compile import Compiler

VALUES = [
    "gold", "GOLD", "Gold ", "Straße", "STRASSE", "strasse", "ſ", "s", "S", "\u212a", "k", "É", "é", "émile",
    "ÉMILE", "日本", "İ", "i", "ǅ", "a\x00b", "a.b", "a%b", "x_y", "(", "'", '"', "\\", "\n", "true", "1", "1.5",
    "", 0, 1, 1.0, 1.5, -7, 2**53, 2**53 + 1, 0.1, 1e16, 1e-7, -0.0, 10**18, True, False, None, [], {},
    ["x", "GOLD"], [["gold"]], [[1], 2], {"a": "gold"}, {"c": 1}, [{"c": "gold"}, {"c": 2}], [{"c": [1, "x"]}],
]
PATHS = [("a",), ("b",), ("a", "c"), ("emails",), ("missing",), ("a", "weird key")]
OPS = ["=", "!=", "<", "<=", ">", ">=", "~", "!~"]


def make_docs(rng: random.Random, n: int) -> list[dict]:
    docs = []
    for number in range(1, n + 1):
        doc: dict = {"id": f"C-{number}", "version": 1}
        for key in ("a", "b", "emails"):
            if rng.random() < 0.8:
                doc[key] = rng.choice(VALUES)
        if rng.random() < 0.2:
            doc["a"] = {"c": rng.choice(VALUES), "weird key": rng.choice(VALUES)}
        if rng.random() < 0.2:
            doc["emails"] = [rng.choice(VALUES) for _ in range(rng.randrange(3))]
        docs.append(doc)
    return docs


def make_filter(rng: random.Random, depth: int = 0) -> Filter:
    kind = rng.random()
    if depth < 3 and kind < 0.25:
        items = tuple(make_filter(rng, depth + 1) for _ in range(rng.randrange(1, 4)))
        return And(items) if rng.random() < 0.5 else Or(items)
    if depth < 3 and kind < 0.32:
        return Not(make_filter(rng, depth + 1))
    path = rng.choice(PATHS)
    if kind < 0.40:
        return Exists(path)
    if kind < 0.50:
        return In(path, tuple(rng.choice(VALUES) for _ in range(rng.randrange(0, 4))))
    return Compare(path, rng.choice(OPS), rng.choice(VALUES))


@pytest.fixture(scope="module")
def loaded(module_url):
    store = PostgresStore(module_url)
    docs = make_docs(random.Random(7), 400)
    store.insert("customers", docs)
    yield store, docs
    store.close()


@pytest.mark.parametrize("seed", range(12))
def test_filters_agree_with_matches(loaded, seed: int) -> None:
    store, docs = loaded
    rng = random.Random(seed)
    for _ in range(40):
        flt = make_filter(rng)
        expected = [d["id"] for d in docs if matches(flt, d)]
        assert [d["id"] for d in store.scan("customers", flt)] == expected, flt
        assert store.count("customers", flt) == len(expected), flt
        limit = rng.randrange(0, 6)
        assert [d["id"] for d in store.scan("customers", flt, limit=limit)] == expected[:limit], flt


@pytest.mark.parametrize("seed", range(6))
def test_sorted_pages_agree_with_sort_docs(loaded, seed: int) -> None:
    store, docs = loaded
    rng = random.Random(100 + seed)
    for _ in range(15):
        flt = make_filter(rng) if rng.random() < 0.6 else None
        order = tuple(SortKey(rng.choice(PATHS), rng.random() < 0.5) for _ in range(rng.randrange(1, 3)))
        expected = [d["id"] for d in sort_docs([d for d in docs if matches(flt, d)], order)]
        limit = rng.randrange(1, 30)
        assert [d["id"] for d in store.scan("customers", flt, order=order, limit=limit)] == expected[:limit]
        assert [d["id"] for d in store.scan("customers", flt, order=order)] == expected


def test_documents_jsonb_cannot_hold_round_trip(loaded) -> None:
    store, docs = loaded
    assert store.scan("customers") == docs
    tricky = {"id": "C-9999", "version": 1, "f": [1e16, -0.0, 1e-7, 5e-324, 1.5], "nul": "\x00", "n": [[[]]]}
    store.insert("tickets", [tricky])
    got = store.get("tickets", "C-9999")
    assert got == tricky and [type(v) for v in got["f"]] == [float] * 5  # type: ignore[index]
    assert str(got["f"][1]) == "-0.0"  # type: ignore[index]


def test_ascii_data_is_decided_in_sql(store) -> None:
    # Filters over plain ASCII documents never need Python: no row comes back as "maybe".
    store.insert("customers", [{"id": f"C-{n}", "version": 1, "tier": ["gold", "Silver", None][n % 3],
                                "score": n, "tags": ["vip"] if n % 2 else []} for n in range(1, 60)])
    for text in ("tier=GOLD", "tier!=gold", "score>=30 and tags~VI", "not (tier in (gold, silver))",
                 "tags=vip or score<3"):
        compiled = Compiler(()).compile(where(text))
        table = store._t("customers")
        rows = store._all(f"SELECT DISTINCT ({compiled.tri.text}) FROM {table}", compiled.tri.params)
        assert {r[0] for r in rows} <= {0, 2}, text


def test_lookups_use_the_keys_index(store) -> None:
    store.insert("customers", [{"id": f"C-{n}", "version": 1, "emails": [f"c{n}@example.com"]}
                               for n in range(1, 2001)])
    store._run("ANALYZE " + store._t("customers"))

    compiled = Compiler([("emails",)]).compile(where("emails=C777@EXAMPLE.COM"))
    assert compiled.exact and compiled.index is not None
    plan = store._all("EXPLAIN SELECT id FROM " + store._t("customers") + " WHERE " + compiled.index.text,
                      compiled.index.params)
    assert any("_keys" in line[0] for line in plan), plan
    assert [d["id"] for d in store.scan("customers", where("emails=C777@EXAMPLE.COM"))] == ["C-777"]


SORTABLE = [0, 1, -7, 1.5, 0.1, 2**53, 10**18, "gold", "Gold", "GOLD", "apple", "Zed", "zed", "", "a b", "2024-01-15",
            True, False, None]


@pytest.mark.parametrize("seed", range(4))
def test_postgresql_sorts_numbers_ascii_text_and_booleans_as_sort_docs_does(store, seed: int, monkeypatch) -> None:
    rng = random.Random(seed)
    docs = []
    for number in range(1, 301):
        doc: dict = {"id": f"C-{number}", "version": 1}
        for key in ("a", "b"):
            if rng.random() < 0.85:
                doc[key] = rng.choice(SORTABLE)
        docs.append(doc)
    store.insert("customers", docs)

    def not_expected(*args, **kwargs):
        raise AssertionError("sorted in Python although PostgreSQL could")

    monkeypatch.setattr(store, "_sorted_in_python", not_expected)
    for _ in range(25):
        order = tuple(SortKey((rng.choice("ab"),), rng.random() < 0.5) for _ in range(rng.randrange(1, 3)))
        flt = rng.choice([None, where("a?"), where("not b=gold"), Compare(("a",), ">", 0)])
        expected = [d["id"] for d in sort_docs([d for d in docs if matches(flt, d)], order)]
        limit = rng.randrange(1, 40)
        assert [d["id"] for d in store.scan("customers", flt, order=order, limit=limit)] == expected[:limit]
