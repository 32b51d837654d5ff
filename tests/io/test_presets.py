"""Presets on real exports of other tools (read from the shared datasets, never copied into the repo)."""

from __future__ import annotations

from pathlib import Path

import pytest

import crmkit
from crmkit.errors import ImportRowsError
from crmkit.io.presets import map_row, split_google_groups
from crmkit.io.transfer import import_records
from crmkit.models import Customer
from crmkit.registry import registry


def test_builtin_presets_are_registered(pm) -> None:  # type: ignore[no-untyped-def]
    names = registry(pm, "preset").names()
    assert names == ["google", "outlook", "salesforce-accounts", "salesforce-contacts", "salesforce-leads",
                     "thunderbird"]
    assert registry(pm, "preset").plugin_of("google") == "crmkit.io.presets"


def test_google_group_membership_becomes_tags() -> None:
    assert split_google_groups("* My Contacts ::: Test") == ["My Contacts", "Test"]
    assert split_google_groups("Friends") == ["Friends"]


def test_map_row_merges_lists_joins_text_and_composes_names() -> None:
    mapping = {"A": "emails", "B": "emails", "F": "first_name", "L": "last_name", "N1": "notes", "N2": "notes"}
    row = {"A": "a@example.com", "B": "b@example.com; a@example.com", "F": "Ann", "L": "Lee", "N1": "x", "N2": "y",
           "Ignored": "z"}
    assert map_row(row, mapping, Customer) == {"emails": ["a@example.com", "b@example.com"], "name": "Ann Lee",
                                               "notes": "x\ny"}


def test_google_contacts_csv(datasets: Path, crm) -> None:  # type: ignore[no-untyped-def]
    report = import_records(crm, datasets / "contacts_csv" / "roundcube_gmail.csv", record_type="customers",
                            preset="google")
    assert report.created == 1
    person = crm.customers.get("C-1")
    assert person.name == "Prefix Firstname Middle Lastname Suffix"
    assert person.emails == ("home@aaa.pl", "work@email.pl", "unknown@email.com", "other@email.com")
    assert person.tags == ("My Contacts", "Test")
    assert (person.company, person.title) == ("company", "jobtitle")
    assert (person.address.street, person.address.city, person.address.region, person.address.postal_code,
            person.address.country) == ("home_street", "home_city", "home_state", "home_zip", "home_country")
    # "pager", "mainphone"... are not phone numbers: kept in the notes, with a warning.
    assert person.phones == ()
    assert person.notes.startswith('note"note\n') and "pager, mainphone" in person.notes
    assert report.warnings and report.warnings[0][0] == 2


@pytest.mark.parametrize("name", ["thunderbird_basic_csv_addressbook.csv", "thunderbird_csv_semicolon.csv"])
def test_thunderbird_exports(datasets: Path, crm, name: str) -> None:  # type: ignore[no-untyped-def]
    report = import_records(crm, datasets / "contacts_csv" / name, record_type="customers", preset="thunderbird")
    assert report.created == 2 and report.problems == []
    assert [c.name for c in crm.customers.find()] == ["John Doe", "Jane Doe"]
    # ".invalid" is a reserved domain the email validator refuses: kept in the notes, said in a warning.
    assert crm.customers.get("C-1").emails == ()
    assert "john@doe.invalid" in crm.customers.get("C-1").notes
    assert [line for line, _ in report.warnings] == [2, 3]


def test_roundcube_thunderbird_copy_with_trailing_empty_header(datasets: Path, crm) -> None:  # type: ignore[no-untyped-def]
    import_records(crm, datasets / "contacts_csv" / "roundcube_tb_plain.csv", record_type="customers",
                   preset="thunderbird")
    person = crm.customers.get("C-1")
    assert person.name == "Firstname Lastname"
    assert person.emails == ("test@domain.tld", "next@domain.tld")
    assert (person.company, person.title) == ("Organization", "title")
    assert (person.address.street, person.address.city, person.address.country) == ("Addr work", "Wcity", "Poland")


