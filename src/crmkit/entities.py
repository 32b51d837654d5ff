"""The record types crmkit stores, in one table.

Everything that works over "every record type" (export and import, backup,
migration, ``db check``, deleting a customer with its records, the customer
timeline) reads this table instead of keeping its own list, so a new record
type is one :class:`Entity` here plus its model, service and commands.

The order is the order of dependence: a record type comes after the types it
refers to, so copying or importing in this order never meets a dangling link.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import attrs

from .errors import ValidationError


@attrs.frozen(kw_only=True)
class TimeNode:
    """A moment in a customer's life that records of one type mark.

    ``pick`` says which record counts: the ``first``, the ``second`` (a repeat
    purchase) or the ``last`` one by the record type's time field (or
    ``field``); ``where`` narrows the records (``--where`` text, like
    ``"kind=survey"``).
    """

    name: str
    pick: str = "first"
    where: str | None = None
    field: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.pick not in ("first", "second", "last"):
            raise ValueError(f"TimeNode.pick must be first, second or last, not {self.pick!r}")


@attrs.frozen(kw_only=True)
class Entity:
    """One record type: its collection, model, service and links to other records.

    ``references`` maps a field holding another record's id to that record's
    collection (``{"customer_id": "customers"}``); links are checked on write,
    by ``db check``, and a record that others still refer to cannot be deleted.
    ``owner`` is the field naming the customer a record belongs to (``None``
    for records of no single customer), which puts the record on the
    customer's timeline and makes it go with the customer in a cascade.
    ``readable_key`` names the field of this record that people recognise and
    the column suffix it gets (``("emails", "email")`` for customers): exports
    put its first value beside every reference to this record
    (``customer_email`` beside ``customer_id``), so an edited file re-imports
    into a store whose ids differ.
    ``import_editable`` limits what an import may change on an existing record
    (``None``: any field); the rest changes through the service's verbs.
    """

    name: str
    kind: str
    model_path: str
    #: The model's ``PREFIX`` (``C`` in ``C-42``), known without importing the model.
    prefix: str
    created_event: str
    bulk_add: str | None = None
    owner: str | None = "customer_id"
    references: Mapping[str, str] = attrs.field(factory=dict)
    readable_key: tuple[str, str] | None = None
    import_editable: frozenset[str] | None = None
    #: Required model fields the service fills in itself when an import leaves them out.
    service_filled: frozenset[str] = frozenset()
    #: When the thing a record stands for happened (an order's ``ordered_at``), for
    #: timelines and time nodes; ``created_at`` when the record has no such field.
    time_field: str = "created_at"
    #: Fields that describe a record in a line (a ticket's subject), first one first.
    title_fields: tuple[str, ...] = ()
    #: The customer time nodes that records of this type mark.
    nodes: tuple[TimeNode, ...] = ()

    @property
    def model(self) -> type:
        """The attrs model class (imported on first use)."""
        module, _, name = self.model_path.partition(":")
        return getattr(importlib.import_module(module), name)

    def service(self, crm: Any) -> Any:
        """This record type's service on ``crm`` (``crm.customers`` for customers)."""
        return getattr(crm, self.name)


#: Orders that count as purchases (not returned or cancelled).
PURCHASED = "status in (placed, paid, shipped)"

