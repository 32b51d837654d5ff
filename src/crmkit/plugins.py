"""The plugin manager factory and what ``crmkit plugins`` reports.

Nothing here runs at import time: every CRM and every CLI invocation builds its
own manager with :func:`make_plugin_manager`.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple

import pluggy

from . import hookspecs
from ._version import __version__
from .errors import PluginError

#: crmkit's own plugins, registered exactly like installed ones.
DEFAULT_PLUGINS = (
    "crmkit.storage.memory",
    "crmkit.storage.tinydb",
    "crmkit.storage.sqlite",
    "crmkit.profiles.generic",
    "crmkit.io.csv_format",
    "crmkit.io.json_format",
    "crmkit.io.presets",
)

#: The hooks each built-in implements, with their ``hookimpl`` options. A command
#: registers a small stand-in per built-in that imports the real module when one
#: of its hooks is first called, so that ``crmkit --help`` and commands that need
#: no importer, say, do not pay for importing them. ``crmkit plugins`` shows the
#: same names and hooks; a test checks this table against the modules.
BUILTIN_HOOKS: dict[str, dict[str, dict[str, Any]]] = {
    "crmkit.storage.memory": {"crmkit_storage_backends": {}},
    "crmkit.storage.tinydb": {"crmkit_storage_backends": {}},
    "crmkit.storage.sqlite": {"crmkit_storage_backends": {}},
    "crmkit.profiles.generic": {"crmkit_profiles": {}},
    "crmkit.io.csv_format": {"crmkit_importers": {}, "crmkit_exporters": {}},
    "crmkit.io.json_format": {"crmkit_importers": {}, "crmkit_exporters": {}},
    "crmkit.io.presets": {"crmkit_import_presets": {}},
}

#: The names each built-in's data hooks contribute. Its stand-in answers those
#: hooks with :class:`~crmkit.registry.LazySpec` entries, so that opening a
#: SQLite store does not import the TinyDB backend, say;
#: the module is imported when one of its specs is first used.
BUILTIN_SPECS: dict[str, dict[str, tuple[str, ...]]] = {
    "crmkit.storage.memory": {"crmkit_storage_backends": ("memory",)},
    "crmkit.storage.tinydb": {"crmkit_storage_backends": ("tinydb",)},
    "crmkit.storage.sqlite": {"crmkit_storage_backends": ("sqlite",)},
    "crmkit.profiles.generic": {"crmkit_profiles": ("generic",)},
}

ENTRY_POINT_GROUP = "crmkit"

if TYPE_CHECKING:
    from ._plugin_info import PluginInfo


def __getattr__(name: str) -> Any:
    if name == "PluginInfo":  # an attrs class: imported when asked for, not by every command
        from ._plugin_info import PluginInfo

        return PluginInfo
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _parameters(function: Any) -> tuple[str, ...]:
    """The names of a plain function's positional parameters (what pluggy passes a hook implementation)."""
    code = function.__code__
    return tuple(code.co_varnames[: code.co_argcount])


def builtin_plugin(module_name: str) -> ModuleType:
    """A stand-in for built-in plugin ``module_name``: its hooks import the module on first call.

    The stand-in's hook functions take the hook's parameters (pluggy reads them
    through ``__wrapped__``, the hook specification) and pass the real
    implementation the ones it asks for, so the hooks behave exactly as the
    module's own.
    """
    stand_in = ModuleType(module_name, f"Stand-in for {module_name}: imported on the first hook call.")
    for hook_name, options in BUILTIN_HOOKS[module_name].items():
        spec = getattr(hookspecs, hook_name)
        keys = BUILTIN_SPECS.get(module_name, {}).get(hook_name)
        if keys is not None:
            setattr(stand_in, hook_name, hookspecs.hookimpl(**options)(_lazy_data_hook(module_name, hook_name, keys)))
            continue

        def call(*args: Any, _hook: str = hook_name, _names: tuple[str, ...] = _parameters(spec)) -> Any:
            real = getattr(importlib.import_module(module_name), _hook)
            given = dict(zip(_names, args))
            return real(**{name: given[name] for name in _parameters(real)})

        call.__name__ = call.__qualname__ = hook_name
        call.__wrapped__ = spec  # type: ignore[attr-defined]
        setattr(stand_in, hook_name, hookspecs.hookimpl(**options)(call))
    return stand_in


