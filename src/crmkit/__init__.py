"""crmkit: a scriptable CRM for small businesses.

>>> import crmkit
>>> crm = crmkit.open("memory://")
>>> crm.customers.add("Ann Lee", emails=["ann@example.com"]).id
'C-1'

The public names below are imported on first use, so that ``crmkit --version``
and other short commands do not pay for the whole library at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

#: public name -> module that defines it
_EXPORTS = {
    **dict.fromkeys(("CRM", "init", "open"), "crmkit.crm"),
    **dict.fromkeys(
        ("Conflict", "CrmkitError", "ImportRowsError", "NotFound", "PluginError", "StorageError",
         "TransitionError", "ValidationError"),
        "crmkit.errors",
    ),
    "hookimpl": "crmkit.hookspecs",
    "LazySpec": "crmkit.registry",
    **dict.fromkeys(
        ("Address", "Channel", "Consent", "Contact", "Customer", "CustomerKind", "Direction", "Event",
         "Interaction", "Priority", "Resolution", "Satisfaction", "StageChange", "Step", "Ticket", "TicketStatus"),
        "crmkit.models",
    ),
    **dict.fromkeys(("DealStageSpec", "FieldSpec", "Profile", "SlaTarget", "StageSpec"), "crmkit.profiles.base"),
    "BusinessHours": "crmkit.profiles.hours",
    "ImportPreset": "crmkit.io.base",
    "Section": "crmkit.views",
    "plugin_settings": "crmkit.config",
    "parse_when": "crmkit.services.normalize",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'crmkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from .crm import CRM, init, open
    from .errors import (
        Conflict, CrmkitError, ImportRowsError, NotFound, PluginError, StorageError, TransitionError,
        ValidationError,
    )
    from .hookspecs import hookimpl
    from .registry import LazySpec
    from .io.base import ImportPreset
    from .models import (
        Address, Channel, Consent, Contact, Customer, CustomerKind, Direction, Event, Interaction, Priority,
        Resolution, Satisfaction, StageChange, Step, Ticket, TicketStatus,
    )
    from .profiles.base import DealStageSpec, FieldSpec, Profile, SlaTarget, StageSpec
    from .profiles.hours import BusinessHours
    from .services.normalize import parse_when
    from .config import plugin_settings
    from .views import Section
