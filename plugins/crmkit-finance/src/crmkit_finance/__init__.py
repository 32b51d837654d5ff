"""crmkit-finance: the finance profile for crmkit (KYC, risk rating, periodic reviews, complaint deadlines).

Install it next to crmkit, then::

    crmkit init --profile finance
    crmkit finance risk

The hooks below contribute the ``finance`` profile, refuse customer writes
that break its rules, add the ``crmkit finance`` commands and the KYC and
risk sections of ``crmkit customer show``. The hooks that act on records do
nothing for stores of other profiles. The rules are in
:mod:`crmkit_finance.rules`, the library calls in :mod:`crmkit_finance.finance`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit import LazySpec, hookimpl

if TYPE_CHECKING:
    from .profile import FINANCE

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "FINANCE":  # built on first use: `crmkit --help` need not build the profile
        from .profile import FINANCE

        return FINANCE
    raise AttributeError(f"module 'crmkit_finance' has no attribute {name!r}")


PROFILE_NAME = "finance"


def _is_finance(crm: Any) -> bool:
    return bool(crm.profile.name == PROFILE_NAME)


@hookimpl
def crmkit_profiles() -> list[Any]:
    # Named now, built when a store uses it: other stores' commands skip the import.
    return [LazySpec(PROFILE_NAME, _finance_profile)]


def _finance_profile() -> Any:
    from .profile import FINANCE

    return FINANCE


@hookimpl
def crmkit_validate_record(crm: Any, kind: str, record: Any) -> None:
    if kind == "customer" and _is_finance(crm):
        from .finance import check_customer

        check_customer(crm, record)


@hookimpl
def crmkit_register_commands(cli: Any) -> None:
    from crmkit.cli import lazy_command

    # Imported when run: other commands should not pay for the finance ones.
    cli.add_command(lazy_command("finance", "crmkit_finance.cli:finance_group",
                                 "Finance profile: KYC reviews, risk ratings and complaint deadlines."))


@hookimpl
def crmkit_customer_sections(crm: Any, customer: Any) -> list[Any] | None:
    if not _is_finance(crm):
        return None
    from .finance import customer_sections

    return customer_sections(crm, customer)


__all__ = ["FINANCE", "__version__", "crmkit_customer_sections", "crmkit_profiles", "crmkit_register_commands",
           "crmkit_validate_record"]