def test_roundcube_all_with_bom_via_outlook_preset(datasets: Path, crm) -> None:  # type: ignore[no-untyped-def]
    assert (datasets / "contacts_csv" / "roundcube_all.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    import_records(crm, datasets / "contacts_csv" / "roundcube_all.csv", record_type="customers", preset="outlook")
    person = crm.customers.get("C-1")
    assert person.name == "First Name Middle Name Last Name"
    assert person.emails == ("home@example.com", "work@example.com", "other@example.com")
    assert (person.company, person.title, person.tags) == ("Company", "Job Title", ("test",))
    assert person.address.city == "Work City" and person.notes.startswith("Notes")


def test_email_only_files_fall_back_to_the_email_as_name(datasets: Path, crm) -> None:  # type: ignore[no-untyped-def]
    import_records(crm, datasets / "contacts_csv" / "roundcube_email.csv", record_type="customers",
                   preset="thunderbird")
    import_records(crm, datasets / "contacts_csv" / "roundcube_outlook.csv", record_type="customers",
                   preset="outlook", skip_invalid=True)
    names = [c.name for c in crm.customers.find()]
    assert names[:4] == ["test1@domain.tld", "test2@domain.tld", "test3@domain.tld", "test4@domain.tld"]


def test_outlook_duplicates_against_the_store_are_reported(datasets: Path, crm) -> None:  # type: ignore[no-untyped-def]
    import_records(crm, datasets / "contacts_csv" / "roundcube_email.csv", record_type="customers",
                   preset="thunderbird")
    with pytest.raises(ImportRowsError) as info:
        import_records(crm, datasets / "contacts_csv" / "roundcube_outlook.csv", record_type="customers",
                       preset="outlook")
    assert info.value.problems == [(2, "email: test1@domain.tld already belongs to C-1 (test1@domain.tld)")]


@pytest.fixture
def us_crm(pm):  # type: ignore[no-untyped-def]
    # Salesforce phones are national US numbers: the store's region reads them.
    store = crmkit.open("memory://", pm=pm, region="US")
    yield store
    store.close()


def test_salesforce_contacts(datasets: Path, us_crm) -> None:  # type: ignore[no-untyped-def]
    report = import_records(us_crm, datasets / "salesforce_export" / "datacloudws_Contact.csv",
                            record_type="customers", preset="salesforce-contacts")
    assert report.created == 102 and report.problems == []
    first = us_crm.customers.get("C-1")
    assert first.name == "Patricia Ryan" and first.emails == ("patricia.ryan@example.com",)
    assert first.phones == ("+15987002803", "+15121799009")
    assert first.external_ids == {"salesforce": "003Ec00000CyOT7IAN"}
    assert (first.address.street, first.address.city, first.address.region, first.address.postal_code,
            first.address.country) == ("4228 Emily Walks", "Anthonyton", "OK", "43892", "US")
    # Upserting the same export again by Salesforce id changes nothing.
    again = import_records(us_crm, datasets / "salesforce_export" / "datacloudws_Contact.csv",
                           record_type="customers", preset="salesforce-contacts", mode="upsert",
                           match_on="external_id")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 102)


def test_salesforce_accounts(datasets: Path, us_crm) -> None:  # type: ignore[no-untyped-def]
    report = import_records(us_crm, datasets / "salesforce_export" / "datacloudws_Account.csv",
                            record_type="customers", preset="salesforce-accounts")
    assert report.created == 22
    walker = us_crm.customers.find(name="Walker Henson and Compton")[0]
    assert walker.kind.value == "company" and walker.industry == "Finance" and walker.size == "577"
    assert walker.phones == ("+13456588094",) and walker.address.city == "Katherinemouth"
    assert walker.external_ids == {"salesforce": "001Ec00000GGw3hIAD"}
    assert all(c.kind.value == "company" for c in us_crm.customers.find())


def test_salesforce_leads(datasets: Path, us_crm) -> None:  # type: ignore[no-untyped-def]
    report = import_records(us_crm, datasets / "salesforce_export" / "datacloudws_Lead.csv",
                            record_type="customers", preset="salesforce-leads")
    assert report.created == 60
    lee = us_crm.customers.get("C-1")
    assert (lee.name, lee.emails, lee.source, lee.stage) == ("William Lee", ("william.lee@example.com",),
                                                             "Online Form", "lead")
    assert lee.tags == ("lead status: Qualified",) and lee.external_ids == {"salesforce": "00QEc00000BBaeXMAT"}
    assert us_crm.customers.get("C-2").source == "Cold Call"


def test_salesforce_report_with_short_rows(datasets: Path, us_crm) -> None:  # type: ignore[no-untyped-def]
    path = datasets / "salesforce_export" / "lwcrecipes_Accounts-Contacts_report.csv"
    with pytest.raises(ImportRowsError) as info:
        import_records(us_crm, path, record_type="customers", preset="salesforce-contacts")
    assert all("cells but the header has 9 columns" in msg for _line, msg in info.value.problems)
    assert us_crm.customers.count() == 0
    # Accounts without contacts are the short rows; the contacts import with their account as company.
    report = import_records(us_crm, path, record_type="customers", preset="salesforce-contacts", skip_invalid=True)
    assert report.created + report.skipped == report.total == 14 and report.created > 0
    amy = us_crm.customers.find(email="amy@demo.net")[0]
    assert (amy.name, amy.company, amy.title, amy.phones) == ("Amy Taylor", "Alpha Dynamics", "VP of Engineering",
                                                              ("+14152568563",))


def test_preset_for_the_wrong_record_type(datasets: Path, crm) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(crmkit.ValidationError, match="is for customers"):
        import_records(crm, datasets / "contacts_csv" / "roundcube_gmail.csv", record_type="tickets",
                       preset="google")
