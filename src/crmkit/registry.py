"""Typed registries built from the data hooks.

Each data hook is called once per plugin manager; every contributed spec is
filed under its name together with the plugin that contributed it, so that a
duplicate name can be reported with both plugins named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import pluggy

from .errors import PluginError, ValidationError

T = TypeVar("T")


class Registry(Generic[T]):
    """Specs of one kind by name, with the plugin behind each."""

    def __init__(self, kind: str, items: dict[str, tuple[T, str]]) -> None:
        self.kind = kind
        self._items = items

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._items)

    def names(self) -> list[str]:
        return sorted(self._items)

    def values(self) -> list[T]:
        return [spec for spec, _plugin in self._items.values()]

    def plugin_of(self, name: str) -> str:
        return self._items[name][1]

    def get(self, name: str, field: str | None = None) -> T:
        """The spec called ``name``; ``ValidationError`` listing the known names otherwise."""
        try:
            return self._items[name][0]
        except KeyError:
            known = ", ".join(self.names()) or "none installed"
            raise ValidationError(field or self.kind, name, f"unknown {self.kind}; known: {known}") from None


def collect(pm: pluggy.PluginManager, hook_name: str, kind: str, key: Callable[[Any], str]) -> Registry[Any]:
    """Call data hook ``hook_name`` on each plugin and file the results by ``key(spec)``."""
    items: dict[str, tuple[Any, str]] = {}
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        for spec in impl.function() or ():
            name = key(spec)
            if name in items:
                raise PluginError(
                    f"{kind} {name!r} is contributed by both {items[name][1]} and {impl.plugin_name}"
                )
            items[name] = (spec, impl.plugin_name)
    return Registry(kind, items)


_CACHE_ATTR = "_crmkit_registries"


def registry(pm: pluggy.PluginManager, kind: str) -> Registry[Any]:
    """The registry of ``kind`` (backend, profile, importer, exporter, preset) for this manager, built once."""
    cache: dict[str, Registry[Any]] = pm.__dict__.setdefault(_CACHE_ATTR, {})
    if kind not in cache:
        hook_name, key = _KINDS[kind]
        cache[kind] = collect(pm, hook_name, kind, key)
    return cache[kind]


_KINDS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "backend": ("crmkit_storage_backends", lambda spec: spec.scheme),
    "profile": ("crmkit_profiles", lambda spec: spec.name),
    "importer": ("crmkit_importers", lambda spec: spec.format),
    "exporter": ("crmkit_exporters", lambda spec: spec.format),
    "preset": ("crmkit_import_presets", lambda spec: spec.name),
}
