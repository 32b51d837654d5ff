"""Store URLs, connections, and psycopg errors turned into crmkit errors.

``postgresql://user@host:port/dbname?schema=crm&sslmode=require`` (or
``postgres://``) is handed to libpq as it is, minus crmkit's own ``schema``
parameter, so everything libpq understands works: parts left out of the URL
come from the ``PG*`` environment variables (``PGHOST``, ``PGPORT``,
``PGUSER``, ``PGPASSWORD``, ``PGDATABASE``, ...) and ``~/.pgpass``.
"""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, unquote

import psycopg
from crmkit.errors import StorageError, ValidationError

SCHEMES = ("postgresql", "postgres")
DEFAULT_SCHEMA = "crmkit"
#: Schema names crmkit accepts in ``?schema=`` (an unquoted PostgreSQL identifier, lower case).
SCHEMA_PATTERN = re.compile(r"[a-z_][a-z0-9_]{0,62}")
#: Seconds to wait for a server when neither the URL nor PGCONNECT_TIMEOUT says.
CONNECT_TIMEOUT = 10

_PASSWORD_IN_NETLOC = re.compile(r"^([^/?#]*?://[^:/?#@]*):[^@/?#]*@")
_PASSWORD_IN_QUERY = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages."""
    url = _PASSWORD_IN_NETLOC.sub(r"\1:***@", url)
    return _PASSWORD_IN_QUERY.sub(r"\1***", url)


def split_url(url: str) -> tuple[str, str]:
    """Return ``(libpq conninfo, schema)`` for a store URL; ``ValidationError`` if it is not one."""
    if not isinstance(url, str):
        raise ValidationError("db", url, "a postgresql:// URL is required")
    scheme, sep, _rest = url.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise ValidationError("db", redact(url), "the postgresql backend serves postgresql:// and postgres:// URLs")
    if "\x00" in url:
        raise ValidationError("db", redact(url), "a store URL cannot contain a NUL character")
    base, qmark, query = url.partition("?")
    fragment = ""
    if "#" in query:
        query, _, fragment = query.partition("#")
    kept, schema = [], DEFAULT_SCHEMA
    for part in query.split("&") if query else ():
        name = unquote(part.partition("=")[0])
        if name == "schema":
            value = dict(parse_qsl(part, keep_blank_values=True)).get("schema", "")
            if not SCHEMA_PATTERN.fullmatch(value):
                raise ValidationError("db", redact(url), f"schema={value!r} is not a lower-case identifier "
                                                          "(letters, digits, _; at most 63)")
            schema = value
        elif part:
            kept.append(part)
    conninfo = base + (qmark + "&".join(kept) if kept else "") + ("#" + fragment if fragment else "")
    if scheme != scheme.lower():
        conninfo = scheme.lower() + conninfo[len(scheme):]
    return conninfo, schema


def connect(conninfo: str, shown: str) -> psycopg.Connection:
    """Open an autocommit connection; every failure is a one-line ``StorageError``."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.Error as err:
        raise StorageError(f"{shown}: not a valid PostgreSQL URL: {describe(err, conninfo)}") from None
    extra: dict[str, object] = {}
    if "connect_timeout" not in params and not os.environ.get("PGCONNECT_TIMEOUT"):
        extra["connect_timeout"] = CONNECT_TIMEOUT
    if "application_name" not in params and not os.environ.get("PGAPPNAME"):
        extra["application_name"] = "crmkit"
    try:
        conn = psycopg.connect(conninfo, autocommit=True, **extra)  # type: ignore[arg-type]
    except psycopg.Error as err:
        raise StorageError(f"{shown}: cannot connect: {describe(err, conninfo)}") from None
    encoding = conn.info.parameter_status("server_encoding")
    if encoding != "UTF8":
        conn.close()
        raise StorageError(f"{shown}: the database's encoding is {encoding}; crmkit needs a UTF8 database")
    if conn.info.server_version < 120000:
        conn.close()
        raise StorageError(f"{shown}: PostgreSQL {conn.info.server_version // 10000} is too old; "
                           "crmkit needs PostgreSQL 12 or newer")
    return conn


def describe(err: BaseException, conninfo: str = "") -> str:
    """One line from a psycopg error: libpq's message, without "FATAL:" noise, hints or passwords."""
    text = str(err) or type(err).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    kept = []
    for line in lines:
        if line.upper().startswith(("HINT:", "DETAIL:", "CONTEXT:", "LINE ")) or line.startswith("^"):
            continue
        kept.append(re.sub(r"^(?:connection failed:\s*)?(?:(?:FATAL|ERROR):\s*)?", "", line))
    message = "; ".join(dict.fromkeys(kept)) or type(err).__name__
    password = _password_of(conninfo)
    if password:
        message = message.replace(password, "***")
    return message


def _password_of(conninfo: str) -> str | None:
    try:
        return psycopg.conninfo.conninfo_to_dict(conninfo).get("password")  # type: ignore[return-value]
    except psycopg.Error:
        return None
