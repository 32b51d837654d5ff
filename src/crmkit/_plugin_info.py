"""One row of ``crmkit plugins`` (kept out of :mod:`crmkit.plugins`, which every command imports)."""

from __future__ import annotations

import attrs


@attrs.frozen
class PluginInfo:
    """One row of ``crmkit plugins``."""

    name: str
    version: str
    hooks: tuple[str, ...]
    builtin: bool
