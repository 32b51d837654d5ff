"""The engine's lookup indexes give exactly the documents a full scan gives, whatever their shape."""

from __future__ import annotations

from typing import Any

import pytest

from crmkit.storage.base import LOOKUP_KEYS
from crmkit.storage.memory import MemoryStore
from crmkit.storage.query import Compare, In, matches

SHAPES: list[Any] = [
    "Ann@Example.com", "ann@example.com", "STRASSE@x.org", "straße@x.org", "", None, 7, 7.5, True,
    ["ann@example.com"], ["bob@example.com", "ANN@example.com"], [], [None, "ann@example.com", 3],
    [["ann@example.com"], "x"], {"email": "ann@example.com"}, [{"email": "ann@example.com"}],
    [{"email": ["ann@example.com", "c@d.e"]}, {"name": "no email"}, "loose"],
]
VALUES = ["ann@example.com", "strasse@x.org", "ANN@EXAMPLE.COM", "x", "c@d.e", "7", ""]


@pytest.mark.parametrize("path", [("emails",), ("contacts", "email")], ids=".".join)
def test_index_candidates_equal_a_full_scan(path: tuple[str, ...]) -> None:
    assert path in LOOKUP_KEYS["customers"]
    docs = []
    for n, shape in enumerate(SHAPES, 1):
        doc: dict[str, Any] = {"id": f"C-{n}", "version": 1}
        if path == ("emails",):
            doc["emails"] = shape
        else:
            doc["contacts"] = shape if isinstance(shape, list) else [{"email": shape}]
        docs.append(doc)
    docs.append({"id": f"C-{len(SHAPES) + 1}", "version": 1})  # the path missing
    store = MemoryStore()
    store.insert("customers", docs)
    for value in VALUES:
        for where in (Compare(path, "=", value), In(path, (value, "c@d.e"))):
            expected = [doc["id"] for doc in docs if matches(where, doc)]
            assert [doc["id"] for doc in store.scan("customers", where)] == expected, (where, value)
    # and after writes, through the incremental path
    store.replace("customers", {**docs[0], "version": 2, path[0]: ["c@d.e"]}, 1)
    store.delete("customers", docs[1]["id"])
    where = Compare(path, "=", "c@d.e")
    assert [d["id"] for d in store.scan("customers", where)] == \
        [d["id"] for d in store.scan("customers") if matches(where, d)]
