"""The plugin manager, the registries and the hook contract."""

import json
import importlib.metadata
import inspect
import re
import types
from pathlib import Path

import pytest

import crmkit
from crmkit import PluginError, hookimpl, hookspecs
from crmkit.plugins import DEFAULT_PLUGINS, make_plugin_manager, plugin_info
from crmkit.profiles.base import Profile, StageSpec
from crmkit.registry import registry
from crmkit.storage.base import BackendSpec

HOOKS = [name for name, obj in vars(hookspecs).items() if name.startswith("crmkit_") and callable(obj)]


def test_every_hook_is_documented():
    for name in HOOKS:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        params = [p for p in inspect.signature(getattr(hookspecs, name)).parameters]
        for param in params:
            assert f":param {param}:" in doc, f"{name} does not document {param}"
        assert ":return:" in doc, name
        assert "Example::" in doc, name
        assert "versionadded" in doc, name


def test_every_hook_has_a_test():
    source = Path(__file__).read_text()
    for name in HOOKS:
        assert f"def test_hook_{name}" in source, f"no test_hook_{name}"


def test_builtins_are_registered_like_plugins():
    pm = make_plugin_manager(entrypoints=False)
    names = [info.name for info in plugin_info(pm)]
    assert names == sorted(DEFAULT_PLUGINS)
    tinydb = next(i for i in plugin_info(pm) if i.name == "crmkit.storage.tinydb")
    assert tinydb.hooks == ("crmkit_storage_backends",) and tinydb.version == crmkit.__version__


def test_builtin_stand_ins_declare_what_the_modules_implement():
    # Commands register stand-ins (crmkit.plugins.BUILTIN_HOOKS) that import a built-in on its first
    # hook call: they must declare exactly the module's hooks, with the same hookimpl options.
    from crmkit.plugins import BUILTIN_HOOKS, builtin_plugin
    from crmkit.registry import LazySpec

    assert list(BUILTIN_HOOKS) == list(DEFAULT_PLUGINS)
    for module_name in DEFAULT_PLUGINS:
        module = importlib.import_module(module_name)
        real = {name: dict(getattr(module, name).crmkit_impl) for name in dir(module)
                if name.startswith("crmkit_") and hasattr(getattr(module, name), "crmkit_impl")}
        stand_in = builtin_plugin(module_name)
        assert {name: dict(getattr(stand_in, name).crmkit_impl) for name in BUILTIN_HOOKS[module_name]} == real
        for name in real:
            # Data hooks answer with LazySpecs (BUILTIN_SPECS): built, they are the module's own specs.
            given = [spec.build() if isinstance(spec, LazySpec) else spec for spec in getattr(stand_in, name)()]
            assert given == getattr(module, name)(), (module_name, name)


