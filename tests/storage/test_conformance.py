"""The storage conformance suite (crmkit.testing) on every built-in backend.

One ``backend`` fixture parametrized over the backends runs the whole suite
on each, the way tinydb's tests/conftest.py runs its suite on every storage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Before the import below, so the suite's asserts show their values when they fail.
pytest.register_assert_rewrite("crmkit.testing")

from crmkit.storage import memory, tinydb  # noqa: E402
from crmkit.storage.base import BackendSpec, Storage  # noqa: E402
from crmkit.storage.memory import MemoryStore, open_memory  # noqa: E402
from crmkit.storage.sqlite import open_sqlite  # noqa: E402
from crmkit.storage.tinydb import TinyDBStore, open_tinydb  # noqa: E402
from crmkit.testing import StorageConformance, StorageFactory, storage_url_factory  # noqa: E402

__all__ = ["storage_url_factory"]  # a fixture, used by name

OPENERS: dict[str, Callable[[str], Storage]] = {"memory": open_memory, "tinydb": open_tinydb, "sqlite": open_sqlite}
PERSISTENT = {"memory": False, "tinydb": True, "sqlite": True}


@pytest.fixture(params=sorted(OPENERS))
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


class TestConformance(StorageConformance):
    @pytest.fixture
    def make_storage(
        self, backend: str, storage_url_factory: Callable[[str], str]
    ) -> Iterator[StorageFactory]:
        with StorageFactory(OPENERS[backend], lambda: storage_url_factory(backend)) as factory:
            yield factory

    # Not named "persistent": that is the class attribute the base fixture reads.
    @pytest.fixture(name="persistent")
    def persistent_for_backend(self, backend: str) -> bool:
        return PERSISTENT[backend]


def test_builtin_backends_are_hookimpls(tmp_path: Path) -> None:
    specs = [*memory.crmkit_storage_backends(), *tinydb.crmkit_storage_backends()]
    assert all(isinstance(spec, BackendSpec) and spec.description for spec in specs)
    assert [spec.scheme for spec in specs] == ["memory", "tinydb"]
    assert all(hasattr(module.crmkit_storage_backends, "crmkit_impl") for module in (memory, tinydb))
    assert isinstance(specs[0].open("memory://"), MemoryStore)
    opened = specs[1].open(f"tinydb://{tmp_path}/crm.json")
    assert isinstance(opened, TinyDBStore) and opened.url == f"tinydb://{tmp_path}/crm.json"


def test_each_memory_url_is_a_new_store() -> None:
    first = open_memory("memory://")
    first.insert("customers", [{"id": "C-1", "version": 1}])
    assert open_memory("memory://").count("customers") == 0


def test_a_caught_inner_failure_undoes_only_the_inner_transaction(
    backend: str, storage_url_factory: Callable[[str], str]
) -> None:
    # Beyond the shipped contract: the engine's nested transactions are savepoints.
    store = OPENERS[backend](storage_url_factory(backend))
    with store.transaction():
        store.insert("customers", [{"id": "C-1", "version": 1}])
        try:
            with store.transaction():
                store.insert("customers", [{"id": "C-2", "version": 1}])
                store.delete("customers", "C-1")
                store.set_meta("profile", "inner")
                raise ValueError("inner failure, handled below")
        except ValueError:
            pass
        store.insert("customers", [{"id": "C-3", "version": 1}])
    assert [doc["id"] for doc in store.scan("customers")] == ["C-1", "C-3"]
    assert store.get_meta("profile") is None
