"""An import preset for a shop system's customer export: Shopify's customers CSV (``--preset shopify-customers``).

Shopify exports one row per customer: ``Customer ID, First Name, Last Name,
Email, Accepts Email Marketing, Default Address Company, Default Address
Address1 ..., Phone, Accepts SMS Marketing, Total Spent, Total Orders, Note,
Tax Exempt, Tags`` (older exports: ``Company, Address1, City, Province Code,
Country Code, Zip, Accepts Marketing``); both layouts are read.

What is left out, and why:

* ``Total Spent`` and ``Total Orders``: crmkit derives them from orders
  (import the orders with ``crmkit import --type orders``), never stores
  them twice.
* ``Accepts Email Marketing`` / ``Accepts SMS Marketing`` are **not** turned
  into consent. The export says yes or no, but not when or how the customer
  agreed, and the retail profile only keeps consent with its date and source.
  A "yes" becomes the tag ``shop opt-in: email`` (or ``sms``), so the shop
  can find those customers (``--where "tags~shop opt-in: email"``) and record
  the consent with its proof.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from crmkit import ImportPreset

YES = frozenset({"yes", "true", "1", "subscribed", "y"})


def opt_in_tag(channel: str) -> Callable[[str], list[str]]:
    """A transform turning a yes/no marketing column into the tag ``shop opt-in: CHANNEL`` (or nothing)."""

    def transform(text: str) -> list[str]:
        return [f"shop opt-in: {channel}"] if text.strip().casefold() in YES else []

    return transform


def split_tags(text: str) -> list[str]:
    """Shopify tags: ``"vip, newsletter"``."""
    return [part.strip() for part in re.split(r"[,;]", text) if part.strip()]


SHOPIFY_CUSTOMERS = ImportPreset(
    name="shopify-customers",
    record_type="customers",
    description="Shopify customers export CSV (Customer ID, First Name, Email, Default Address ..., Tags); "
                "marketing opt-ins become tags, not consent (no date or source in the file).",
    mapping={
        "Customer ID": "external_ids.shopify",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "emails",
        "Phone": "phones",
        "Default Address Phone": "phones",
        "Default Address Company": "company",
        "Company": "company",
        "Default Address Address1": "address.street",
        "Default Address Address2": "address.street",
        "Address1": "address.street",
        "Address2": "address.street",
        "Default Address City": "address.city",
        "City": "address.city",
        "Default Address Province Code": "address.region",
        "Province Code": "address.region",
        "Default Address Country Code": "address.country",
        "Country Code": "address.country",
        "Default Address Zip": "address.postal_code",
        "Zip": "address.postal_code",
        "Note": "notes",
        "Tags": "tags",
        "Accepts Email Marketing": "tags",
        "Accepts Marketing": "tags",
        "Accepts SMS Marketing": "tags",
    },
    transforms={
        "Tags": split_tags,
        "Accepts Email Marketing": opt_in_tag("email"),
        "Accepts Marketing": opt_in_tag("email"),
        "Accepts SMS Marketing": opt_in_tag("sms"),
    },
    defaults={"source": "shopify"},
    lenient=("emails", "phones"),
    key_columns=(("First Name", "Last Name", "Email"),
                 ("Accepts Email Marketing", "Accepts Marketing", "Total Orders", "Total Spent")),
)

PRESETS = (SHOPIFY_CUSTOMERS,)

__all__ = ["PRESETS", "SHOPIFY_CUSTOMERS", "opt_in_tag", "split_tags"]
