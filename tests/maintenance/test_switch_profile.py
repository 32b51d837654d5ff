"""Switching a store to another profile: checked first, refused when records do not fit, unless forced."""

import attrs
import pytest

import crmkit
from crmkit import FieldSpec, StageSpec, hookimpl
from crmkit.errors import ValidationError
from crmkit.maintenance import switch_profile
from crmkit.plugins import make_plugin_manager
from crmkit.profiles.generic import GENERIC

SHOP = attrs.evolve(
    GENERIC, name="shop", title="Shop", open_fields=False,
    stages=(StageSpec(name="lead"), StageSpec(name="customer", kind="customer"), StageSpec(name="lapsed", kind="lost")),
    transitions={"lead": ("customer",), "customer": ("lapsed",), "lapsed": ("customer",)}, initial_stage="lead",
    ticket_categories=("return", "complaint"), fields=(FieldSpec(name="points", type="int"),),
    lead_conversion_stage=None,
)


class ShopPlugin:
    @hookimpl
    def crmkit_profiles(self):
        return [SHOP]


def _pm():
    return make_plugin_manager(entrypoints=False, extra=[ShopPlugin()])


@pytest.fixture
def store(tmp_path):
    url = tmp_path / "crm.json"
    with crmkit.open(url, pm=_pm()) as crm:
        ann = crm.customers.add("Ann", fields={"points": "12"})
        crm.customers.add("Bob", fields={"colour": "blue"})
        crm.lifecycle.move(ann.id, "qualified")
        crm.tickets.open(ann.id, "Broken", category="complaint")
        crm.tickets.open(ann.id, "Where is it", category="inquiry")
    return url


def test_a_dry_run_lists_what_does_not_fit_and_changes_nothing(store):
    with crmkit.open(store, pm=_pm()) as crm:
        report = switch_profile(crm, "shop", dry_run=True)
        assert not report.switched and report.checked == 4
        found = {(p.collection, p.record_id) for p in report.problems}
        assert found == {("customers", "C-1"), ("customers", "C-2"), ("tickets", "T-2")}
        assert crm.storage.get_meta("profile") == "generic"


def test_a_switch_with_problems_is_refused_unless_forced(store):
    with crmkit.open(store, pm=_pm()) as crm:
        with pytest.raises(ValidationError) as err:
            switch_profile(crm, "shop")
        assert "3 records do not fit" in err.value.reason and crm.storage.get_meta("profile") == "generic"
        report = switch_profile(crm, "shop", force=True)
        assert report.switched and crm.profile.name == "shop"
    with crmkit.open(store, pm=_pm()) as again:
        assert again.profile.name == "shop" and again.customers.get("C-2").fields == {"colour": "blue"}
    with pytest.raises(ValidationError) as err:
        crmkit.open(store, "generic", pm=_pm())
    assert "switch-profile generic" in err.value.reason


def test_a_clean_store_switches_and_unknown_profiles_are_named(tmp_path):
    url = tmp_path / "clean.json"
    with crmkit.open(url, pm=_pm()) as crm:
        crm.customers.add("Ann")
        assert switch_profile(crm, "shop").switched
        with pytest.raises(ValidationError) as err:
            switch_profile(crm, "bakery")
        assert "generic" in err.value.reason and "shop" in err.value.reason


def test_cli_switch_profile(store):
    from click.testing import CliRunner

    from crmkit.cli import build_cli

    cli = build_cli(_pm())
    runner = CliRunner()
    dry = runner.invoke(cli, ["--db", str(store), "db", "switch-profile", "shop", "--dry-run"])
    assert dry.exit_code == 0 and "C-2" in dry.stdout and "would switch generic -> shop" in dry.stdout
    refused = runner.invoke(cli, ["--db", str(store), "db", "switch-profile", "shop"])
    assert refused.exit_code == 1 and "do not fit" in refused.stderr and "Traceback" not in refused.stderr
    forced = runner.invoke(cli, ["--db", str(store), "db", "switch-profile", "shop", "--force"])
    assert forced.exit_code == 0 and "switched generic -> shop" in forced.stdout
