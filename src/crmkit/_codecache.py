"""A disk cache for the code that attrs and cattrs generate, used by the ``crmkit`` command.

attrs writes the source of each class's ``__init__``, ``__eq__``, ``__repr__``...
when the class is created, and cattrs does the same for each converter hook;
compiling that source is about a sixth of a short command's time (40-50 ms for
the 50-odd classes a ``customer show`` needs). The generated source is the same
from one run to the next, so, like Python's own ``__pycache__``, the compiled
code objects are kept in a file keyed by their exact source text and reused.

Only the command line turns this on (:func:`install`): a script that imports
crmkit keeps attrs and cattrs untouched. The cache is a plain optimisation: a
missing, unreadable or stale file only means compiling again.
``CRMKIT_CODE_CACHE=0`` turns it off. It is written even under
``PYTHONDONTWRITEBYTECODE``: pip compiles crmkit's ``.pyc`` files at install
time, so that setting costs an installed crmkit nothing, while skipping this
cache would cost every command the compile time.
"""

from __future__ import annotations

import __future__
import _ast
import atexit
import builtins
import marshal
import os
import sys
from collections.abc import Iterable
from types import CodeType, ModuleType
from typing import Any

__all__ = ["CodeCache", "install"]

#: The modules whose ``compile`` calls go through the cache: they build code from
#: generated source text and nothing else.
GENERATORS = ("attr._make", "cattrs.gen")

_builtin_compile = builtins.compile
# A file written by another interpreter holds code this one cannot run.
_HEADER = f"crmkit generated code {sys.hexversion:x} {sys.implementation.cache_tag}"

# (filename, mode, flags) -> (source as UTF-8, marshalled code, attrs hash seed or None).
# One entry per generated name keeps the file from growing with every edit, and
# code is unmarshalled only when used: a command needs a fraction of the entries.
_Entries = dict[tuple[str, str, int], tuple[bytes, bytes, "int | None"]]

# A compile that returns an AST, not code, is passed through (`_ast` is
# built in; `ast` would cost 10 ms to import).
_AST_ONLY = _ast.PyCF_ONLY_AST | getattr(_ast, "PyCF_OPTIMIZED_AST", 0)

_ATTRS_PREFIX = "<attrs generated "
_SEED = "\x00seed\x00"


def _class_hash_seed(filename: str) -> int | None:
    """The number attrs writes into a class's generated ``__hash__``, or None if the name is not attrs'.

    attrs seeds each class's hash with ``hash()`` of a name made from the class,
    which changes from process to process (string hashing is randomised), so the
    same class's source differs in that one literal between runs. The key holds
    a placeholder instead, and the code's constant is swapped on reuse.
    """
    if not filename.startswith(_ATTRS_PREFIX):
        return None
    _, _, qualified = filename[len(_ATTRS_PREFIX):].partition(" ")
    return hash(f"{_ATTRS_PREFIX}hash {qualified}") if qualified else None


def _swap_constant(code: CodeType, old: int | None, new: int | None) -> CodeType:
    """``code`` with the integer constant ``old`` replaced by ``new``, in nested functions too."""
    consts = tuple(
        new if type(value) is int and value == old
        else _swap_constant(value, old, new) if isinstance(value, CodeType)
        else value
        for value in code.co_consts
    )
    return code.replace(co_consts=consts)