def test_a_command_imports_only_the_builtins_it_uses():
    import subprocess
    import sys

    # Built-ins only: the profile plugins installed beside crmkit (CI installs them) would import more.
    code = ("import sys; from crmkit.plugins import make_plugin_manager, plugin_info; "
            "pm = make_plugin_manager(entrypoints=False); "
            "print(sorted(m for m in sys.modules if m.startswith(('crmkit.storage.', 'crmkit.io.', 'crmkit.profiles')))); "
            "print('attr' in sys.modules); print(len(plugin_info(pm)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["[]", "False", str(len(DEFAULT_PLUGINS))]


def test_disable_plugins_env_blocks_builtins(monkeypatch):
    monkeypatch.setenv("CRMKIT_DISABLE_PLUGINS", "crmkit.storage.memory")
    pm = make_plugin_manager(entrypoints=False)
    assert "memory" not in registry(pm, "backend")
    with pytest.raises(crmkit.ValidationError, match="unknown backend"):
        crmkit.open("memory://", pm=pm)


def _fake_distribution(monkeypatch, *entries):
    """Pretend distributions with `crmkit` entry points are installed (pluggy's own testing trick)."""
    dists = []
    for dist_name, ep_name, module in entries:
        mod_name = f"fake_{ep_name}"
        monkeypatch.setitem(__import__("sys").modules, mod_name, module)
        ep = importlib.metadata.EntryPoint(ep_name, mod_name, "crmkit")
        dist = types.SimpleNamespace(metadata={"name": dist_name}, version="1.2.3", entry_points=[ep])
        dists.append(dist)
    monkeypatch.setattr(importlib.metadata, "distributions", lambda: dists)


def _profile_module(name):
    module = types.ModuleType(f"plugin_{name}")

    @hookimpl
    def crmkit_profiles():
        return [Profile(name=name, title=name.title(), stages=(StageSpec(name="new"),), transitions={},
                        initial_stage="new", ticket_categories=("question",))]

    module.crmkit_profiles = crmkit_profiles
    return module


def test_entry_points_are_loaded_with_their_version(monkeypatch):
    _fake_distribution(monkeypatch, ("crmkit-school", "school", _profile_module("school")))
    pm = make_plugin_manager()
    assert "school" in registry(pm, "profile")
    info = next(i for i in plugin_info(pm) if i.name == "school")
    assert (info.version, info.builtin, info.hooks) == ("1.2.3", False, ("crmkit_profiles",))


def test_crmkit_plugins_env_restricts(monkeypatch):
    _fake_distribution(monkeypatch, ("crmkit-a", "a", _profile_module("a")), ("crmkit-b", "b", _profile_module("b")))
    monkeypatch.setenv("CRMKIT_PLUGINS", "b")
    pm = make_plugin_manager()
    assert "b" in registry(pm, "profile") and "a" not in registry(pm, "profile")


def test_two_plugins_claiming_one_profile_name_fail_loudly(monkeypatch):
    _fake_distribution(monkeypatch, ("crmkit-a", "a", _profile_module("same")),
                       ("crmkit-b", "b", _profile_module("same")))
    pm = make_plugin_manager()
    with pytest.raises(PluginError, match=r"profile 'same' is contributed by both a and b"):
        registry(pm, "profile")


def test_a_plugin_that_fails_to_import_is_a_plugin_error(monkeypatch):
    ep = importlib.metadata.EntryPoint("broken", "no_such_module_xyz", "crmkit")
    dist = types.SimpleNamespace(metadata={"name": "crmkit-broken"}, version="0.1", entry_points=[ep])
    monkeypatch.setattr(importlib.metadata, "distributions", lambda: [dist])
    with pytest.raises(PluginError, match="'broken'.*failed to load"):
        make_plugin_manager()


def _installed_plugin(folder, dist_folder, name="school", version="2.0"):
    """A distribution folder with a ``crmkit`` entry point and the module it names, as pip leaves them."""
    dist = folder / dist_folder
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: crmkit-{name}\nVersion: {version}\n\nAbout.\n")
    (dist / "entry_points.txt").write_text(f"[console_scripts]\nx = y:z\n\n[crmkit]\n{name} = plugin_{name}\n")
    (folder / f"plugin_{name}.py").write_text(
        "from crmkit import hookimpl\n"
        "from crmkit.profiles.base import Profile, StageSpec\n\n"
        "@hookimpl\n"
        "def crmkit_profiles():\n"
        f"    return [Profile(name='{name}', title='{name}', stages=(StageSpec(name='new'),), transitions={{}},\n"
        "                    initial_stage='new', ticket_categories=('question',))]\n"
    )


def test_entry_points_are_read_from_the_folders_without_importlib_metadata(tmp_path):
    import subprocess
    import sys

    _installed_plugin(tmp_path, "crmkit_school-2.0.dist-info")
    _installed_plugin(tmp_path / "later", "crmkit_school-1.0.dist-info", version="1.0")  # the same, further on
    code = ("import sys; sys.path[1:1] = [sys.argv[1], sys.argv[1] + '/later']\n"
            "from crmkit.plugins import make_plugin_manager, plugin_info\n"
            "pm = make_plugin_manager()\n"
            "print([(i.name, i.version) for i in plugin_info(pm) if i.name == 'school'])\n"
            "print('importlib.metadata' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == ["[('school', '2.0')]", "False"]


def test_folders_and_importlib_metadata_find_the_same_entry_points(tmp_path, monkeypatch):
    from crmkit import plugins

    _installed_plugin(tmp_path, "crmkit_school-2.0.dist-info")
    _installed_plugin(tmp_path / "later", "crmkit_school-1.0.dist-info", version="1.0")
    monkeypatch.syspath_prepend(str(tmp_path / "later"))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(plugins, "_folders_tell_all", lambda: True)
    from_folders = [ep[:3] for ep in plugins._entry_points()]
    monkeypatch.setattr(plugins, "_folders_tell_all", lambda: False)
    assert [ep[:3] for ep in plugins._entry_points()] == from_folders
    assert ("school", "plugin_school", "crmkit-school 2.0") in from_folders
    assert [key for key, _path in plugins._dist_folders()] == [
        plugins._dist_key(dist) for dist in importlib.metadata.distributions()]


def test_unknown_hook_is_refused():
    class Typo:
        @hookimpl
        def crmkit_profile(self):  # missing "s"
            return []

    with pytest.raises(PluginError, match="unknown hook"):
        make_plugin_manager(entrypoints=False, extra=[Typo()])


# -- one test per hook --------------------------------------------------------------


def test_hook_crmkit_storage_backends(tmp_path):
    from crmkit.storage.memory import MemoryStore

    opened = []

    class Backend:
        @hookimpl
        def crmkit_storage_backends(self):
            return [BackendSpec(scheme="mine", open=lambda url: opened.append(url) or MemoryStore(),
                                description="test")]

    pm = make_plugin_manager(entrypoints=False, extra=[Backend()])
    crm = crmkit.open("mine://somewhere", pm=pm)
    assert opened == ["mine://somewhere"]
    assert crm.customers.add("Ann").id == "C-1"


def test_hook_crmkit_storage_backends_duplicate_scheme():
    class Clash:
        @hookimpl
        def crmkit_storage_backends(self):
            return [BackendSpec(scheme="tinydb", open=lambda url: None, description="clash")]

    pm = make_plugin_manager(entrypoints=False, extra=[Clash()])
    with pytest.raises(PluginError, match="backend 'tinydb' is contributed by both crmkit.storage.tinydb and"):
        registry(pm, "backend")


def test_hook_crmkit_profiles():
    pm = make_plugin_manager(entrypoints=False, extra=[_profile_module("school")])
    crm = crmkit.open("memory://", "school", pm=pm)
    assert crm.profile.name == "school"
    assert crm.customers.add("Pupil").stage == "new"
    with pytest.raises(crmkit.ValidationError, match="unknown profile; known: generic, school"):
        crmkit.open("memory://", "nope", pm=pm)


def test_hook_crmkit_validate_record():
    seen = []

    class Check:
        @hookimpl
        def crmkit_validate_record(self, crm, kind, record):
            seen.append(kind)
            if kind == "ticket" and "urgent" in record.subject.lower() and record.priority.value != "urgent":
                raise crmkit.ValidationError("priority", record.priority.value, "must be urgent for urgent subjects")

    crm = crmkit.open("memory://", pm=make_plugin_manager(entrypoints=False, extra=[Check()]))
    ann = crm.customers.add("Ann")
    with pytest.raises(crmkit.ValidationError, match="must be urgent"):
        crm.tickets.open(ann.id, "URGENT: server down")
    assert crm.tickets.count() == 0
    assert seen == ["customer", "ticket"]


def test_hook_crmkit_on_event():
    events = []

    class Listener:
        @hookimpl
        def crmkit_on_event(self, crm, event):
            events.append((event.type, event.record_id, event.actor))

    crm = crmkit.open("memory://", pm=make_plugin_manager(entrypoints=False, extra=[Listener()]), actor="eve")
    ann = crm.customers.add("Ann")
    crm.lifecycle.move(ann.id, "customer")
    assert events == [("customer.created", "C-1", "eve"), ("lifecycle.changed", "C-1", "eve")]


def test_hook_crmkit_importers(tmp_path):
    from crmkit.io.base import ImporterSpec

    def read_names(fp):
        for number, line in enumerate(fp, start=1):
            if line.strip():
                yield number, {"name": line.strip()}

    class Names:
        @hookimpl
        def crmkit_importers(self):
            return [ImporterSpec(format="names", read=read_names, suffixes=(".names",))]

    pm = make_plugin_manager(entrypoints=False, extra=[Names()])
    assert registry(pm, "importer").get("names").suffixes == (".names",)
    source = tmp_path / "people.names"
    source.write_text("Ann\nBob\n")
    from crmkit.io.transfer import import_records

    crm = crmkit.open("memory://", pm=pm)
    report = import_records(crm, source, record_type="customers")
    assert report.created == 2
    assert [c.name for c in crm.customers.find(sort="name")] == ["Ann", "Bob"]


def test_hook_crmkit_exporters():
    import io

    from crmkit.io.base import ExporterSpec
    from crmkit.io.transfer import export_records

    def write_names(fp, rows, columns):
        for row in rows:
            fp.write(f"{row['name']}\n")

    class Names:
        @hookimpl
        def crmkit_exporters(self):
            return [ExporterSpec(format="names", write=write_names, suffix=".names", flat=False)]

    crm = crmkit.open("memory://", pm=make_plugin_manager(entrypoints=False, extra=[Names()]))
    crm.customers.add_many([{"name": "Bob"}, {"name": "Ann"}])
    out = io.StringIO()
    assert export_records(crm, "customers", out, format="names", sort="name") == 2
    assert out.getvalue() == "Ann\nBob\n"


def test_hook_crmkit_import_presets(tmp_path):
    from crmkit.io.base import ImportPreset
    from crmkit.io.transfer import import_records

    class Hub:
        @hookimpl
        def crmkit_import_presets(self):
            return [ImportPreset(name="hub", record_type="customers", mapping={"Full": "name", "Mail": "emails"})]

    crm = crmkit.open("memory://", pm=make_plugin_manager(entrypoints=False, extra=[Hub()]))
    source = tmp_path / "hub.csv"
    source.write_text("Full,Mail,Ignored\nAnn Lee,ann@example.com,x\n")
    import_records(crm, source, record_type="customers", preset="hub")
    assert crm.customers.find_by_email("ann@example.com").name == "Ann Lee"


def test_hook_crmkit_register_commands():
    import click
    from click.testing import CliRunner

    from crmkit.cli import build_cli

    class Hello:
        @hookimpl
        def crmkit_register_commands(self, cli):
            @cli.command()
            def hello():
                """Say hello."""
                click.echo("hello from a plugin")

    pm = make_plugin_manager(entrypoints=False, extra=[Hello()])
    result = CliRunner().invoke(build_cli(pm), ["hello"])
    assert result.exit_code == 0 and result.output == "hello from a plugin\n"


def test_hook_docs_mention_how_results_combine():
    for name in HOOKS:
        doc = inspect.getdoc(getattr(hookspecs, name))
        assert re.search(r"combined|ignored|nothing", doc), name


def test_one_distribution_seen_twice_is_loaded_once(monkeypatch):
    module = _profile_module("school")
    _fake_distribution(monkeypatch, ("crmkit-school", "school", module), ("crmkit_school", "school", module))
    pm = make_plugin_manager()
    assert "school" in registry(pm, "profile")


def test_hook_crmkit_customer_sections():
    from datetime import date

    from crmkit import Section

    class Loyalty:
        @hookimpl
        def crmkit_customer_sections(self, crm, customer):
            if "vip" not in customer.tags:
                return None
            return [Section(title="Loyalty", fields={"points": 120, "since": date(2024, 5, 1)}),
                    Section(title="Vouchers", rows=[{"code": "SPRING", "value": 10}], columns=["code", "value"])]

    pm = make_plugin_manager(entrypoints=False, extra=[Loyalty()])
    crm = crmkit.open("memory://", pm=pm)
    ann = crm.customers.add("Ann", tags=["vip"])
    bob = crm.customers.add("Bob")
    assert [s.title for s in crm.customers.overview(ann.id).sections] == ["Loyalty", "Vouchers"]
    assert crm.customers.overview(bob.id).sections == []
    with pytest.raises(crmkit.ValidationError):
        Section(title="Both", fields={"a": 1}, lines=["b"])
    crm.close()


def test_customer_show_renders_plugin_sections(tmp_path):
    from datetime import date

    from click.testing import CliRunner

    from crmkit import Section
    from crmkit.cli import build_cli

    class Loyalty:
        @hookimpl
        def crmkit_customer_sections(self, crm, customer):
            return [Section(title="Loyalty", fields={"points": 120, "since": date(2024, 5, 1)}),
                    Section(title="Vouchers", rows=[{"code": "SPRING", "value": 10}])]

    pm = make_plugin_manager(entrypoints=False, extra=[Loyalty()])
    url = str(tmp_path / "crm.json")
    with crmkit.open(url, pm=pm) as crm:
        crm.customers.add("Ann")
    cli = build_cli(pm)
    text = CliRunner().invoke(cli, ["--db", url, "customer", "show", "C-1"]).stdout
    assert "\nLoyalty\n" in text and "2024-05-01" in text and "SPRING" in text
    data = json.loads(CliRunner().invoke(cli, ["--db", url, "customer", "show", "C-1", "--format", "json"]).stdout)
    assert data["sections"][0] == {"title": "Loyalty", "fields": [["points", 120], ["since", "2024-05-01"]],
                                   "rows": [], "columns": [], "lines": []}


def test_plugin_commands_get_the_store_and_the_renderer(tmp_path):
    import csv
    import io

    import click
    from click.testing import CliRunner

    from crmkit.cli import build_cli, current_crm, render_rows

    @click.command("vips")
    @click.option("--format", "fmt", default="table")
    def vips(fmt):
        """List VIP customers."""
        crm = current_crm()
        render_rows([{"id": c.id, "name": c.name, "since": c.created_at.date()} for c in crm.customers.find(tags="vip")],
                    fmt, columns=["id", "name"])

    class Commands:
        @hookimpl
        def crmkit_register_commands(self, cli):
            cli.add_command(vips)

    pm = make_plugin_manager(entrypoints=False, extra=[Commands()])
    url = str(tmp_path / "crm.json")
    with crmkit.open(url, pm=pm) as crm:
        crm.customers.add("=HYPERLINK(1)", tags=["vip"])
        crm.customers.add("Bob")
    runner = CliRunner()
    cli = build_cli(pm)
    table = runner.invoke(cli, ["--db", url, "vips"]).stdout
    assert "=HYPERLINK(1)" in table and "since" not in table and "Bob" not in table
    rows = list(csv.DictReader(io.StringIO(runner.invoke(cli, ["--db", url, "vips", "--format", "csv"]).stdout)))
    assert rows[0]["name"] == "'=HYPERLINK(1)" and rows[0]["since"]  # every key, formula neutralised
    data = json.loads(runner.invoke(cli, ["--db", url, "vips", "--format", "json"]).stdout)
    assert data[0]["since"] == rows[0]["since"] and data[0]["name"] == "=HYPERLINK(1)"


def test_hook_crmkit_on_commit():
    commits = []

    class Listener:
        @hookimpl
        def crmkit_on_commit(self, crm, events):
            commits.append((len(events), sorted(events.types()),
                            [(e.type, e.record_id) for e in events.of_type("lifecycle.changed")],
                            crm.storage.count("customers")))

    crm = crmkit.open("memory://", pm=make_plugin_manager(entrypoints=False, extra=[Listener()]), actor="eve")
    with crm.transaction():
        ann, bo = crm.customers.add_many([{"name": "Ann"}, {"name": "Bo"}])
        crm.lifecycle.move(ann.id, "customer")
        assert commits == []  # nothing before the commit
    assert commits == [(3, ["customer.created", "lifecycle.changed"], [("lifecycle.changed", ann.id)], 2)]
    with pytest.raises(crmkit.ValidationError), crm.transaction():
        crm.customers.add("Cy")
        crm.customers.add("")
    assert len(commits) == 1  # a rolled-back transaction commits nothing

    class Reader:
        @hookimpl
        def crmkit_on_commit(self, crm, events):
            events_seen.extend([events[0], *events[1:], *list(events)])

    events_seen: list = []
    crm = crmkit.open("memory://", pm=make_plugin_manager(entrypoints=False, extra=[Reader()]), actor="eve")
    crm.customers.add_many([{"name": "Ann"}, {"name": "Bo"}])
    assert [e.record_id for e in events_seen] == ["C-1", "C-2", "C-1", "C-2"]


def test_validate_calls_implementations_as_pluggy_would(monkeypatch):
    calls = []

    class First:
        @hookimpl(tryfirst=True)
        def crmkit_validate_record(self, kind):  # any subset of the arguments, by name
            calls.append(("first", kind))

    class Second:
        @hookimpl
        def crmkit_validate_record(self, record, crm):
            calls.append(("second", record.name, crm is not None))

    class Refuse:
        @hookimpl(trylast=True)
        def crmkit_validate_record(self, record):
            calls.append(("refuse", record.name))
            if record.name == "Bad":
                raise crmkit.ValidationError("name", record.name, "is refused")

    class Wrapper:
        @hookimpl(wrapper=True)
        def crmkit_validate_record(self, kind):
            calls.append(("wrapper before", kind))
            result = yield
            calls.append(("wrapper after", kind))
            return result

    def run(*plugins, trace=False):
        calls.clear()
        if trace:
            monkeypatch.setenv("CRMKIT_TRACE_PLUGINS", "1")
        pm = make_plugin_manager(entrypoints=False, extra=list(plugins))
        monkeypatch.delenv("CRMKIT_TRACE_PLUGINS", raising=False)
        crm = crmkit.open("memory://", pm=pm)
        crm.customers.add("Ann")
        with pytest.raises(crmkit.ValidationError, match="is refused"):
            crm.customers.add("Bad")
        assert crm.customers.count() == 1
        return list(calls)

    plain = run(Second(), First(), Refuse())
    assert plain == [("first", "customer"), ("second", "Ann", True), ("refuse", "Ann"),
                     ("first", "customer"), ("second", "Bad", True), ("refuse", "Bad")]
    assert run(Second(), First(), Refuse(), trace=True) == plain  # pluggy's own path gives the same
    wrapped = run(Second(), First(), Refuse(), Wrapper())
    assert wrapped[0] == ("wrapper before", "customer") and ("wrapper after", "customer") in wrapped
    assert [c for c in wrapped if not c[0].startswith("wrapper")] == plain
