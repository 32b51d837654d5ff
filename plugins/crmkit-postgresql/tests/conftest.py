"""A real PostgreSQL server for the tests, and a fresh schema (so a fresh store) per test.

The server is the one ``CRMKIT_TEST_POSTGRESQL_URL`` names (``.ci/run`` starts one
with ``scripts/pg-test-server`` and sets it); without it, the tests start their own
throw-away server with that script, and skip, saying why, when they cannot.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

import crmkit_postgresql

# So that the conformance suite's asserts show their values when they fail.
pytest.register_assert_rewrite("crmkit.testing")

pytest_plugins = ["crmkit.testing"]

SERVER_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pg-test-server"
URL_VARIABLE = "CRMKIT_TEST_POSTGRESQL_URL"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The URL of a PostgreSQL database the tests may create schemas in (no ``schema=`` parameter)."""
    given = os.environ.get(URL_VARIABLE)
    if given:
        yield given
        return
    if shutil.which("bash") is None or subprocess.run(
        ["bash", str(SERVER_SCRIPT), "available"], capture_output=True, check=False
    ).returncode != 0:
        pytest.skip(f"no PostgreSQL server: {URL_VARIABLE} is not set and no PostgreSQL binaries were found "
                    "to start one (install PostgreSQL, or set PG_BINDIR)")
    folder = tempfile.mkdtemp(prefix="crmkit-pg-tests-")
    started = subprocess.run(["bash", str(SERVER_SCRIPT), "start", folder], capture_output=True, text=True,
                             check=False, timeout=180)
    if started.returncode != 0:
        subprocess.run(["bash", str(SERVER_SCRIPT), "stop", folder], capture_output=True, check=False)
        pytest.skip(f"could not start a PostgreSQL server for the tests: {started.stderr.strip()[-500:]}")
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run(["bash", str(SERVER_SCRIPT), "stop", folder], capture_output=True, check=False, timeout=60)


def with_schema(url: str, schema: str) -> str:
    """``url`` with ``schema=`` added to its query."""
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


@pytest.fixture(scope="session")
def admin(pg_url: str) -> Iterator[psycopg.Connection]:
    """A plain psycopg connection to the test database, for looking behind the backend's back."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def new_url(pg_url: str, admin: psycopg.Connection) -> Iterator[Callable[[], str]]:
    """``new_url()``: the URL of a new, empty store (a schema of its own), dropped after the test."""
    schemas: list[str] = []
    run = uuid.uuid4().hex[:8]
    counter = itertools.count(1)

    def make() -> str:
        schema = f"t_{run}_{next(counter)}"
        schemas.append(schema)
        return with_schema(pg_url, schema)

    yield make
    for schema in schemas:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module")
def module_url(pg_url: str, admin: psycopg.Connection) -> Iterator[str]:
    """The URL of a new, empty store shared by the tests of one module, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:8]}_module"
    yield with_schema(pg_url, schema)
    admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def url(new_url: Callable[[], str]) -> str:
    """The URL of a new, empty store."""
    return new_url()


@pytest.fixture
def store(url: str) -> Iterator[crmkit_postgresql.PostgresStore]:
    """An open, empty store (not the conformance suite's fixture: that one lives in its class)."""
    opened = crmkit_postgresql.open_postgresql(url)
    yield opened
    opened.close()


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer store, settings or plugin choices; a private home; a fixed actor."""
    for name in ("CRMKIT_DB", "CRMKIT_PLUGINS", "CRMKIT_DISABLE_PLUGINS", "CRMKIT_TRACE_PLUGINS", "CRMKIT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CRMKIT_USER", "tester")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
