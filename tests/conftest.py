"""Fixtures for every test folder: an isolated environment, a built-ins-only plugin manager, stores, the CLI.

Nothing here reads the developer's real home, store, settings or installed plugins.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import crmkit
from crmkit.plugins import PluginManager, make_plugin_manager

#: Environment variables crmkit reads; each test starts without them (CRMKIT_USER is set, see below).
CRMKIT_VARIABLES = ("CRMKIT_DB", "CRMKIT_USER", "CRMKIT_PLUGINS", "CRMKIT_DISABLE_PLUGINS", "CRMKIT_REGION",
                    "CRMKIT_TRACE_PLUGINS")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run each test in ``tmp_path`` with a private home, no crmkit settings, a fixed actor, and UTC."""
    for name in CRMKIT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CRMKIT_USER", "tester")  # events name a predictable actor
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for variable, folder in (("XDG_DATA_HOME", ".local/share"), ("XDG_CONFIG_HOME", ".config"),
                             ("XDG_CACHE_HOME", ".cache"), ("XDG_STATE_HOME", ".local/state")):
        monkeypatch.setenv(variable, str(home / folder))
    monkeypatch.chdir(tmp_path)
    # TZ is restored by hand rather than by monkeypatch: tzset() must run after the old value is back.
    old_tz = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old_tz is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old_tz
    time.tzset()


@pytest.fixture
def pm() -> PluginManager:
    """A fresh plugin manager with crmkit's built-in plugins only."""
    return make_plugin_manager(entrypoints=False)


@pytest.fixture(params=["memory", "tinydb"])
def crm(request: pytest.FixtureRequest, pm: PluginManager, tmp_path: Path) -> Iterator[crmkit.CRM]:
    """An open, empty CRM on each backend (``memory://`` and a tinydb file in ``tmp_path``)."""
    url = "memory://" if request.param == "memory" else str(tmp_path / "crm-fixture.json")
    with crmkit.open(url, pm=pm) as opened:
        yield opened


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Where the ``cli`` fixture's store lives (a tinydb file; created by the first write)."""
    folder = tmp_path / "data"
    folder.mkdir()
    return folder / "crm.json"


#: Pass as ``db=`` to the ``cli`` fixture to leave out ``--db`` (so the store is found from env or settings).
NO_DB = None


@pytest.fixture
def cli(pm: PluginManager, store_path: Path) -> Callable[..., Result]:
    """Run ``crmkit`` in-process: ``cli("customer", "list", input=None, db=store_path)``.

    ``--db`` points at ``store_path`` unless ``db`` names another store, or is
    None to leave it out. Returns click's ``Result`` (``stdout`` and ``stderr`` apart).
    """
    # Imported here so that other test folders do not depend on the CLI importing cleanly.
    from crmkit.cli import build_cli

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, db: str | Path | None = store_path) -> Result:
        argv = ["--db", str(db), *args] if db is not None else list(args)
        return runner.invoke(build_cli(pm), argv, input=input)

    return invoke


@pytest.fixture
def open_store(pm: PluginManager, store_path: Path) -> Iterator[Callable[..., crmkit.CRM]]:
    """Open the ``cli`` fixture's store (or another) through the library, to check what commands did."""
    opened: list[crmkit.CRM] = []

    def reopen(url: str | Path = store_path) -> crmkit.CRM:
        crm = crmkit.open(url, pm=pm)
        opened.append(crm)
        return crm

    yield reopen
    for crm in opened:
        crm.close()
