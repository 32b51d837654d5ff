"""Sensitive custom fields are masked in listings and exports unless revealed."""

import csv
import io
import json

import attrs
import pytest

import crmkit
from crmkit import FieldSpec, hookimpl
from crmkit.errors import ValidationError
from crmkit.io.transfer import export_records, import_records
from crmkit.plugins import make_plugin_manager
from crmkit.privacy import looks_masked, mask
from crmkit.profiles.generic import GENERIC

BANK = attrs.evolve(GENERIC, name="bank", title="Bank", open_fields=False,
                    fields=(FieldSpec(name="national_id", sensitive=True), FieldSpec(name="segment")))


class BankPlugin:
    @hookimpl
    def crmkit_profiles(self):
        return [BANK]


def _pm():
    pm = make_plugin_manager(entrypoints=False)
    pm.register(BankPlugin(), "bank")
    return pm


@pytest.fixture
def bank(tmp_path):
    crm = crmkit.open(tmp_path / "bank.json", "bank", pm=_pm(), actor="tester")
    crm.customers.add("Ann Lee", emails=["ann@example.com"], fields={"national_id": "12345678901", "segment": "a"})
    yield crm
    crm.close()


@pytest.mark.parametrize("value, masked", [("12345678901", "*******8901"), ("1234", "****"), ("12", "***")])
def test_mask_keeps_at_most_the_last_four(value, masked):
    assert mask(value) == masked and looks_masked(masked)


def test_exports_mask_unless_revealed(bank):
    out = io.StringIO()
    export_records(bank, "customers", out, format="csv")
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["fields.national_id"] == "*******8901" and row["fields.segment"] == "a"
    out = io.StringIO()
    export_records(bank, "customers", out, format="json", reveal_sensitive=True)
    assert json.loads(out.getvalue())[0]["fields"]["national_id"] == "12345678901"
    assert bank.customers.get("C-1").fields["national_id"] == "12345678901"  # the library reads the real value
    bank.customers.update("C-1", fields={"national_id": "10987654321"})
    events = io.StringIO()
    export_records(bank, "events", events, format="json")
    text = events.getvalue()
    assert "12345678901" not in text and "10987654321" not in text
    assert "*******8901" in text and "*******4321" in text


def test_a_masked_export_cannot_overwrite_the_real_value(bank, tmp_path):
    out = io.StringIO()
    export_records(bank, "customers", out, format="csv")
    with pytest.raises(crmkit.ImportRowsError) as err:
        import_records(bank, io.StringIO(out.getvalue()), record_type="customers", format="csv", mode="upsert")
    assert "masked" in err.value.problems[0][1]
    with pytest.raises(ValidationError) as err:
        bank.customers.update("C-1", fields={"national_id": "*******8901"})
    assert err.value.field == "fields.national_id"
    assert bank.customers.get("C-1").fields["national_id"] == "12345678901"


def test_cli_masks_lists_shows_and_exports(bank, tmp_path):
    from click.testing import CliRunner

    from crmkit.cli import build_cli

    url = str(tmp_path / "bank.json")
    bank.close()
    runner = CliRunner()
    cli = build_cli(_pm())

    def run(*args):
        result = runner.invoke(cli, ["--db", url, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    assert "*******8901" in run("customer", "show", "C-1") and "12345678901" not in run("customer", "show", "C-1")
    assert "12345678901" in run("customer", "show", "C-1", "--reveal-sensitive")
    assert json.loads(run("customer", "list", "--format", "json"))[0]["fields"]["national_id"] == "*******8901"
    assert "12345678901" in run("customer", "list", "--format", "csv", "--reveal-sensitive")
    assert "12345678901" not in run("export", "customers") and "12345678901" in run("export", "--reveal-sensitive")
