"""crmkit: a scriptable CRM for small businesses.

>>> import crmkit
>>> crm = crmkit.open("memory://")
>>> crm.customers.add("Ann Lee", emails=["ann@example.com"]).id
'C-1'
"""

from ._version import __version__
from .crm import CRM, init, open
from .errors import (
    Conflict,
    CrmkitError,
    ImportRowsError,
    NotFound,
    PluginError,
    StorageError,
    TransitionError,
    ValidationError,
)
from .hookspecs import hookimpl
from .models import (
    Address,
    Channel,
    Consent,
    Contact,
    Customer,
    CustomerKind,
    Direction,
    Event,
    Interaction,
    Priority,
    Resolution,
    Satisfaction,
    StageChange,
    Step,
    Ticket,
    TicketStatus,
)
from .profiles.base import FieldSpec, Profile, SlaTarget, StageSpec

__all__ = [
    "CRM", "Address", "Channel", "Conflict", "Consent", "Contact", "CrmkitError", "Customer", "CustomerKind",
    "Direction", "Event", "FieldSpec", "ImportRowsError", "Interaction", "NotFound", "PluginError", "Priority",
    "Profile", "Resolution", "Satisfaction", "SlaTarget", "StageChange", "StageSpec", "Step", "StorageError",
    "Ticket", "TicketStatus", "TransitionError", "ValidationError", "__version__", "hookimpl", "init", "open",
]