_ENTITIES = (
    Entity(name="customers", kind="customer", model_path="crmkit.models.customer:Customer",
           prefix="C", created_event="customer.created", bulk_add="add_many", owner=None,
           readable_key=("emails", "email"),
           title_fields=("name", "company")),
    Entity(name="tickets", kind="ticket", model_path="crmkit.models.ticket:Ticket", prefix="T",
           created_event="ticket.opened",
           bulk_add="open_many", references={"customer_id": "customers"},
           import_editable=frozenset({"subject", "description", "category", "priority", "department", "channel"}),
           service_filled=frozenset({"customer_id", "opened_at"}), time_field="opened_at",
           title_fields=("subject", "status", "priority"), nodes=(TimeNode(name="first_ticket"),)),
    Entity(name="interactions", kind="interaction", model_path="crmkit.models.interaction:Interaction",
           prefix="I", created_event="interaction.logged", bulk_add="log_many",
           references={"customer_id": "customers", "ticket_id": "tickets"},
           service_filled=frozenset({"customer_id", "occurred_at"}), time_field="occurred_at",
           title_fields=("summary", "channel", "direction"), nodes=(TimeNode(name="first_contact"),)),
    Entity(name="deals", kind="deal", model_path="crmkit.models.deal:Deal", prefix="D", created_event="deal.created",
           bulk_add="add_many", references={"customer_id": "customers"},
           import_editable=frozenset({"title", "amount", "currency", "expected_close_on", "owner", "products",
                                      "source", "description", "next_step", "next_step_on", "lost_reason"}),
           service_filled=frozenset({"customer_id", "stage", "opened_at"}), time_field="opened_at",
           title_fields=("title", "stage", "amount", "currency"), nodes=(TimeNode(name="first_deal"),)),
    Entity(name="contracts", kind="contract", model_path="crmkit.models.contract:Contract",
           prefix="CT", created_event="contract.created", bulk_add="add_many",
           references={"customer_id": "customers", "deal_id": "deals"}, readable_key=("number", "number"),
           import_editable=frozenset({"title", "notes", "ends_on"}),
           service_filled=frozenset({"customer_id", "value", "currency"}),
           title_fields=("number", "title", "status", "value"),
           nodes=(TimeNode(name="contract_signed", field="signed_on"),)),
    Entity(name="orders", kind="order", model_path="crmkit.models.order:Order", prefix="O",
           created_event="order.placed",
           bulk_add="add_many", references={"customer_id": "customers"}, readable_key=("number", "number"),
           import_editable=frozenset({"number", "ordered_at", "items", "total", "currency", "channel", "notes"}),
           service_filled=frozenset({"customer_id", "ordered_at", "total"}), time_field="ordered_at",
           title_fields=("number", "total", "currency", "status"),
           nodes=(TimeNode(name="first_purchase", where=PURCHASED),
                  TimeNode(name="repeat_purchase", pick="second", where=PURCHASED))),
    Entity(name="tasks", kind="task", model_path="crmkit.models.task:Task", prefix="TK",
           created_event="task.created",
           bulk_add="add_many",
           references={"customer_id": "customers", "ticket_id": "tickets", "deal_id": "deals",
                       "interaction_id": "interactions"},
           import_editable=frozenset({"title", "customer_id", "ticket_id", "deal_id", "assignee", "department", "due_at",
                                      "priority", "reminder_minutes", "remind_at", "notes"}),
           title_fields=("title", "status", "due_at")),
    Entity(name="feedback", kind="feedback", model_path="crmkit.models.feedback:Feedback",
           prefix="F", created_event="feedback.received", bulk_add="add_many",
           references={"customer_id": "customers", "ticket_id": "tickets", "order_id": "orders"},
           import_editable=frozenset({"kind", "sentiment", "text", "channel", "ticket_id", "order_id"}),
           service_filled=frozenset({"customer_id", "received_at"}), time_field="received_at",
           title_fields=("kind", "text", "score"),
           nodes=(TimeNode(name="last_survey", pick="last", where="kind=survey"),)),
    Entity(name="campaigns", kind="campaign", model_path="crmkit.models.campaign:Campaign",
           prefix="CP", created_event="campaign.created", bulk_add="create_many", owner=None,
           import_editable=frozenset({"name", "channel", "starts_on", "ends_on", "budget", "currency", "segment",
                                      "description"}),
           title_fields=("name", "channel", "status")),
    Entity(name="campaign_members", kind="campaign_member", model_path="crmkit.models.campaign:CampaignMember",
           prefix="CM", created_event="campaign.member_added", bulk_add="add_many",
           references={"campaign_id": "campaigns", "customer_id": "customers"}, import_editable=frozenset(),
           service_filled=frozenset({"customer_id", "added_at"}), time_field="added_at",
           title_fields=("campaign_id", "response")),
    Entity(name="events", kind="event", model_path="crmkit.models.event:Event", prefix="E", created_event="",
           owner=None, time_field="at"),
)

#: Every record type by collection name, in dependence order; events last.
ENTITIES: dict[str, Entity] = {entity.name: entity for entity in _ENTITIES}
#: The record types that export and import know, in dependence order.
RECORD_TYPES: tuple[str, ...] = tuple(ENTITIES)


def entity(name: str, field: str = "record_type") -> Entity:
    """The record type stored in collection ``name``; a ValidationError naming ``field`` if there is none."""
    try:
        return ENTITIES[name]
    except (KeyError, TypeError):
        raise ValidationError(field, name, f"must be one of {', '.join(RECORD_TYPES)}") from None


def records() -> tuple[Entity, ...]:
    """Every record type except the event log."""
    return tuple(e for e in ENTITIES.values() if e.name != "events")


def referrers(collection: str) -> list[tuple[Entity, str]]:
    """The (record type, field) pairs whose field holds an id of ``collection``."""
    return [(e, field) for e in ENTITIES.values() for field, target in e.references.items() if target == collection]


def link_columns(name: str) -> dict[str, tuple[str, str, str]]:
    """Readable-key columns of a record type: ``{field: (column, target collection, target field)}``.

    ``{"customer_id": ("customer_email", "customers", "emails")}`` for tickets.
    """
    result = {}
    for field, target in ENTITIES[name].references.items():
        key = ENTITIES[target].readable_key
        if key is not None:
            result[field] = (f"{field.removesuffix('_id')}_{key[1]}", target, key[0])
    return result


def by_prefix(prefix: str) -> Entity | None:
    """The record type whose ids start with ``prefix-`` (``C`` for customers), if any."""
    for e in ENTITIES.values():
        if prefix and e.prefix == prefix:
            return e
    return None


__all__ = ["ENTITIES", "RECORD_TYPES", "Entity", "TimeNode", "by_prefix", "entity", "link_columns", "records", "referrers"]