def _lazy_data_hook(module_name: str, hook_name: str, keys: tuple[str, ...]) -> Callable[[], list[Any]]:
    """A data hook naming built-in ``module_name``'s specs, each built by the module's own hook when used."""
    from .registry import LazySpec

    def call() -> list[Any]:
        return [LazySpec(key, functools.partial(_builtin_spec, module_name, hook_name, key)) for key in keys]

    call.__name__ = call.__qualname__ = hook_name
    call.__wrapped__ = getattr(hookspecs, hook_name)  # type: ignore[attr-defined]
    return call


def _builtin_spec(module_name: str, hook_name: str, key: str) -> Any:
    """The spec called ``key`` among those built-in ``module_name``'s ``hook_name`` returns."""
    from .registry import _KINDS

    name_of = next(name_of for hook, name_of in _KINDS.values() if hook == hook_name)
    for spec in getattr(importlib.import_module(module_name), hook_name)():
        if name_of(spec) == key:
            return spec
    raise PluginError(f"{module_name} no longer contributes {key!r} to {hook_name}")


def _names_from_env(variable: str) -> set[str] | None:
    value = os.environ.get(variable)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


class PluginManager(pluggy.PluginManager):
    """A pluggy manager that remembers which distribution each installed plugin came from."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.distributions: dict[str, str] = {}


def make_plugin_manager(
    *, entrypoints: bool = True, extra: Iterable[ModuleType | object] = ()
) -> PluginManager:
    """Build a plugin manager with the built-ins, installed plugins and ``extra`` objects.

    ``CRMKIT_PLUGINS`` (comma-separated entry-point names) loads only those
    installed plugins; ``CRMKIT_DISABLE_PLUGINS`` blocks plugins by name,
    built-ins included. ``CRMKIT_TRACE_PLUGINS=1`` prints every hook call to stderr.
    Tests pass ``entrypoints=False`` to see the built-ins only.
    """
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    blocked = _names_from_env("CRMKIT_DISABLE_PLUGINS") or set()
    for name in blocked:
        pm.set_blocked(name)
    for module_name in DEFAULT_PLUGINS:
        if module_name not in blocked:
            pm.register(builtin_plugin(module_name), name=module_name)
    if entrypoints:
        _load_entrypoints(pm, allowed=_names_from_env("CRMKIT_PLUGINS"), blocked=blocked)
    for plugin in extra:
        pm.register(plugin)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as err:
        raise PluginError(f"plugin {err.plugin!r} implements an unknown hook: {err}") from None
    if os.environ.get("CRMKIT_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda text: os.write(2, text.encode()))
        pm.enable_tracing()
    return pm


#: How an entry point's value reads: ``module``, ``module:attr.sub``, optional ``[extras]`` (as importlib.metadata).
_EP_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")


class _EntryPoint(NamedTuple):
    """One ``crmkit`` entry point; ``dist`` names its distribution as ``"name version"``."""

    name: str
    value: str
    dist: str
    load: Callable[[], Any]


def _entry_points() -> Iterator[_EntryPoint]:
    """Every ``crmkit`` entry point, in importlib.metadata's order, each distribution once.

    Importing ``importlib.metadata`` (it pulls in the ``email`` package) and
    parsing every distribution's metadata costs a command ~35 ms, more than the
    command itself on a small store, so the folders on ``sys.path`` are read
    directly. importlib.metadata is still used where it may find more: when
    something imported it already (tests replace its ``distributions``), when
    another finder can find distributions, or for a zip on ``sys.path``.
    """
    if not _folders_tell_all():
        yield from _entry_points_from_metadata()
        return
    seen: set[str] = set()
    for key, path in _dist_folders():
        # An editable install can put one distribution on sys.path twice (its
        # .dist-info and a stale .egg-info); the first one found is the one Python uses.
        if key in seen:
            continue
        seen.add(key)
        pairs = _crmkit_section(os.path.join(path, "entry_points.txt"))
        if pairs:
            dist = _dist_label(path)
            for name, value in pairs:
                yield _EntryPoint(name, value, dist, functools.partial(_load_value, value))


def _folders_tell_all() -> bool:
    """True when reading the folders on ``sys.path`` finds every distribution importlib.metadata would."""
    if "importlib.metadata" in sys.modules:
        return False  # already paid for (and what tests replace)
    from importlib.machinery import PathFinder

    if any(hasattr(finder, "find_distributions") for finder in sys.meta_path if finder is not PathFinder):
        return False
    return not any(os.path.isfile(entry) for entry in sys.path if entry)  # a zip or an egg file


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _dist_folders() -> Iterator[tuple[str, str]]:
    """``(normalized name, metadata folder)`` of each distribution on ``sys.path``, as importlib.metadata orders them."""
    for entry in sys.path:
        try:
            children = os.listdir(entry or ".")
        except OSError:
            continue  # missing: nothing to find there
        root = entry or "."
        infos: dict[str, list[str]] = {}  # per name in the order first seen, as importlib.metadata's Lookup
        for child in children:
            low = child.lower()
            if low.endswith((".dist-info", ".egg-info")):
                infos.setdefault(_normalize(low.rpartition(".")[0].partition("-")[0]), []).append(child)
        for folders in infos.values():
            for child in folders:
                yield _normalize(child.rpartition(".")[0].partition("-")[0]), os.path.join(root, child)
        base = os.path.basename(root).lower()
        if base.endswith(".egg") and any(child.lower() == "egg-info" for child in children):
            path = os.path.join(root, "EGG-INFO")
            yield _normalize(_metadata_field(path, "name") or ""), path


def _crmkit_section(path: str) -> list[tuple[str, str]]:
    """The ``name = value`` pairs of the ``[crmkit]`` section of an ``entry_points.txt``."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return []
    if f"[{ENTRY_POINT_GROUP}]" not in text:
        return []
    pairs, group = [], None
    for line in map(str.strip, text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line.strip("[]")
        elif group == ENTRY_POINT_GROUP and "=" in line:
            name, value = map(str.strip, line.split("=", 1))
            pairs.append((name, value))
    return pairs


def _metadata_field(folder: str, field: str) -> str | None:
    """A header of a distribution's METADATA (or PKG-INFO), read without the ``email`` package."""
    for filename in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(folder, filename), encoding="utf-8") as handle:
                for line in handle:
                    if not line.strip():
                        break  # the headers end at the first blank line
                    key, sep, value = line.partition(":")
                    if sep and key.strip().lower() == field:
                        return value.strip()
            return None
        except (OSError, UnicodeDecodeError):
            continue
    return None


