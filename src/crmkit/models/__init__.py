"""crmkit's record types: attrs classes with no I/O."""

from .base import SENSITIVE, Record, StrEnum, utcnow
from .convert import converter, from_doc, to_doc
from .customer import Address, Consent, Contact, Customer, CustomerKind, StageChange
from .event import Event
from .interaction import Channel, Direction, Interaction
from .ticket import Priority, Resolution, Satisfaction, Step, Ticket, TicketStatus

__all__ = [
    "SENSITIVE", "Address", "Channel", "Consent", "Contact", "Customer", "CustomerKind",
    "Direction", "Event", "Interaction", "Priority", "Record", "Resolution", "Satisfaction",
    "StageChange", "Step", "StrEnum", "Ticket", "TicketStatus", "converter", "from_doc",
    "to_doc", "utcnow",
]
