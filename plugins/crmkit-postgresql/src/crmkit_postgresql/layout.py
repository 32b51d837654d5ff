"""The tables of a store: names, DDL, and the marker that says "this schema is a crmkit store".

See :mod:`crmkit_postgresql.store` for what each table holds.
"""

from __future__ import annotations

import orjson

#: The version of the layout. A store with a higher format is refused (crmkit-postgresql is too old).
FORMAT = 1

#: Lookup paths per collection, as the ``_crmkit`` marker records them.
Paths = dict[str, tuple[tuple[str, ...], ...]]

# Whether the schema (the parameter) holds the marker table. A query on pg_class sees what other
# transactions committed since ours began; to_regclass() could answer from a stale cache.
MARKED = ("SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
          "WHERE n.nspname = %s AND c.relname = '_crmkit' AND c.relkind = 'r')")


def quote(*names: str) -> str:
    """A (schema-qualified) identifier for SQL text that also holds ``%s`` placeholders."""
    return ".".join('"' + name.replace('"', '""') + '"' for name in names).replace("%", "%%")


def store_ddl(schema: str) -> list[str]:
    """Create the schema (if needed) and crmkit's own tables; the caller inserts the marker row."""
    return [
        f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}",
        f"CREATE TABLE {quote(schema, '_crmkit')} (format integer NOT NULL, lookup_keys text NOT NULL, "
        "created_at timestamptz NOT NULL DEFAULT now())",
        f"CREATE TABLE {quote(schema, '_meta')} (key text PRIMARY KEY, value text NOT NULL)",
        f"CREATE TABLE {quote(schema, '_counters')} (prefix text PRIMARY KEY, last bigint NOT NULL)",
        f"CREATE TABLE {quote(schema, '_collections')} (name text PRIMARY KEY, "
        "position integer GENERATED ALWAYS AS IDENTITY)",
    ]


def collection_ddl(schema: str, name: str, position: int) -> list[str]:
    """Create a collection's table and indexes.

    Index, sequence and constraint names come from the collection's position,
    not its name: they share the schema's namespace with the tables, and a
    long name would be cut at 63 bytes.
    """
    table, n = quote(schema, name), position
    return [
        f"CREATE TABLE {table} ("
        f"seq bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME {quote(schema, f'_c{n}_seq')}), "
        "id text NOT NULL, num bigint, version bigint NOT NULL, doc jsonb NOT NULL, "
        f"keys text[] NOT NULL DEFAULT '{{}}', raw text, CONSTRAINT {quote(f'_c{n}_pkey')} PRIMARY KEY (id))",
        f"CREATE UNIQUE INDEX {quote(f'_c{n}_order')} ON {table} (seq)",
        f"CREATE INDEX {quote(f'_c{n}_doc')} ON {table} USING gin (doc jsonb_path_ops)",
        # No pending list for lookups: a fresh insert must not make every lookup scan it.
        f"CREATE INDEX {quote(f'_c{n}_keys')} ON {table} USING gin (keys) WITH (fastupdate = off)",
        f"CREATE INDEX {quote(f'_c{n}_raw')} ON {table} (seq) WHERE raw IS NOT NULL",
    ]


def paths_to_json(paths: Paths) -> str:
    """The lookup paths as the marker stores them."""
    return orjson.dumps({name: [list(p) for p in value] for name, value in sorted(paths.items())}).decode()


def paths_from_json(text: str) -> Paths:
    """The lookup paths from the marker."""
    return {name: tuple(tuple(p) for p in value) for name, value in orjson.loads(text).items()}


def merge_paths(stored: Paths, wanted: Paths) -> Paths:
    """The paths a store indexes only grow: what it had, plus what this crmkit looks up."""
    merged = {name: tuple(paths) for name, paths in stored.items()}
    for name, paths in wanted.items():
        have = list(merged.get(name, ()))
        have.extend(p for p in paths if p not in have)
        merged[name] = tuple(have)
    return merged
