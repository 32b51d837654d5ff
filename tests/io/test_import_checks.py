"""import_records refuses a file that does not fit the call before anything is written.

A ``mapping`` column the file lacks, unknown columns in a file without rows,
a JSON object that is not a list of records, a preset for another kind of file.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from crmkit.entities import RECORD_TYPES
from crmkit.errors import ValidationError
from crmkit.io.transfer import import_records


def write(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_a_mapped_column_the_file_lacks_is_refused(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "Customer,E-mail\nAnn,ann@example.com\n")
    with pytest.raises(ValidationError) as info:
        import_records(crm, path, record_type="customers", mapping={"Customer": "name", "E-mial": "emails"})
    assert (info.value.field, info.value.value) == ("map", "E-mial")
    assert info.value.reason.startswith("no such column in the file; columns are: Customer, E-mail")
    assert "did you mean 'E-mail'?" in info.value.reason
    assert crm.customers.count() == 0
    # Spelled right, it imports.
    report = import_records(crm, path, record_type="customers", mapping={"Customer": "name", "E-mail": "emails"})
    assert report.created == 1 and crm.customers.get("C-1").emails == ("ann@example.com",)


def test_a_mapped_column_is_checked_in_a_file_without_rows_and_in_json(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="no such column in the file; columns are: Customer"):
        import_records(crm, write(tmp_path, "Customer\n"), record_type="customers", mapping={"Client": "name"})
    with pytest.raises(ValidationError, match="no such column in the file; columns are: Customer, Mail"):
        import_records(crm, io.StringIO('[{"Customer": "Ann"}, {"Mail": "b@example.com"}]'), format="json",
                       record_type="customers", mapping={"Client": "name"})
    # No rows and no header: nothing to check, nothing imported.
    report = import_records(crm, io.StringIO("[]"), format="json", record_type="customers",
                            mapping={"Client": "name"})
    assert report.total == 0


def test_a_mapped_column_with_a_preset_is_checked_too(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "Given Name,Family Name,E-mail 1 - Value\nKari,Nordmann,kari@example.com\n")
    with pytest.raises(ValidationError, match="map: no such column"):
        import_records(crm, path, record_type="customers", preset="google", mapping={"Company": "company"})
    assert crm.customers.count() == 0


def test_a_header_without_rows_is_checked_like_a_file_with_rows(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for text in ("bogus,wat\n", "bogus,wat\n1,2\n"):
        with pytest.raises(ValidationError) as info:
            import_records(crm, write(tmp_path, text), record_type="customers")
        assert info.value.field == "columns" and info.value.reason.startswith("unknown columns: bogus, wat")
    report = import_records(crm, write(tmp_path, "name,emails\n"), record_type="customers")
    assert (report.created, report.total) == (0, 0)


def test_a_json_object_that_is_not_an_all_export_says_what_it_holds(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, '{"totalSize": 1, "records": [{"attributes": {"type": "Contact"}, "LastName": "Lee"}]}',
                 "Contacts.sobject-tree.json")
    with pytest.raises(ValidationError) as info:
        import_records(crm, path, record_type="customers", preset="salesforce-contacts")
    reason = info.value.reason
    assert "several record types" not in reason
    assert "'totalSize', 'records'" in reason and "a list of records" in reason
    assert "/".join(RECORD_TYPES) in reason


def test_an_all_export_read_as_one_type_still_says_import_it_as_all(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, '{"customers": [], "tickets": []}', "all.json")
    with pytest.raises(ValidationError, match="'all' export .*customers, tickets.*import it as all"):
        import_records(crm, path, record_type="customers")
    with pytest.raises(ValidationError, match="list of records of one type, not an 'all' export"):
        import_records(crm, write(tmp_path, "[]", "list.json"), record_type="all")


ACCOUNTS = "Id,Name,Phone,BillingCity,Industry,Description\n001A,Acme,+4722334455,Oslo,Retail,Big\n"
CONTACTS = "Id,FirstName,LastName,Name,Email,Phone\n003A,Ann,Lee,Ann Lee,ann@example.com,+4722334455\n"


@pytest.mark.parametrize(("preset", "text", "missing"), [
    ("salesforce-contacts", ACCOUNTS, "FirstName, LastName, Email"),
    ("salesforce-accounts", CONTACTS, "BillingStreet, BillingCity"),
    ("salesforce-leads", CONTACTS, "Company, Status"),
    ("google", ACCOUNTS, "Given Name, Additional Name, Family Name"),
    ("thunderbird", CONTACTS, "First Name, Last Name"),
    ("outlook", "Whatever,Else\nx,y\n", "First Name, Middle Name"),
])
def test_a_preset_for_another_kind_of_file_is_refused(crm, tmp_path: Path, preset: str, text: str,
                                                      missing: str) -> None:
    with pytest.raises(ValidationError) as info:
        import_records(crm, write(tmp_path, text), record_type="customers", preset=preset, dry_run=True)
    assert (info.value.field, info.value.value) == ("preset", preset)
    assert f"does not look like a {preset} export" in info.value.reason
    assert missing in info.value.reason
    assert crm.customers.count() == 0


def test_a_preset_is_checked_on_a_header_without_rows(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="does not look like a salesforce-contacts export"):
        import_records(crm, write(tmp_path, ACCOUNTS.splitlines()[0] + "\n"), record_type="customers",
                       preset="salesforce-contacts")


def test_the_matching_presets_still_import(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert import_records(crm, write(tmp_path, ACCOUNTS), record_type="customers",
                          preset="salesforce-accounts").created == 1
    assert import_records(crm, write(tmp_path, CONTACTS), record_type="customers",
                          preset="salesforce-contacts").created == 1
    # An address book with nothing but an email column is still an address book.
    assert import_records(crm, write(tmp_path, "Primary Email\nbo@example.com\n"), record_type="customers",
                          preset="thunderbird").created == 1


def test_salesforce_account_export_under_the_contacts_preset(datasets: Path, crm) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="salesforce-contacts export: it has none of the columns FirstName"):
        import_records(crm, datasets / "salesforce_export" / "datacloudws_Account.csv", record_type="customers",
                       preset="salesforce-contacts")
    with pytest.raises(ValidationError, match="salesforce-leads export"):
        import_records(crm, datasets / "salesforce_export" / "datacloudws_Contact.csv", record_type="customers",
                       preset="salesforce-leads")
    assert crm.customers.count() == 0
