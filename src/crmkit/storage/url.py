"""Store URLs: ``memory://``, ``tinydb:///path/crm.json``, ``sqlite:///crm.db``, a bare path.

:func:`parse_store_url` only splits and normalises; deciding which backend
serves a scheme is the registry's job, so unknown schemes pass through for
plugins to claim.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from ..errors import ValidationError

if TYPE_CHECKING:
    from pathlib import Path

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)", re.DOTALL)
# Something that looks like a scheme but lacks "//" ("tinydb:/x", "memory:").
# One letter is left alone: "C:\crm.json" is a Windows path.
_HALF_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:(?!//)")


def parse_store_url(text: str, base_dir: Path | None = None) -> tuple[str, str]:
    """Split a store URL into ``(scheme, location)``.

    - ``memory://`` gives ``("memory", "")``.
    - ``tinydb:///abs/crm.json`` gives ``("tinydb", "/abs/crm.json")``;
      ``tinydb://rel/crm.json`` is relative to ``base_dir`` (default: the
      current directory); ``~`` is expanded.
    - A bare path (``crm.json``, ``~/crm.json``, ``/srv/crm.json``) means tinydb
      and gives its absolute path.
    - Any other ``scheme://rest`` gives ``(scheme, rest)`` untouched
      (``sqlite``, ``postgresql`` and plugin schemes).

    Raises ``ValidationError("db", text, reason)`` for an empty or malformed URL.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("db", text, "a store URL or path is required")
    if "\x00" in text:
        raise ValidationError("db", text, "a store URL cannot contain a NUL character")
    match = _SCHEME.fullmatch(text)
    if match is None:
        if "://" in text:
            raise ValidationError("db", text, "malformed URL: the scheme must be letters, like tinydb://")
        if _HALF_SCHEME.match(text):
            raise ValidationError("db", text, "malformed URL: write scheme://location, like tinydb:///crm.json")
        return "tinydb", _absolute(text, base_dir)
    scheme, rest = match.group(1).lower(), match.group(2)
    if scheme == "memory":
        if rest:
            raise ValidationError("db", text, "memory:// takes no location")
        return "memory", ""
    if scheme == "tinydb":
        if not rest.strip():
            raise ValidationError("db", text, "tinydb:// needs a file path, like tinydb:///srv/crm.json")
        return "tinydb", _absolute(rest, base_dir)
    if not rest:
        raise ValidationError("db", text, f"{scheme}:// needs a location")
    return scheme, rest


def _absolute(path: str, base_dir: Path | None) -> str:
    expanded = os.path.expanduser(path)
    if not os.path.isabs(expanded):
        expanded = os.path.join(os.fspath(base_dir) if base_dir is not None else os.getcwd(), expanded)
    if expanded.endswith(("/", os.sep)):
        raise ValidationError("db", path, "a store path names a file, not a directory")
    return os.path.abspath(expanded)
