"""crmkit's record types: attrs classes with no I/O.

Names are imported on first use: a plugin module that needs only
``crmkit.models.base`` should not pay for every model class at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    **dict.fromkeys(("SENSITIVE", "Record", "StrEnum", "utcnow"), "crmkit.models.base"),
    **dict.fromkeys(("converter", "from_doc", "to_doc"), "crmkit.models.convert"),
    **dict.fromkeys(("Address", "Consent", "Contact", "Customer", "CustomerKind", "StageChange"),
                    "crmkit.models.customer"),
    **dict.fromkeys(("Contract", "ContractStatus", "Instalment"), "crmkit.models.contract"),
    **dict.fromkeys(("Deal", "DealStageChange", "DealStatus", "StagePeriod"), "crmkit.models.deal"),
    **dict.fromkeys(("CommittedEvents", "Event"), "crmkit.models.event"),
    **dict.fromkeys(("Feedback", "FeedbackKind", "Scale", "Sentiment"), "crmkit.models.feedback"),
    **dict.fromkeys(("Campaign", "CampaignChannel", "CampaignMember", "CampaignStatus", "Response"),
                    "crmkit.models.campaign"),
    **dict.fromkeys(("Channel", "Direction", "Interaction"), "crmkit.models.interaction"),
    **dict.fromkeys(("Priority", "Resolution", "Satisfaction", "Step", "Ticket", "TicketStatus"),
                    "crmkit.models.ticket"),
    **dict.fromkeys(("Order", "OrderChannel", "OrderItem", "OrderStatus"), "crmkit.models.order"),
    **dict.fromkeys(("Task", "TaskStatus"), "crmkit.models.task"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'crmkit.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from .base import SENSITIVE, Record, StrEnum, utcnow
    from .convert import converter, from_doc, to_doc
    from .customer import Address, Consent, Contact, Customer, CustomerKind, StageChange
    from .contract import Contract, ContractStatus, Instalment
    from .deal import Deal, DealStageChange, DealStatus, StagePeriod
    from .event import CommittedEvents, Event
    from .feedback import Feedback, FeedbackKind, Scale, Sentiment
    from .campaign import Campaign, CampaignChannel, CampaignMember, CampaignStatus, Response
    from .interaction import Channel, Direction, Interaction
    from .ticket import Priority, Resolution, Satisfaction, Step, Ticket, TicketStatus
    from .order import Order, OrderChannel, OrderItem, OrderStatus
    from .task import Task, TaskStatus