class CodeCache:
    """Compiled code objects keyed by generated name and exact source, loaded from and saved to one file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._entries: _Entries = self._load()
        self.added = 0

    def _load(self) -> _Entries:
        try:
            with open(self.path, "rb") as file:
                header, entries = marshal.loads(file.read())
        except (OSError, EOFError, ValueError, TypeError):
            return {}
        return entries if header == _HEADER and isinstance(entries, dict) else {}

    def compile(self, source: str, filename: str, mode: str, flags: int = 0) -> CodeType:
        """``compile(source, filename, mode, flags, dont_inherit=True)``, from the cache when the source matches."""
        number = _class_hash_seed(filename)
        if number is not None and str(number) in source:
            text = source.replace(str(number), _SEED).encode("utf-8", "surrogatepass")
        else:
            text, number = source.encode("utf-8", "surrogatepass"), None
        # cattrs compiles some helpers under the empty filename: their source names them.
        key = (filename or f"\x00{source}", mode, flags)
        entry = self._entries.get(key)
        if entry is not None and entry[0] == text:
            try:
                code = marshal.loads(entry[1])
            except (EOFError, ValueError, TypeError):
                code = None
            if isinstance(code, CodeType):
                return code if entry[2] == number else _swap_constant(code, entry[2], number)
        code = _builtin_compile(source, filename, mode, flags, True)
        self._entries[key] = (text, marshal.dumps(code), number)
        self.added += 1
        return code

    def attach(self, modules: Iterable[ModuleType]) -> None:
        """Make each module's bare ``compile(...)`` calls use this cache (a module global shadows the builtin)."""
        for module in modules:
            module.compile = _ModuleCompile(self, module)  # type: ignore[attr-defined]

    def save(self) -> None:
        """Write the cache if this process compiled anything new; never raises."""
        if not self.added:
            return
        temporary = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(temporary, "wb") as file:
                file.write(marshal.dumps((_HEADER, self._entries)))
            # Readers see the old file or the new one, never half of one.
            os.replace(temporary, self.path)
        except (OSError, ValueError):
            try:
                os.unlink(temporary)
            except OSError:
                pass
        else:
            self.added = 0


def default_path() -> str:
    """Where the command line keeps its cache: beside crmkit's own compiled files."""
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__")
    if sys.pycache_prefix:
        folder = os.path.join(sys.pycache_prefix, folder.lstrip(os.sep))
    return os.path.join(folder, f"generated-code.{sys.implementation.cache_tag}.marshal")


class _ModuleCompile:
    """The ``compile`` a generator module sees: the built-in's behaviour, with the cache behind it."""

    def __init__(self, cache: CodeCache, module: ModuleType) -> None:
        self._cache = cache
        self._namespace = module.__dict__

    def __call__(self, source: Any, filename: Any, mode: str, flags: int = 0, dont_inherit: bool = False,
                 optimize: int = -1) -> Any:
        if not dont_inherit:
            # The built-in would inherit the calling module's `from __future__`
            # imports (which bind their names in the module): so do we.
            for name in __future__.all_feature_names:
                feature = self._namespace.get(name)
                if feature is getattr(__future__, name):
                    flags |= feature.compiler_flag
        if optimize != -1 or not isinstance(source, str) or not isinstance(filename, str) or flags & _AST_ONLY:
            return _builtin_compile(source, filename, mode, flags, True, optimize)
        return self._cache.compile(source, filename, mode, flags)


class _AttachOnImport:
    """A ``sys.meta_path`` finder that attaches the cache to a generator module as it is imported.

    attrs creates classes of its own while ``import attrs`` runs, and ``--help``
    never imports cattrs: attaching at import costs nothing until a module is needed.
    """

    def __init__(self, cache: CodeCache, names: Iterable[str]) -> None:
        self.cache = cache
        self.pending = set(names)

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in self.pending:
            return None
        self.pending.discard(fullname)
        if not self.pending:
            sys.meta_path.remove(self)
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            spec = None if finder is self or find_spec is None else find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _AttachingLoader(spec.loader, self.cache)
                return spec
        return None


class _AttachingLoader:
    """Wraps a module's loader: sets the module's ``compile`` before its code runs."""

    def __init__(self, loader: Any, cache: CodeCache) -> None:
        self._loader = loader
        self._cache = cache

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._cache.attach([module])
        self._loader.exec_module(module)

    def __getattr__(self, name: str) -> Any:
        # get_source, is_package...: tracebacks and tools ask the real loader.
        return getattr(self._loader, name)


_installed: CodeCache | None = None


def install(path: str | os.PathLike[str] | None = None) -> CodeCache | None:
    """Route attrs' and cattrs' code generation through a disk cache for this process.

    Called by :func:`crmkit.cli.main`. A generator module already imported is
    attached at once, the others as they are imported. Returns the cache, or
    None when ``CRMKIT_CODE_CACHE=0`` turns it off. The cache is saved when
    the process exits.
    """
    global _installed
    if _installed is not None:
        return _installed
    if os.environ.get("CRMKIT_CODE_CACHE", "1") == "0":
        return None
    cache = _installed = CodeCache(default_path() if path is None else path)
    pending = []
    for name in GENERATORS:
        module = sys.modules.get(name)
        if module is None:
            pending.append(name)
        else:
            cache.attach([module])
    if pending:
        sys.meta_path.insert(0, _AttachOnImport(cache, pending))
    atexit.register(cache.save)
    return cache
