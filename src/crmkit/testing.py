"""Pytest fixtures and the storage conformance suite, for crmkit and for plugin authors.

Enable it in a ``conftest.py``::

    pytest_plugins = ["crmkit.testing"]

A storage backend is done when it passes :class:`StorageConformance`.
Subclass it in a test module and provide a ``make_storage`` fixture::

    from crmkit.testing import StorageConformance, StorageFactory

    class TestMyBackend(StorageConformance):
        persistent = True    # False for a backend that forgets everything on close

        @pytest.fixture
        def make_storage(self, storage_url_factory):
            with StorageFactory(open_sqlite, lambda: storage_url_factory("sqlite")) as factory:
                yield factory

``make_storage()`` returns a fresh, empty store; ``make_storage(reopen=True)``
returns a new object on the store made last, as another process would see it.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from .errors import Conflict, NotFound
from .storage.base import Document, Storage
from .storage.query import Filter, SortKey, bind_filter, matches, parse_where, sort_docs

__all__ = ["DATASET", "FILTER_CASES", "SORT_CASES", "Clock", "StorageConformance", "StorageFactory",
           "crmkit_clock", "crmkit_env", "storage_url_factory"]

#: The ``CRMKIT_*`` variables :func:`crmkit_env` clears, so a developer's own setup never leaks into tests.
CRMKIT_VARIABLES = ("CRMKIT_DB", "CRMKIT_PLUGINS", "CRMKIT_DISABLE_PLUGINS", "CRMKIT_TRACE_PLUGINS", "CRMKIT_USER",
                    "CRMKIT_REGION", "CRMKIT_CURRENCY")


class Clock:
    """A clock a test sets and moves by hand; pass it as ``crmkit.open(..., clock=clock)``.

    ``Clock()`` starts on Monday 2 March 2026, 09:00 UTC; ``Clock(start)``
    elsewhere. ``advance(days=2, hours=3)`` moves it on; ``set(moment)`` puts
    it anywhere (a datetime, or ISO text read as UTC when it has no offset).
    """

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set(self, moment: datetime | str) -> None:
        value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        self.now = value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@pytest.fixture
def crmkit_clock() -> Clock:
    """A :class:`Clock` at Monday 2 March 2026, 09:00 UTC."""
    return Clock()


@pytest.fixture
def crmkit_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Keep a test away from the machine's crmkit setup, and return the empty working folder it runs in.

    Clears the ``CRMKIT_*`` variables, points HOME and the XDG folders (so the
    per-user default store and settings) into ``tmp_path``, and changes into
    an empty folder there, so no ``crmkit.toml`` above it is found. Use it
    from an autouse fixture in your ``conftest.py``.
    """
    for name in CRMKIT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, folder in (("HOME", "home"), ("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data")):
        monkeypatch.setenv(name, str(tmp_path / folder))
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    monkeypatch.chdir(work)
    return work

_FILES = {"tinydb": "json", "sqlite": "db"}


@pytest.fixture
def storage_url_factory(tmp_path: Path) -> Callable[[str], str]:
    """Return ``make_url(scheme)``: a new store URL under ``tmp_path`` on every call.

    Knows ``memory``, ``tinydb`` and ``sqlite``; a backend with a server
    (``postgresql``) must build its own URLs.
    """
    counter = itertools.count(1)

    def make_url(scheme: str) -> str:
        if scheme == "memory":
            return "memory://"
        if scheme not in _FILES:
            raise ValueError(f"storage_url_factory cannot make a {scheme}:// URL; build it yourself")
        return f"{scheme}://{tmp_path / f'store-{next(counter)}.{_FILES[scheme]}'}"

    return make_url


class StorageFactory:
    """A ready-made ``make_storage``: opens fresh stores, reopens the last one, closes them all."""

    def __init__(self, opener: Callable[[str], Storage], new_url: Callable[[], str]) -> None:
        self.opener = opener
        self.new_url = new_url
        self.last_url: str | None = None
        self.opened: list[Storage] = []

    def __call__(self, reopen: bool = False) -> Storage:
        if not reopen or self.last_url is None:
            self.last_url = self.new_url()
        store = self.opener(self.last_url)
        self.opened.append(store)
        return store

    def close(self) -> None:
        """Close every store this factory opened."""
        for store in self.opened:
            store.close()
        self.opened.clear()

    def __enter__(self) -> StorageFactory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# A small customer set covering lists, nested dicts, None, missing keys,
