"""The ``memory://`` backend: a store that lives and dies with the process.

Meant for tests and throw-away scripts. It shares its engine (and therefore
its behaviour, down to transaction rollback and id rules) with the tinydb
backend, so a test that passes on memory exercises the same code paths.
Each ``open`` makes a new, empty store.
"""

from __future__ import annotations

from ..errors import ValidationError
from ..hookspecs import hookimpl
from ._engine import Engine
from .base import BackendSpec
from .url import parse_store_url


class MemoryStore(Engine):
    """A :class:`~crmkit.storage.base.Storage` kept in memory only."""

    def __init__(self) -> None:
        super().__init__(url="memory://")
        self._created = False

    def _commit(self) -> None:
        self._created = True

    def exists(self) -> bool:
        """True once a write transaction has committed (there is nothing to create before that)."""
        self._check_open()
        return self._created


def open_memory(url: str) -> MemoryStore:
    """Open a new, empty memory store for ``memory://``."""
    scheme, _ = parse_store_url(url)
    if scheme != "memory":
        raise ValidationError("db", url, "the memory backend serves memory:// only")
    return MemoryStore()


@hookimpl
def crmkit_storage_backends() -> list[BackendSpec]:
    """Contribute the ``memory`` backend."""
    return [
        BackendSpec(
            scheme="memory",
            open=open_memory,
            description="In-process store for tests and scratch work; nothing is saved.",
        )
    ]
