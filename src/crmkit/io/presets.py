"""Import presets for contact exports of other tools (plugin ``crmkit.io.presets``), and column mapping.

A preset is data: which source column feeds which crmkit column, plus small
per-column transforms. :func:`map_row` applies a preset's (or a user's)
mapping to one row; the importer then treats the result like a crmkit row.

The headers were taken from real exports (see ``datasets/SOURCES.md``):
legacy Google Contacts CSV, Outlook CSV (and Roundcube's generic export, which
uses Outlook-like names), Thunderbird's address book CSV, and Salesforce's
Data Export / Data Loader files for Contact, Account and Lead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..hookspecs import hookimpl
from .base import NAME_PARTS, ROW_ERROR, ImportPreset


def split_google_groups(text: str) -> list[str]:
    """``"* My Contacts ::: Test"`` -> ``["My Contacts", "Test"]``: split on `` ::: `` and drop the ``* `` marker."""
    return [part.strip().removeprefix("* ").strip() for part in text.split(":::") if part.strip(" *")]


def split_google_values(text: str) -> list[str]:
    """Google puts several values of one type in one cell, joined by `` ::: ``."""
    return [part.strip() for part in text.split(":::") if part.strip()]


def split_categories(text: str) -> list[str]:
    """Outlook categories: ``"Friends; VIP"`` or ``"Friends,VIP"``."""
    return [part.strip() for part in re.split(r"[;,]", text) if part.strip()]


def salesforce_status(text: str) -> str:
    """A Lead's ``Status`` becomes a tag such as ``lead status: Qualified``."""
    return f"lead status: {text.strip()}"


def _numbered(template: str, target: str, count: int) -> dict[str, str]:
    return {template.format(n): target for n in range(1, count + 1)}


_GOOGLE_EMAILS = _numbered("E-mail {} - Value", "emails", 9)
_GOOGLE_PHONES = _numbered("Phone {} - Value", "phones", 9)

GOOGLE = ImportPreset(
    name="google",
    record_type="customers",
    description="Google Contacts CSV (the legacy 'Google CSV' layout: Given Name, E-mail 1 - Value ...).",
    mapping={
        "Name": "name",
        "Given Name": "first_name",
        "Additional Name": "middle_name",
        "Family Name": "last_name",
        **_GOOGLE_EMAILS,
        **_GOOGLE_PHONES,
        "Organization 1 - Name": "company",
        "Organization 1 - Title": "title",
        "Address 1 - Street": "address.street",
        "Address 1 - City": "address.city",
        "Address 1 - Region": "address.region",
        "Address 1 - Postal Code": "address.postal_code",
        "Address 1 - Country": "address.country",
        "Notes": "notes",
        "Group Membership": "tags",
    },
    transforms={
        "Group Membership": split_google_groups,
        **dict.fromkeys([*_GOOGLE_EMAILS, *_GOOGLE_PHONES], split_google_values),
    },
    lenient=("emails", "phones"),
    key_columns=(("Given Name", "Additional Name", "Family Name", *_GOOGLE_EMAILS, *_GOOGLE_PHONES,
                  "Group Membership"),),
)

OUTLOOK = ImportPreset(
    name="outlook",
    record_type="customers",
    description="Outlook contacts CSV (First Name, E-mail Address, Business Phone ...); "
                "also reads Roundcube's generic export (Display Name, Email Home, Work City ...).",
    mapping={
        "First Name": "first_name",
        "Middle Name": "middle_name",
        "Last Name": "last_name",
        "Display Name": "display_name",
        "Company": "company",
        "Job Title": "title",
        "E-mail Address": "emails",
        "E-mail 2 Address": "emails",
        "E-mail 3 Address": "emails",
        "Email Home": "emails",
        "Email Work": "emails",
        "Email Other": "emails",
        "Business Phone": "phones",
        "Business Phone 2": "phones",
        "Company Main Phone": "phones",
        "Primary Phone": "phones",
        "Mobile Phone": "phones",
        "Home Mobile": "phones",
        "Home Phone": "phones",
        "Home Phone 2": "phones",
        "Other Phone": "phones",
        "Business Street": "address.street",
        "Business City": "address.city",
        "Work City": "address.city",
        "Business State": "address.region",
        "Work State": "address.region",
        "Business Postal Code": "address.postal_code",
        "Work Zip": "address.postal_code",
        "Business Country/Region": "address.country",
        "Business Country": "address.country",
        "Work Country": "address.country",
        "Notes": "notes",
        "Categories": "tags",
    },
    transforms={"Categories": split_categories},
    lenient=("emails", "phones"),
    key_columns=(("First Name", "Middle Name", "Last Name", "Display Name", "E-mail Address", "E-mail 2 Address",
                  "E-mail 3 Address", "Email Home", "Email Work", "Email Other"),),
)