# mixed number types, booleans, ISO dates and non-ASCII text.
DATASET: list[Document] = [
    {"id": "C-1", "version": 1, "name": "Ada Lovelace", "tier": "gold", "score": 90,
     "emails": ["ada@example.com", "ADA@work.org"], "tags": ["vip", "math"], "active": True,
     "contacts": [{"name": "Charles", "email": "charles@babbage.org"}],
     "address": {"city": "London"}, "joined": "2024-01-15"},
    {"id": "C-2", "version": 1, "name": "Grace Hopper", "tier": "silver", "score": 75,
     "emails": ["grace@navy.mil"], "tags": ["navy"], "active": False,
     "contacts": [{"name": "Howard", "email": "howard@harvard.edu"},
                  {"name": "Ada", "email": "ada@example.com"}],
     "address": {"city": "New York"}, "joined": "2023-06-01"},
    {"id": "C-3", "version": 1, "name": "Alan Turing", "tier": "gold", "score": 88.5,
     "emails": [], "tags": [], "active": True, "contacts": [], "notes": None,
     "address": {"city": "London"}, "joined": "2024-03-01"},
    {"id": "C-4", "version": 1, "name": "Zoë 李", "tier": None,
     "emails": ["zoe@例え.jp"], "contacts": [{"name": "שרה", "email": "sara@example.com"}],
     "address": {}},
    {"id": "C-5", "version": 1, "name": "Émile", "tier": "bronze", "score": 10,
     "emails": ["emile@exemple.fr"], "tags": ["vip"], "address": {"city": "Paris"},
     "joined": "2022-12-31"},
]

#: (--where text, ids expected, in insertion order). Numbers and booleans are typed with bind_filter.
FILTER_CASES: list[tuple[str, list[str]]] = [
    ("tier=gold", ["C-1", "C-3"]),
    ("tier=GOLD", ["C-1", "C-3"]),
    ("tier!=gold", ["C-2", "C-4", "C-5"]),
    ("score>80", ["C-1", "C-3"]),
    ("score>=88.5", ["C-1", "C-3"]),
    ("score<75", ["C-5"]),
    ("score<=75", ["C-2", "C-5"]),
    ("joined<2024-01-01", ["C-2", "C-5"]),
    ("joined>=2024-01-15", ["C-1", "C-3"]),
    ("name~LOVE", ["C-1"]),
    ("name!~a", ["C-4", "C-5"]),
    ("tags~vip", ["C-1", "C-5"]),
    ("tags!=vip", ["C-2", "C-3", "C-4"]),
    ("emails=ada@example.com", ["C-1"]),
    ("emails=ADA@WORK.ORG", ["C-1"]),
    ("contacts.email=ada@example.com", ["C-2"]),
    ("contacts.email=SARA@example.com and name=\"zoë 李\"", ["C-4"]),
    ("emails in (grace@navy.mil, emile@exemple.fr)", ["C-2", "C-5"]),
    ("tier in (gold, bronze)", ["C-1", "C-3", "C-5"]),
    ("tier?", ["C-1", "C-2", "C-3", "C-5"]),
    ("notes?", []),
    ("address.city?", ["C-1", "C-2", "C-3", "C-5"]),
    ("not tier?", ["C-4"]),
    ("active=true", ["C-1", "C-3"]),
    ("tier=gold and address.city=London", ["C-1", "C-3"]),
    ("tier=gold and score>89", ["C-1"]),
    ("tier=silver or tags~vip", ["C-1", "C-2", "C-5"]),
    ("not (tier=gold or tier=silver)", ["C-4", "C-5"]),
    ("address.city=london and not emails?", ["C-3"]),
    ("emails=nobody@example.com", []),
]

#: (sort keys, ids expected): missing and None values come last in both directions.
SORT_CASES: list[tuple[tuple[SortKey, ...], list[str]]] = [
    ((SortKey(("score",)),), ["C-5", "C-2", "C-3", "C-1", "C-4"]),
    ((SortKey(("score",), descending=True),), ["C-1", "C-3", "C-2", "C-5", "C-4"]),
    ((SortKey(("tier",)), SortKey(("score",), descending=True)), ["C-5", "C-1", "C-3", "C-2", "C-4"]),
    ((SortKey(("address", "city")), SortKey(("name",))), ["C-1", "C-3", "C-2", "C-5", "C-4"]),
    ((SortKey(("joined",), descending=True),), ["C-3", "C-1", "C-2", "C-5", "C-4"]),
]

