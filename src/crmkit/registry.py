"""Typed registries built from the data hooks.

Each data hook is called once per plugin manager; every contributed spec is
filed under its name together with the plugin that contributed it, so that a
duplicate name can be reported with both plugins named.

A data hook may name a spec without building it: a :class:`LazySpec` gives the
name now and the spec on first use, so that a command pays only for the
profile and backend it opens, not for every one installed.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any, Generic, NamedTuple, TypeVar

import pluggy

from .errors import CrmkitError, PluginError, ValidationError

T = TypeVar("T")


class LazySpec(NamedTuple):
    """A spec that a data hook names now and builds when it is first needed.

    ``key`` is the name the spec will have (a profile's ``name``, a backend's
    ``scheme``, a format); ``load`` is a function taking no arguments that
    returns the spec, or a ``"module:function"`` reference to one, imported
    only then. Return it from any data hook in place of the spec itself::

        @hookimpl
        def crmkit_profiles():
            return [LazySpec("school", "crmkit_school.profile:make_profile")]

    crmkit checks that the built spec has the name ``key`` promised.
    """

    key: str
    load: str | Callable[[], Any]

    def build(self) -> Any:
        """Call ``load`` (importing it first when it is a reference) and return the spec."""
        load = self.load
        if isinstance(load, str):
            module, _, attribute = load.partition(":")
            load = functools.reduce(getattr, attribute.split("."), importlib.import_module(module))
        return load()


class Registry(Generic[T]):
    """Specs of one kind by name, with the plugin behind each."""

    def __init__(self, kind: str, items: dict[str, tuple[T | LazySpec, str]],
                 key: Callable[[Any], str] | None = None) -> None:
        self.kind = kind
        self._items = items
        self._key = key

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._items)

    def names(self) -> list[str]:
        return sorted(self._items)

    def values(self) -> list[T]:
        return [self._built(name) for name in self._items]

    def plugin_of(self, name: str) -> str:
        return self._items[name][1]

    def get(self, name: str, field: str | None = None) -> T:
        """The spec called ``name``; ``ValidationError`` listing the known names otherwise."""
        if name not in self._items:
            known = ", ".join(self.names()) or "none installed"
            raise ValidationError(field or self.kind, name, f"unknown {self.kind}; known: {known}")
        return self._built(name)

    def _built(self, name: str) -> T:
        spec, plugin = self._items[name]
        if not isinstance(spec, LazySpec):
            return spec
        try:
            built = spec.build()
        except CrmkitError:
            raise  # the plugin's own one-line error (a bad setting, say) says it best
        except Exception as err:  # a broken plugin must not look like a crmkit bug
            raise PluginError(f"{self.kind} {name!r} of plugin {plugin} failed to load: {err}") from err
        if self._key is not None and self._key(built) != name:
            raise PluginError(f"{self.kind} {name!r} of plugin {plugin} loaded as {self._key(built)!r}")
        self._items[name] = (built, plugin)
        return built


def collect(pm: pluggy.PluginManager, hook_name: str, kind: str, key: Callable[[Any], str]) -> Registry[Any]:
    """Call data hook ``hook_name`` on each plugin and file the results by ``key(spec)``."""
    items: dict[str, tuple[Any, str]] = {}
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        for spec in impl.function() or ():
            name = spec.key if isinstance(spec, LazySpec) else key(spec)
            if name in items:
                raise PluginError(
                    f"{kind} {name!r} is contributed by both {items[name][1]} and {impl.plugin_name}"
                )
            items[name] = (spec, impl.plugin_name)
    return Registry(kind, items, key)


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
