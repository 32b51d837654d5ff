"""The command line's cache of attrs/cattrs generated code: same code as compiling, never stale."""

from __future__ import annotations

import __future__
import json
import marshal
import os
import subprocess
import sys
import textwrap
import types

import pytest

from crmkit import _codecache
from crmkit._codecache import CodeCache

ANNOTATIONS = __future__.annotations.compiler_flag
SOURCE = "def f(x: int) -> int:\n    return x * 2 + 1\n"


def test_cached_code_equals_a_fresh_compile_across_instances(tmp_path):
    path = tmp_path / "cache.marshal"
    first = CodeCache(path)
    code = first.compile(SOURCE, "<generated f>", "exec", ANNOTATIONS)
    assert first.added == 1
    first.save()
    assert first.added == 0

    second = CodeCache(path)
    again = second.compile(SOURCE, "<generated f>", "exec", ANNOTATIONS)
    assert second.added == 0  # served from the file, not compiled
    assert again == code == compile(SOURCE, "<generated f>", "exec", ANNOTATIONS, True)
    namespace: dict = {}
    exec(again, namespace)
    assert namespace["f"](20) == 41
    assert namespace["f"].__annotations__ == {"x": "int", "return": "int"}


def test_changed_source_under_the_same_name_is_compiled_again(tmp_path):
    path = tmp_path / "cache.marshal"
    cache = CodeCache(path)
    cache.compile(SOURCE, "<generated f>", "exec")
    cache.save()
    changed = SOURCE.replace("* 2", "* 3")
    reopened = CodeCache(path)
    code = reopened.compile(changed, "<generated f>", "exec")
    assert reopened.added == 1
    namespace: dict = {}
    exec(code, namespace)
    assert namespace["f"](20) == 61


def test_sources_compiled_under_the_empty_filename_are_each_kept(tmp_path):
    # cattrs compiles its mapping helpers as "": one must not evict the other,
    # or every command would compile them and rewrite the file again.
    path = tmp_path / "cache.marshal"
    other = SOURCE.replace("* 2", "* 3")
    cache = CodeCache(path)
    cache.compile(SOURCE, "", "exec")
    cache.compile(other, "", "exec")
    cache.save()
    reopened = CodeCache(path)
    results = []
    for source in (SOURCE, other):
        namespace: dict = {}
        exec(reopened.compile(source, "", "exec"), namespace)
        results.append(namespace["f"](20))
    assert results == [41, 61]
    assert reopened.added == 0


def test_flags_are_part_of_the_key(tmp_path):
    cache = CodeCache(tmp_path / "cache.marshal")
    plain = cache.compile(SOURCE, "<generated f>", "exec")
    future = cache.compile(SOURCE, "<generated f>", "exec", ANNOTATIONS)
    assert cache.added == 2
    plain_ns: dict = {}
    future_ns: dict = {}
    exec(plain, plain_ns)
    exec(future, future_ns)
    assert plain_ns["f"].__annotations__ == {"x": int, "return": int}
    assert future_ns["f"].__annotations__ == {"x": "int", "return": "int"}


@pytest.mark.parametrize("content", [b"", b"not marshal at all", marshal.dumps(("other header", {})),
                                     marshal.dumps([1, 2, 3])])
def test_a_damaged_or_foreign_file_is_ignored_and_replaced(tmp_path, content):
    path = tmp_path / "cache.marshal"
    path.write_bytes(content)
    cache = CodeCache(path)
    namespace: dict = {}
    exec(cache.compile(SOURCE, "<generated f>", "exec"), namespace)
    assert namespace["f"](1) == 3
    cache.save()
    assert CodeCache(path).compile(SOURCE, "<generated f>", "exec") is not None
    assert CodeCache(path)._entries  # the rewritten file is readable


def test_save_never_raises_and_leaves_no_temporary_file(tmp_path):
    folder = tmp_path / "caches"
    folder.mkdir()
    blocked = folder / "file"
    blocked.write_text("a file where the cache folder should be")
    cache = CodeCache(blocked / "sub" / "cache.marshal")
    cache.compile(SOURCE, "<generated f>", "exec")
    cache.save()  # the folder cannot be made: no error, nothing written
    assert cache.added == 1
    assert [p.name for p in folder.iterdir()] == ["file"]


def test_module_compile_inherits_the_modules_future_imports(tmp_path):
    cache = CodeCache(tmp_path / "cache.marshal")
    with_future = types.ModuleType("with_future")
    exec("from __future__ import annotations", with_future.__dict__)
    without = types.ModuleType("without")
    cache.attach([with_future, without])
    for module, expected in ((with_future, "int"), (without, int)):
        namespace: dict = {}
        exec(module.compile(SOURCE, f"<generated {module.__name__}>", "exec"), namespace)
        assert namespace["f"].__annotations__["x"] == expected
    # Anything but plain source to code goes straight to the built-in.
    tree = without.compile(SOURCE, "<ast>", "exec", 0x400)  # PyCF_ONLY_AST
    assert type(tree).__name__ == "Module"
    assert cache.added == 2


# A fresh interpreter per run, each with its own string-hash seed: attrs writes
# a seed-dependent number into every hashable class's generated source.
ATTRS_SCRIPT = textwrap.dedent("""
    import json, sys
    from crmkit import _codecache
    cache = _codecache.install(sys.argv[1])
    import attrs

    @attrs.frozen
    class Point:
        x: int
        y: int = attrs.field(validator=attrs.validators.instance_of(int))

    p = Point(1, 2)
    expected = hash((hash("<attrs generated hash __main__.Point>"), 1, 2))
    try:
        Point(1, "no")
        refused = False
    except TypeError:
        refused = True
    print(json.dumps({"hash_ok": hash(p) == expected, "repr": repr(p), "eq": p == Point(1, 2),
                      "refused": refused, "added": cache.added}))
""")


def _run_attrs_script(cache_path, seed):
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    env.pop("CRMKIT_CODE_CACHE", None)
    out = subprocess.run([sys.executable, "-c", ATTRS_SCRIPT, str(cache_path)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def test_attrs_classes_from_the_cache_behave_as_compiled_ones_under_any_hash_seed(tmp_path):
    path = tmp_path / "cache.marshal"
    cold = _run_attrs_script(path, 1)
    warm = _run_attrs_script(path, 2)  # another seed: the cached __hash__ is re-seeded
    assert cold["added"] > 0 and warm["added"] == 0
    for run in (cold, warm):
        assert run == {**run, "hash_ok": True, "repr": "Point(x=1, y=2)", "eq": True, "refused": True}


def test_install_can_be_turned_off(monkeypatch):
    monkeypatch.setattr(_codecache, "_installed", None)
    monkeypatch.setenv("CRMKIT_CODE_CACHE", "0")
    assert _codecache.install() is None