_TYPES: dict[tuple[str, ...], Callable[[str], Any]] = {
    ("score",): float,
    ("active",): lambda text: text.lower() == "true",
}


def where(text: str) -> Filter:
    """Parse ``--where`` text and type the values of the dataset's number and boolean fields."""
    return bind_filter(parse_where(text), lambda path: (path, _TYPES.get(path, str)))


def ids(docs: list[Document]) -> list[str]:
    """The ids of ``docs``, in order."""
    return [doc["id"] for doc in docs]


def customer(number: int, **fields: Any) -> Document:
    """A minimal customer document ``C-<number>``."""
    return {"id": f"C-{number}", "version": 1, "name": f"Customer {number}", **fields}


class StorageConformance:
    """The Storage contract as tests. Subclass it and provide a ``make_storage`` fixture.

    Set ``persistent = False`` for a backend that keeps nothing after close (or
    override the ``persistent`` fixture); the reopen tests are then skipped.
    """

    persistent: bool = True

    @pytest.fixture
    def make_storage(self) -> Callable[..., Storage]:
        """Override me: ``make_storage(reopen=False) -> Storage`` (see :class:`StorageFactory`)."""
        raise NotImplementedError("a StorageConformance subclass must define a make_storage fixture")

    @pytest.fixture(name="persistent")
    def persistent_fixture(self) -> bool:
        """Whether stores survive a reopen; defaults to the class attribute.

        To decide per parameter, override it under another method name:
        ``@pytest.fixture(name="persistent") def persistent_for(self, backend): ...``
        (a method called ``persistent`` would hide the class attribute).
        """
        if not isinstance(self.persistent, bool):
            raise TypeError("StorageConformance.persistent must be True or False")
        return self.persistent

    @pytest.fixture
    def store(self, make_storage: Callable[..., Storage]) -> Storage:
        """A fresh, empty store."""
        return make_storage()

    @pytest.fixture
    def loaded(self, store: Storage) -> Storage:
        """A store holding :data:`DATASET` in the customers collection."""
        store.insert("customers", copy.deepcopy(DATASET))  # a backend that aliases cannot spoil DATASET
        return store

    @staticmethod
    def reopen(make_storage: Callable[..., Storage], persistent: bool) -> Storage:
        """A second object on the same store; skips the test for non-persistent backends."""
        if not persistent:
            pytest.skip("the backend does not persist")
        return make_storage(reopen=True)

    # -- basic reads and writes --------------------------------------------

    def test_is_a_storage(self, store: Storage) -> None:
        assert isinstance(store, Storage)
        assert isinstance(store.url, str) and store.url

    def test_fresh_store_is_empty(self, store: Storage) -> None:
        assert store.get("customers", "C-1") is None
        assert store.get_many("customers", ["C-1"]) == []
        assert store.scan("customers") == []
        assert store.count("customers") == 0
        assert store.collections() == []
        assert store.get_meta("profile") is None

    def test_insert_get_and_scan_in_insertion_order(self, loaded: Storage) -> None:
        assert loaded.get("customers", "C-2") == DATASET[1]
        assert loaded.scan("customers") == DATASET
        assert loaded.count("customers") == 5
        assert loaded.collections() == ["customers"]
        assert loaded.exists()

    def test_get_many_keeps_order_and_skips_missing(self, loaded: Storage) -> None:
        assert ids(loaded.get_many("customers", ["C-3", "C-9", "C-1"])) == ["C-3", "C-1"]

    def test_collections_are_separate(self, loaded: Storage) -> None:
        loaded.insert("tickets", [{"id": "C-1", "version": 1, "subject": "same id, other collection"}])
        assert loaded.get("customers", "C-1") == DATASET[0]
        assert loaded.count("tickets") == 1
        assert sorted(loaded.collections()) == ["customers", "tickets"]

    def test_reads_return_copies(self, loaded: Storage) -> None:
        loaded.set_meta("settings", {"tiers": ["gold"]})
        got = [loaded.get("customers", "C-1"), *loaded.get_many("customers", ["C-1"]),
               *loaded.scan("customers", where("tier=gold"))]
        for doc in got:
            assert doc is not None
            doc["emails"].append("mutated@example.com")
            doc["name"] = "mutated"
        loaded.get_meta("settings")["tiers"].append("mutated")
        assert loaded.get("customers", "C-1") == DATASET[0]
        assert loaded.get_meta("settings") == {"tiers": ["gold"]}

    def test_writes_store_copies(self, store: Storage) -> None:
        doc = customer(1, tags=["a"])
        meta = {"tiers": ["gold"]}
        store.insert("customers", [doc])
        store.set_meta("settings", meta)
        doc["tags"].append("mutated")
        meta["tiers"].append("mutated")
        assert store.get("customers", "C-1") == customer(1, tags=["a"])
        new = customer(1, tags=["b"], version=2)
        store.replace("customers", new, expected_version=1)
        new["tags"].append("mutated")
        assert store.get("customers", "C-1") == customer(1, tags=["b"], version=2)
        assert store.get_meta("settings") == {"tiers": ["gold"]}

    def test_insert_existing_id_conflicts_and_adds_nothing(self, loaded: Storage) -> None:
        with pytest.raises(Conflict):
            loaded.insert("customers", [customer(6), customer(2)])
        assert loaded.get("customers", "C-6") is None
        assert loaded.get("customers", "C-2") == DATASET[1]

    def test_insert_same_id_twice_in_one_call_conflicts(self, store: Storage) -> None:
        with pytest.raises(Conflict):
            store.insert("customers", [customer(1), customer(1)])
        assert store.count("customers") == 0

    def test_replace(self, loaded: Storage) -> None:
        loaded.replace("customers", {**DATASET[1], "name": "Rear Admiral Hopper", "version": 2}, 1)
        assert loaded.get("customers", "C-2") == {**DATASET[1], "name": "Rear Admiral Hopper", "version": 2}
        assert ids(loaded.scan("customers")) == ids(DATASET)  # replace keeps the position

    def test_replace_with_stale_version_conflicts_and_changes_nothing(self, loaded: Storage) -> None:
        with pytest.raises(Conflict):
            loaded.replace("customers", {**DATASET[1], "name": "Lost update", "version": 8}, 7)
        assert loaded.get("customers", "C-2") == DATASET[1]

    def test_replace_missing_is_not_found(self, store: Storage) -> None:
        with pytest.raises(NotFound):
            store.replace("customers", customer(1), expected_version=1)

    def test_delete(self, loaded: Storage) -> None:
        loaded.delete("customers", "C-2", expected_version=1)
        loaded.delete("customers", "C-4")
        assert loaded.get("customers", "C-2") is None
        assert ids(loaded.scan("customers")) == ["C-1", "C-3", "C-5"]

    def test_delete_with_stale_version_conflicts_and_keeps_the_doc(self, loaded: Storage) -> None:
        with pytest.raises(Conflict):
            loaded.delete("customers", "C-2", expected_version=3)
        assert loaded.get("customers", "C-2") == DATASET[1]

    def test_delete_missing_is_not_found(self, loaded: Storage) -> None:
        with pytest.raises(NotFound):
            loaded.delete("customers", "C-99")
        with pytest.raises(NotFound):
            loaded.delete("tickets", "T-1")

    # -- filters, sorting, limits ------------------------------------------

    @pytest.mark.parametrize(("text", "expected"), FILTER_CASES, ids=[c[0] for c in FILTER_CASES])
    def test_filter(self, loaded: Storage, text: str, expected: list[str]) -> None:
        flt = where(text)
        oracle = [doc["id"] for doc in DATASET if matches(flt, doc)]
        assert oracle == expected, "the hand-written expectation disagrees with matches()"
        assert ids(loaded.scan("customers", flt)) == expected
        assert loaded.count("customers", flt) == len(expected)

    def test_lookups_follow_writes(self, loaded: Storage) -> None:
        # Backends may index lookup paths: every kind of write must show up in them.
        flt = where("emails=ada@example.com")
        assert ids(loaded.scan("customers", flt)) == ["C-1"]
        loaded.replace("customers", {**DATASET[0], "emails": ["ada@new.org"], "version": 2}, 1)
        loaded.insert("customers", [customer(6, emails=["Ada@Example.com"])])
        assert ids(loaded.scan("customers", flt)) == ["C-6"]
        assert ids(loaded.scan("customers", where("emails=ada@new.org"))) == ["C-1"]
        loaded.delete("customers", "C-6")
        assert loaded.scan("customers", flt) == []
        with pytest.raises(KeyError), loaded.transaction():
            loaded.insert("customers", [customer(7, emails=["ada@example.com"])])
            raise KeyError("roll back")
        assert loaded.scan("customers", flt) == []

    @pytest.mark.parametrize(("order", "expected"), SORT_CASES, ids=[
        ",".join(("-" if k.descending else "") + ".".join(k.path) for k in c[0]) for c in SORT_CASES])
    def test_sort(self, loaded: Storage, order: tuple[SortKey, ...], expected: list[str]) -> None:
        assert ids(sort_docs(DATASET, order)) == expected, "the expectation disagrees with sort_docs()"
        assert ids(loaded.scan("customers", order=order)) == expected

    def test_filter_sort_and_limit_together(self, loaded: Storage) -> None:
        desc = (SortKey(("score",), descending=True),)
        assert ids(loaded.scan("customers", where("tags~vip"), order=desc, limit=1)) == ["C-1"]
        assert ids(loaded.scan("customers", order=desc, limit=2)) == ["C-1", "C-3"]
        assert ids(loaded.scan("customers", limit=2)) == ["C-1", "C-2"]
        assert loaded.scan("customers", limit=0) == []
        assert len(loaded.scan("customers", limit=50)) == 5

    # -- values ------------------------------------------------------------

    def test_unicode_round_trips(self, store: Storage, make_storage: Callable[..., Storage],
                                 persistent: bool) -> None:
        text = {"emoji": "🦄👩🏽‍💻🇳🇴", "cjk": "顧客管理システム", "rtl": "مرحبا שלום", "nul": "a\u0000b",
                "combining": "e\u0301", "surrogate_free": "\U0010ffff", "escapes": '"\\\n\t</script>'}
        store.insert("customers", [customer(1, **text)])
        assert store.get("customers", "C-1") == customer(1, **text)
        if persistent:
            assert make_storage(reopen=True).get("customers", "C-1") == customer(1, **text)

    def test_large_text_round_trips(self, store: Storage, make_storage: Callable[..., Storage],
                                    persistent: bool) -> None:
        big = ("Lorem ipsum ✓ " * 80_000)[:1_000_000]
        store.insert("customers", [customer(1, notes=big)])
        assert store.get("customers", "C-1")["notes"] == big  # type: ignore[index]
        if persistent:
            assert make_storage(reopen=True).get("customers", "C-1")["notes"] == big  # type: ignore[index]

    def test_json_values_keep_their_types(self, store: Storage) -> None:
        doc = customer(1, n=0, f=1.5, neg=-7, big=2**53, t=True, f2=False, none=None, empty=[], obj={})
        store.insert("customers", [doc])
        got = store.get("customers", "C-1")
        assert got == doc
        assert got is not None and [type(got[k]) for k in ("n", "f", "t")] == [int, float, bool]

    # -- ids and meta ------------------------------------------------------

    def test_next_ids_are_unique_and_increasing(self, store: Storage) -> None:
        first = store.next_ids("C", 3)
        second = store.next_ids("C")
        assert len(first) == 3 and len(second) == 1
        numbers = first + second
        assert numbers == sorted(set(numbers)) and numbers[0] >= 1
        assert store.next_ids("T") == [1]  # prefixes count independently

    def test_next_ids_are_never_reused_after_delete(self, store: Storage) -> None:
        (number,) = store.next_ids("C")
        store.insert("customers", [customer(number)])
        store.delete("customers", f"C-{number}")
        assert store.next_ids("C")[0] > number

    def test_bump_id(self, store: Storage) -> None:
        store.next_ids("C", 2)
        store.bump_id("C", 40)
        assert store.next_ids("C") == [41]
        store.bump_id("C", 5)  # never goes backwards
        assert store.next_ids("C") == [42]

    def test_meta(self, store: Storage) -> None:
        store.set_meta("profile", "retail")
        store.set_meta("settings", {"currency": "EUR", "tiers": ["gold", "silver"]})
        assert store.get_meta("profile") == "retail"
        assert store.get_meta("settings") == {"currency": "EUR", "tiers": ["gold", "silver"]}
        assert store.get_meta("missing") is None
        assert store.all_meta() == {"profile": "retail", "settings": {"currency": "EUR", "tiers": ["gold", "silver"]}}

    def test_counters_report_what_was_handed_out(self, store: Storage) -> None:
        store.next_ids("C", 3)
        store.bump_id("T", 41)
        assert store.counters() == {"C": 3, "T": 41}

    # -- transactions ------------------------------------------------------

    def test_transaction_commits(self, store: Storage) -> None:
        with store.transaction():
            (number,) = store.next_ids("C")
            store.insert("customers", [customer(number)])
            store.set_meta("profile", "generic")
            assert store.get("customers", f"C-{number}") is not None  # reads see own writes
        assert store.count("customers") == 1
        assert store.get_meta("profile") == "generic"

    def test_rollback_undoes_every_kind_of_write(self, loaded: Storage,
                                                 make_storage: Callable[..., Storage],
                                                 persistent: bool) -> None:
        loaded.set_meta("profile", "generic")
        counter = loaded.next_ids("C")[0]
        with pytest.raises(RuntimeError), loaded.transaction():
            loaded.insert("customers", [customer(50)])
            loaded.insert("tickets", [{"id": "T-1", "version": 1}])
            loaded.replace("customers", {**DATASET[0], "name": "changed", "version": 2}, 1)
            loaded.delete("customers", "C-2")
            loaded.delete("customers", "C-4", expected_version=1)
            loaded.next_ids("C", 5)
            loaded.bump_id("T", 100)
            loaded.set_meta("profile", "retail")
            loaded.set_meta("new_key", [1])
            raise RuntimeError("boom")
        stores = [loaded, make_storage(reopen=True)] if persistent else [loaded]
        for view in stores:
            assert view.scan("customers") == DATASET  # same documents, same order
            assert view.collections() == ["customers"]
            assert view.get_meta("profile") == "generic" and view.get_meta("new_key") is None
        assert loaded.next_ids("C") == [counter + 1]
        assert loaded.next_ids("T") == [1]

    def test_failed_write_inside_transaction_rolls_back_with_it(self, loaded: Storage) -> None:
        with pytest.raises(Conflict), loaded.transaction():
            loaded.insert("customers", [customer(6)])
            loaded.replace("customers", DATASET[1], expected_version=9)
        assert loaded.get("customers", "C-6") is None

    def test_nested_transactions_roll_back_together(self, loaded: Storage) -> None:
        with pytest.raises(ValueError), loaded.transaction():
            loaded.insert("customers", [customer(6)])
            with loaded.transaction():
                loaded.insert("customers", [customer(7)])
                loaded.set_meta("profile", "inner")
                raise ValueError("inner failure")
        assert loaded.get_many("customers", ["C-6", "C-7"]) == []
        assert loaded.get_meta("profile") is None

    def test_nested_transaction_commits_with_the_outer_one(self, store: Storage) -> None:
        with store.transaction():
            with store.transaction():
                store.insert("customers", [customer(1)])
            store.insert("customers", [customer(2)])
        assert ids(store.scan("customers")) == ["C-1", "C-2"]

    # -- persistence and sharing -------------------------------------------

    def test_everything_survives_reopen(self, loaded: Storage, make_storage: Callable[..., Storage],
                                        persistent: bool) -> None:
        loaded.set_meta("profile", "retail")
        numbers = loaded.next_ids("C", 3)
        loaded.bump_id("T", 9)
        loaded.delete("customers", "C-2")
        again = self.reopen(make_storage, persistent)
        assert again.exists()
        assert again.scan("customers") == [d for d in DATASET if d["id"] != "C-2"]
        assert again.get_meta("profile") == "retail"
        assert again.next_ids("C") == [numbers[-1] + 1]
        assert again.next_ids("T") == [10]

    def test_two_handles_share_commits(self, store: Storage, make_storage: Callable[..., Storage],
                                       persistent: bool) -> None:
        other = self.reopen(make_storage, persistent)
        store.insert("customers", [customer(1)])
        assert other.get("customers", "C-1") == customer(1)
        with pytest.raises(Conflict):
            other.insert("customers", [customer(1)])
        taken = set(store.next_ids("C", 2)) | set(other.next_ids("C", 2))
        assert len(taken) == 4
        other.replace("customers", customer(1, version=2), expected_version=1)
        with pytest.raises(Conflict):
            store.replace("customers", customer(1, version=2), expected_version=1)

    def test_bulk_insert_of_1000_docs_in_one_call(self, store: Storage) -> None:
        docs = [customer(n, emails=[f"c{n}@example.com"]) for n in range(1, 1001)]
        store.insert("customers", docs)
        assert store.count("customers") == 1000
        assert ids(store.scan("customers", where("emails=c777@example.com"))) == ["C-777"]
        assert store.scan("customers") == docs