THUNDERBIRD = ImportPreset(
    name="thunderbird",
    record_type="customers",
    description="Thunderbird address book CSV export (First Name, Primary Email, Work Phone ...).",
    mapping={
        "First Name": "first_name",
        "Last Name": "last_name",
        "Display Name": "display_name",
        "Primary Email": "emails",
        "Secondary Email": "emails",
        "Work Phone": "phones",
        "Home Phone": "phones",
        "Mobile Number": "phones",
        "Organization": "company",
        "Job Title": "title",
        "Work Address": "address.street",
        "Work Address 2": "address.street",
        "Work City": "address.city",
        "Work State": "address.region",
        "Work ZipCode": "address.postal_code",
        "Work Country": "address.country",
        "Notes": "notes",
    },
    lenient=("emails", "phones"),
    key_columns=(("First Name", "Last Name", "Display Name", "Primary Email", "Secondary Email"),),
)

_SALESFORCE_PERSON = {
    "FirstName": "first_name",
    "LastName": "last_name",
    "Name": "display_name",
    "Email": "emails",
    "Phone": "phones",
    "MobilePhone": "phones",
    "Title": "title",
    "LeadSource": "source",
    "Description": "notes",
    "Id": "external_ids.salesforce",
}

SALESFORCE_CONTACTS = ImportPreset(
    name="salesforce-contacts",
    record_type="customers",
    description="Salesforce Contact export (Data Export / Data Loader: FirstName, LastName, Email, Mailing*, Id).",
    mapping={
        **_SALESFORCE_PERSON,
        "HomePhone": "phones",
        # Data Loader exports with a relationship query, and report exports, name the account.
        "Account.Name": "company",
        "Account Name": "company",
        "Account: Account Name": "company",
        # Report exports ("Contacts with Accounts") prefix every column with its object.
        "Contact: First Name": "first_name",
        "Contact: Last Name": "last_name",
        "Contact: Title": "title",
        "Contact: Phone": "phones",
        "Contact: Email": "emails",
        "MailingStreet": "address.street",
        "MailingCity": "address.city",
        "MailingState": "address.region",
        "MailingPostalCode": "address.postal_code",
        "MailingCountry": "address.country",
    },
    lenient=("emails", "phones"),
    key_columns=(("FirstName", "LastName", "Email", "Contact: First Name", "Contact: Last Name", "Contact: Email"),),
)

SALESFORCE_ACCOUNTS = ImportPreset(
    name="salesforce-accounts",
    record_type="customers",
    description="Salesforce Account export: companies (Name, Phone, Billing*, Industry, Id).",
    mapping={
        "Name": "name",
        "Phone": "phones",
        "BillingStreet": "address.street",
        "BillingCity": "address.city",
        "BillingState": "address.region",
        "BillingPostalCode": "address.postal_code",
        "BillingCountry": "address.country",
        "Industry": "industry",
        "NumberOfEmployees": "size",
        "AccountSource": "source",
        "Description": "notes",
        "Id": "external_ids.salesforce",
    },
    defaults={"kind": "company"},
    lenient=("emails", "phones"),
    # Contact and Lead files have a Name too; the billing address is the Account's own.
    key_columns=(("Name",), ("BillingStreet", "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry",
                             "AccountSource")),
)