def _dist_label(folder: str) -> str:
    return f"{_metadata_field(folder, 'name')} {_metadata_field(folder, 'version')}"


def _load_value(value: str) -> Any:
    """Import what an entry point names, as ``importlib.metadata.EntryPoint.load`` does."""
    match = _EP_VALUE.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not an entry point reference")
    return functools.reduce(getattr, filter(None, (match.group("attr") or "").split(".")),
                            importlib.import_module(match.group("module")))


def _entry_points_from_metadata() -> Iterator[_EntryPoint]:
    import importlib.metadata

    seen: set[str] = set()
    for dist in importlib.metadata.distributions():
        key = _dist_key(dist)
        if key in seen:
            continue
        seen.add(key)
        for ep in dist.entry_points:
            if ep.group == ENTRY_POINT_GROUP:
                yield _EntryPoint(ep.name, ep.value, f"{dist.metadata['name']} {dist.version}", ep.load)


def _dist_key(dist: Any) -> str:
    # The folder name gives the name without parsing METADATA (what importlib.metadata's own
    # entry_points() uses); fakes and unusual distributions fall back to the metadata.
    return _normalize(getattr(dist, "_normalized_name", None) or dist.metadata["name"] or "")


def _load_entrypoints(pm: PluginManager, *, allowed: set[str] | None, blocked: set[str]) -> None:
    for ep in _entry_points():
        if ep.name in blocked or (allowed is not None and ep.name not in allowed):
            continue
        if ep.name in pm.distributions or ep.name in DEFAULT_PLUGINS:
            other = pm.distributions.get(ep.name, "crmkit itself")
            raise PluginError(f"plugin name {ep.name!r} is claimed by both {other} and {ep.dist}")
        try:
            plugin = ep.load()
        except Exception as err:  # a broken third-party plugin must not look like a crmkit bug
            raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to load: {err}") from err
        pm.register(plugin, name=ep.name)
        pm.distributions[ep.name] = ep.dist


def plugin_info(pm: PluginManager) -> list[PluginInfo]:
    """Describe every registered plugin: name, version (of its distribution) and hooks."""
    from ._plugin_info import PluginInfo

    dists = getattr(pm, "distributions", {})
    rows = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue  # blocked
        hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()))
        builtin = name in DEFAULT_PLUGINS
        version = __version__ if builtin else dists.get(name, "").rpartition(" ")[2] or _module_version(plugin)
        rows.append(PluginInfo(name=name, version=version, hooks=hooks, builtin=builtin))
    return sorted(rows, key=lambda info: (not info.builtin, info.name))


def _module_version(plugin: Any) -> str:
    return str(getattr(plugin, "__version__", "")) or "-"
