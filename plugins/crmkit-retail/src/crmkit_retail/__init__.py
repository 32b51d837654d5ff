"""crmkit-retail: the retail profile for crmkit, as a plugin (entry point ``retail`` in the group ``crmkit``).

The hook implementations live here; the trade's logic is in :mod:`.rules`
and :mod:`.rfm` (pure functions), :mod:`.analysis` (the functions the
commands call), :mod:`.cli`, :mod:`.sections`, :mod:`.presets` and
:mod:`.sample`. Hooks about records, commands run and sections only act when
the open store uses the ``retail`` profile; other profiles are untouched.
"""

from __future__ import annotations

import weakref
from typing import Any

from crmkit import LazySpec, ValidationError, hookimpl

__version__ = "0.1.0"

PROFILE_NAME = "retail"

#: Membership numbers validated in a write that has not committed yet, per open CRM:
#: ``{record id: number}``. The hook sees one record at a time and a bulk add validates
#: every record before storing any, so two new customers with one number in one batch
#: are only caught here. Cleared when a write commits (first event) or is refused here.
_PENDING: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()


@hookimpl
def crmkit_profiles() -> list[Any]:
    # Named now, built when a store uses it: other stores' commands skip the import.
    return [LazySpec(PROFILE_NAME, "crmkit_retail.profile:make_profile")]


@hookimpl
def crmkit_import_presets() -> list[Any]:
    from .presets import PRESETS

    return list(PRESETS)


@hookimpl
def crmkit_validate_record(crm: Any, kind: str, record: Any) -> None:
    """Retail customers: consent needs its date and source; a membership number belongs to one customer."""
    if kind != "customer" or crm.profile.name != PROFILE_NAME:
        return
    from .rules import check_consent_proof

    try:
        check_consent_proof(record.consent, record.fields)
        _check_unique_membership(crm, record)
    except ValidationError:
        _PENDING.pop(crm, None)
        raise


def _check_unique_membership(crm: Any, record: Any) -> None:
    pending = _PENDING.setdefault(crm, {})
    pending.pop(record.id, None)
    number = record.fields.get("membership_number")
    if not number:
        return
    for doc in crm.customers.find_documents(f'fields.membership_number="{number}"'):
        if doc["id"] != record.id:
            raise ValidationError("fields.membership_number", number, f"already belongs to {doc['id']} ({doc['name']})")
    for other, value in pending.items():
        if value == number:
            raise ValidationError("fields.membership_number", number, f"is given to {other} too, in the same change")
    pending[record.id] = number


@hookimpl
def crmkit_on_commit(crm: Any, events: Any) -> None:
    """A write committed: the membership numbers it validated are in the store now."""
    _PENDING.pop(crm, None)


@hookimpl
def crmkit_customer_sections(crm: Any, customer: Any) -> list[Any] | None:
    if crm.profile.name != PROFILE_NAME:
        return None
    from .sections import customer_sections

    return customer_sections(crm, customer)


@hookimpl
def crmkit_register_commands(cli: Any) -> None:
    from crmkit.cli import lazy_command

    # Imported when run: other commands should not pay for the retail ones.
    cli.add_command(lazy_command("retail", "crmkit_retail.cli:retail",
                                 "Retail profile: RFM segments and value tiers, the purchase-driven lifecycle, "
                                 "marketing lists."))
