"""crmkit-postgresql: crmkit's storage backend for PostgreSQL.

Install it next to crmkit and name the store by URL::

    crmkit --db postgresql://crm@db.example.com/shop customer list
    crmkit.open("postgresql:///shop?schema=crm")   # the rest from PGHOST, PGUSER, ...

The plugin registers the ``postgresql`` scheme (and ``postgres``, its alias)
through the ``crmkit_storage_backends`` hook. The store's layout and
guarantees are described in :mod:`crmkit_postgresql.store`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.hookspecs import hookimpl

if TYPE_CHECKING:
    from crmkit.storage.base import BackendSpec

    from .store import FORMAT, PostgresStore

__version__ = "0.1.0"
__all__ = ["FORMAT", "PostgresStore", "__version__", "crmkit_storage_backends", "open_postgresql"]


def open_postgresql(url: str) -> Any:
    """Open a store from a ``postgresql://`` URL (psycopg is imported only now, not with every command)."""
    from .store import open_postgresql as open_store

    return open_store(url)


def __getattr__(name: str) -> Any:
    if name in ("FORMAT", "PostgresStore"):
        from . import store

        return getattr(store, name)
    raise AttributeError(f"module 'crmkit_postgresql' has no attribute {name!r}")


@hookimpl
def crmkit_storage_backends() -> list[BackendSpec]:
    """Contribute the ``postgresql`` backend, and ``postgres`` as another name for it."""
    from crmkit.storage.base import BackendSpec  # here, not at import: `crmkit --help` opens no store

    return [
        BackendSpec(
            scheme="postgresql",
            open=open_postgresql,
            description="A PostgreSQL database shared by the whole team (jsonb documents, one table per collection).",
        ),
        BackendSpec(
            scheme="postgres",
            open=open_postgresql,
            description="Another name for postgresql://.",
        ),
    ]
