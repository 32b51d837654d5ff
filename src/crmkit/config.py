"""Finding the store: ``--db``, then ``CRMKIT_DB``, then ``crmkit.toml`` up the tree, then the user data dir.

This is the only module that reads configuration from the environment and disk.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import attrs

from .errors import StorageError, ValidationError

if TYPE_CHECKING:
    from pathlib import Path

CONFIG_NAME = "crmkit.toml"


@attrs.frozen
class StoreLocation:
    """Where the store is and how it was found (``source`` is option, env, file or default)."""

    url: str
    source: str
    base_dir: Path | None = None
    settings: dict[str, Any] = attrs.field(factory=dict)


def find_config(start: Path | None = None) -> Path | None:
    """The nearest ``crmkit.toml`` in ``start`` (default: the working directory) or a parent."""
    # os.path, not pathlib, for the walk: most commands find nothing and need no Path.
    folder = os.path.realpath(os.fspath(start) if start is not None else os.getcwd())
    while True:
        candidate = os.path.join(folder, CONFIG_NAME)
        if os.path.isfile(candidate):
            from pathlib import Path

            return Path(candidate)
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def read_config(path: Path) -> dict[str, Any]:
    """The settings in a ``crmkit.toml``; a malformed file is a one-line error naming it."""
    try:
        with path.open("rb") as fp:
            import tomllib  # imported here: most commands find no crmkit.toml

            data = tomllib.load(fp)
    except (OSError, ValueError) as err:  # tomllib.TOMLDecodeError is a ValueError
        raise StorageError(f"{path}: cannot read settings: {err}") from None
    section = data.get("crmkit", data)
    if not isinstance(section, dict):
        raise StorageError(f"{path}: [crmkit] must be a table")
    return section


def plugin_settings(table: str, *, cwd: Path | None = None) -> tuple[dict[str, Any], Path | None]:
    """A plugin's ``[table]`` of the nearest ``crmkit.toml`` (``[services]``), and the file it came from.

    ``({}, None)`` when there is no such file, ``({}, path)`` when the file
    has no such table. A file that cannot be read, or a value that is not a
    table, is a ValidationError naming the file.
    """
    path = find_config(cwd)
    if path is None:
        return {}, None
    try:
        with path.open("rb") as fp:
            import tomllib  # imported here: most commands find no crmkit.toml

            data = tomllib.load(fp)
    except (OSError, ValueError) as err:  # tomllib.TOMLDecodeError is a ValueError
        raise ValidationError(CONFIG_NAME, str(path), f"cannot be read: {err}") from None
    value = data.get(table, {})
    if not isinstance(value, dict):
        raise ValidationError(f"[{table}]", str(path), "must be a table")
    return value, path


def default_store_path() -> Path:
    """The per-user store used when nothing else says where the store is."""
    from pathlib import Path

    import platformdirs

    return Path(platformdirs.user_data_dir("crmkit", appauthor=False)) / "crm.json"


def locate_store(url: str | None = None, *, cwd: Path | None = None) -> StoreLocation:
    """Resolve the store URL from the argument, ``CRMKIT_DB``, ``crmkit.toml`` or the default."""
    if url:
        return StoreLocation(url=url, source="option", base_dir=cwd)
    env = os.environ.get("CRMKIT_DB")
    if env:
        return StoreLocation(url=env, source="env", base_dir=cwd)
    config = find_config(cwd)
    if config is not None:
        settings = read_config(config)
        db = settings.get("db")
        if not isinstance(db, str) or not db:
            raise ValidationError("db", db, f"missing or not text in {config}")
        return StoreLocation(url=db, source="file", base_dir=config.parent, settings=settings)
    path = default_store_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return StoreLocation(url=str(path), source="default", base_dir=None)


def write_config(folder: Path, *, db: str, profile: str | None = None, region: str | None = None,
                 overwrite: bool = False) -> Path:
    """Write ``crmkit.toml`` in ``folder`` pointing at ``db``; refuses to replace one unless ``overwrite``."""
    path = folder / CONFIG_NAME
    if path.exists() and not overwrite:
        raise StorageError(f"{path} already exists; remove it or pass overwrite")
    lines = ["[crmkit]", f"db = {_toml_string(db)}"]
    if profile:
        lines.append(f"profile = {_toml_string(profile)}")
    if region:
        lines.append(f"region = {_toml_string(region)}")
    try:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as err:
        raise StorageError(f"{path}: cannot write settings: {err.strerror}") from None
    return path


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