SALESFORCE_LEADS = ImportPreset(
    name="salesforce-leads",
    record_type="customers",
    description="Salesforce Lead export (FirstName, LastName, Company, Email, Status, LeadSource, Id); stage lead.",
    mapping={
        **_SALESFORCE_PERSON,
        "Company": "company",
        "Industry": "industry",
        "Street": "address.street",
        "City": "address.city",
        "State": "address.region",
        "PostalCode": "address.postal_code",
        "Country": "address.country",
        "Status": "tags",
    },
    transforms={"Status": salesforce_status},
    defaults={"stage": "lead"},
    lenient=("emails", "phones"),
    # Company and Status are required Lead fields; a Contact file has neither.
    key_columns=(("FirstName", "LastName", "Name", "Email"), ("Company", "Status")),
)

BUILTIN_PRESETS = (GOOGLE, OUTLOOK, THUNDERBIRD, SALESFORCE_CONTACTS, SALESFORCE_ACCOUNTS, SALESFORCE_LEADS)


@hookimpl
def crmkit_import_presets() -> list[ImportPreset]:
    """Contribute the built-in presets: google, outlook, thunderbird, salesforce-contacts/-accounts/-leads."""
    return list(BUILTIN_PRESETS)


# -- applying a mapping ---------------------------------------------------------------


def map_row(
    row: Mapping[str, Any],
    mapping: Mapping[str, str],
    model: type,
    *,
    transforms: Mapping[str, Callable[[str], Any]] | None = None,
    defaults: Mapping[str, Any] | None = None,
    passthrough: bool = False,
) -> dict[str, Any]:
    """Rename a source row's columns to crmkit columns and merge the values.

    Columns absent from ``mapping`` are dropped, unless ``passthrough`` is set
    and they already are crmkit columns. List targets collect the values of
    every column that feeds them (text split on ``;``); several non-empty
    columns feeding a text target are joined (``notes`` with newlines, others
    with ``", "``). A target fed only by empty cells maps to ``""``, so an
    update can still see the column. ``defaults`` fill targets left empty.
    Name parts (:data:`NAME_PARTS`) are combined into ``name`` (see
    :func:`compose_name`).
    """
    from .records import canonical_column, is_column, list_field  # the models load only when a file is mapped

    transforms = transforms or {}
    gathered: dict[str, list[Any]] = {}
    for column, value in row.items():
        if column == ROW_ERROR:
            continue
        target = mapping.get(column)
        if target is None:
            if not (passthrough and is_column(canonical_column(column, model), model)):
                continue
            target = canonical_column(column, model)
        transform = transforms.get(column)
        if transform is not None and isinstance(value, str) and value.strip():
            value = transform(value.strip())
        items = value if isinstance(value, list) else [value]
        bucket = gathered.setdefault(target, [])
        for item in items:
            if isinstance(item, str) and list_field(target, model):
                bucket += [part.strip() for part in item.split(";") if part.strip()]
            elif item is not None and not (isinstance(item, str) and not item.strip()):
                bucket.append(item.strip() if isinstance(item, str) else item)
    result: dict[str, Any] = {}
    for target, values in gathered.items():
        if list_field(target, model):
            result[target] = list(dict.fromkeys(values))
        elif not values:
            result[target] = ""
        elif len(values) == 1 or not all(isinstance(v, str) for v in values):
            result[target] = values[0]
        else:
            result[target] = ("\n" if target == "notes" else ", ").join(values)
    for target, value in (defaults or {}).items():
        if result.get(target) in (None, "", []):
            result[target] = value
    return compose_name(result)


def compose_name(values: dict[str, Any]) -> dict[str, Any]:
    """Replace the name parts with ``name``: given name, else first + middle + last, else display name.

    Leaves ``name`` out when none of them is present, so that an update does
    not touch the name; :func:`fallback_name` covers new records.
    """
    parts = {part: values.pop(part, "") for part in NAME_PARTS}
    if str(values.get("name") or "").strip():
        return values
    joined = " ".join(str(parts[p]).strip() for p in ("first_name", "middle_name", "last_name") if parts[p])
    name = joined.strip() or str(parts["display_name"] or "").strip()
    if name:
        values["name"] = name
    return values


def fallback_name(values: Mapping[str, Any]) -> str | None:
    """A name for a new record that has none: the company, else the first email."""
    company = str(values.get("company") or "").strip()
    if company:
        return company
    emails = values.get("emails") or ()
    if isinstance(emails, str):
        emails = [part.strip() for part in emails.split(";")]
    return next((str(e).strip() for e in emails if str(e).strip()), None)
