"""LazySpec: data hooks name a spec now and build it when a store first needs it."""

import subprocess
import sys
import types

import pytest

import crmkit
from crmkit import LazySpec, PluginError, hookimpl
from crmkit.plugins import make_plugin_manager
from crmkit.profiles.base import Profile, StageSpec
from crmkit.registry import registry


def _school(name="school"):
    return Profile(name=name, title="School", stages=(StageSpec(name="new"),), transitions={},
                   initial_stage="new", ticket_categories=("question",))


def _plugin(*specs):
    module = types.ModuleType("plugin_lazy")

    @hookimpl
    def crmkit_profiles():
        return list(specs)

    module.crmkit_profiles = crmkit_profiles
    return module


def test_a_lazy_profile_is_listed_at_once_and_built_only_when_a_store_uses_it():
    built = []
    pm = make_plugin_manager(entrypoints=False,
                             extra=[_plugin(LazySpec("school", lambda: built.append(1) or _school()))])
    profiles = registry(pm, "profile")
    assert profiles.names() == ["generic", "school"]
    assert profiles.plugin_of("school") == "plugin_lazy"
    with crmkit.open("memory://", pm=pm) as crm:  # a generic store
        assert crm.profile.name == "generic"
    assert built == []
    with crmkit.open("memory://", "school", pm=pm) as crm:
        assert crm.customers.add("Pupil").stage == "new"
    with crmkit.open("memory://", "school", pm=pm):
        pass
    assert built == [1]  # built once per plugin manager, then kept


def test_a_reference_is_imported_only_when_the_spec_is_built(tmp_path, monkeypatch):
    (tmp_path / "lazy_school_profile.py").write_text(
        "from crmkit.profiles.base import Profile, StageSpec\n"
        "def make():\n"
        "    return Profile(name='school', title='School', stages=(StageSpec(name='new'),), transitions={},\n"
        "                   initial_stage='new', ticket_categories=('question',))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = make_plugin_manager(entrypoints=False, extra=[_plugin(LazySpec("school", "lazy_school_profile:make"))])
    assert "school" in registry(pm, "profile")
    assert "lazy_school_profile" not in sys.modules
    assert registry(pm, "profile").get("school").title == "School"
    assert "lazy_school_profile" in sys.modules


def test_a_spec_built_under_another_name_is_a_plugin_error():
    pm = make_plugin_manager(entrypoints=False, extra=[_plugin(LazySpec("school", lambda: _school("college")))])
    with pytest.raises(PluginError, match="profile 'school' of plugin plugin_lazy loaded as 'college'"):
        crmkit.open("memory://", "school", pm=pm)


def test_a_loader_that_fails_is_a_plugin_error_naming_the_plugin():
    pm = make_plugin_manager(entrypoints=False,
                             extra=[_plugin(LazySpec("school", "no_such_module_for_crmkit:make"))])
    with pytest.raises(PluginError, match="profile 'school' of plugin plugin_lazy failed to load: No module named"):
        registry(pm, "profile").get("school")


def test_a_lazy_name_that_clashes_fails_before_anything_is_built():
    pm = make_plugin_manager(entrypoints=False, extra=[_plugin(LazySpec("generic", lambda: 1 / 0))])
    with pytest.raises(PluginError, match="profile 'generic' is contributed by both"):
        registry(pm, "profile")


def test_a_command_on_a_sqlite_store_imports_no_other_backend_and_no_other_profile(tmp_path):
    # The built-ins and the installed profile plugins name their specs lazily: a generic
    # SQLite store's command builds neither TinyDB's backend nor the other profiles.
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    crmkit.init(url).close()
    code = ("import sys; from crmkit.cli import main\n"
            "try:\n"
            f"    main(['--db', {url!r}, 'customer', 'list'])\n"
            "except SystemExit:\n"
            "    pass\n"
            "loaded = [m for m in ('crmkit.storage.tinydb', 'crmkit.storage.memory', 'crmkit.io.csv_format',\n"
            "          'crmkit_retail.profile', 'crmkit_finance.profile', 'crmkit_services.profile', 'zoneinfo')\n"
            "          if m in sys.modules]\n"
            "print('LOADED', loaded, 'sqlite' if 'crmkit.storage.sqlite' in sys.modules else '')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "LOADED [] sqlite"
