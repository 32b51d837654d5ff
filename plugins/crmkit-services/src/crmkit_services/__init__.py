"""crmkit-services: the services profile for crmkit.

Install it next to crmkit and create a store with it::

    pip install crmkit-services
    crmkit init --profile services
    crmkit services sla

It contributes the ``services`` profile (service plan, level, account manager,
contract and renewal dates; SLA targets per level and priority in business
hours), refuses to resolve a ticket without its category's required steps,
asks for a satisfaction rating when a ticket is closed, adds a "Service"
section to ``crmkit customer show`` and the ``crmkit services`` commands.
Hooks that only make sense for this profile do nothing on stores of another.
"""

from __future__ import annotations

from typing import Any

import crmkit

__version__ = "0.1.0"
__all__ = ["__version__", "crmkit_customer_sections", "crmkit_on_commit", "crmkit_profiles",
           "crmkit_register_commands", "crmkit_validate_record"]


PROFILE_NAME = "services"


@crmkit.hookimpl
def crmkit_profiles() -> list[Any]:
    """The services profile, built when a store uses it (other stores' commands skip the import)."""
    return [crmkit.LazySpec(PROFILE_NAME, _services_profile)]


def _services_profile() -> Any:
    """The services profile, with the calendar and steps of the nearest crmkit.toml and the environment."""
    from .calendar import load_settings
    from .profile import DEMO_TOUR, build_demo, build_profile

    return build_profile(load_settings(), demo=build_demo, demo_tour=DEMO_TOUR)


def _is_services(crm: Any) -> bool:
    # Asked before the rules are imported, so that stores of other profiles do not pay for them.
    return getattr(crm.profile, "name", None) == PROFILE_NAME


@crmkit.hookimpl
def crmkit_validate_record(crm: Any, kind: str, record: Any) -> None:
    """Resolving needs the category's steps; a renewal date comes after the contract start."""
    # Runs for every record written (twice per imported row): the kind first, it costs nothing.
    if kind not in ("ticket", "customer") or not _is_services(crm):
        return
    from .desk import check_customer, check_resolution

    if kind == "ticket":
        check_resolution(crm, record)
    elif kind == "customer":
        check_customer(record)


@crmkit.hookimpl
def crmkit_on_commit(crm: Any, events: Any) -> None:
    """A closed ticket gets a rating request task; a rating ticks it off."""
    if not events.types() & {"ticket.closed", "ticket.rated"}:
        return
    if _is_services(crm):
        from .desk import on_event

        for event in events.of_type("ticket.closed", "ticket.rated"):
            on_event(crm, event)


@crmkit.hookimpl
def crmkit_customer_sections(crm: Any, customer: Any) -> list[Any] | None:
    """The customer's service contract, SLA, CSAT and the SLA state of their open tickets."""
    if not _is_services(crm):
        return None
    from .sections import customer_sections

    return customer_sections(crm, customer)


@crmkit.hookimpl
def crmkit_register_commands(cli: Any) -> None:
    """``crmkit services sla|csat|renewals|steps|calendar``."""
    from crmkit.cli import lazy_command

    # Imported when run: other commands should not pay for the services ones.
    cli.add_command(lazy_command("services", "crmkit_services.cli:services",
                                 "Service levels and SLA, required service steps, satisfaction (CSAT) and renewals."))
