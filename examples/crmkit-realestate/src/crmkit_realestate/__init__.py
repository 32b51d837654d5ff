"""crmkit-realestate: an estate agency profile for crmkit (entry point ``realestate`` in the group ``crmkit``).

This module is the plugin: crmkit finds its hook implementations by name.
The hooks about records and sections act only on stores with the
realestate profile, so installing the plugin changes nothing for others.
"""

from crmkit import hookimpl

from .buyers import buyer_search, check_offer
from .cli import realestate
from .presets import PROPERTY_PORTAL
from .profile import REALESTATE

__version__ = "0.1.0"


@hookimpl
def crmkit_profiles():
    return [REALESTATE]


@hookimpl
def crmkit_import_presets():
    return [PROPERTY_PORTAL]


@hookimpl
def crmkit_validate_record(crm, kind, record):
    if kind == "customer" and crm.profile.name == REALESTATE.name:
        check_offer(record)


@hookimpl
def crmkit_customer_sections(crm, customer):
    if crm.profile.name != REALESTATE.name:
        return None
    return [buyer_search(customer)]


@hookimpl
def crmkit_register_commands(cli):
    cli.add_command(realestate)
