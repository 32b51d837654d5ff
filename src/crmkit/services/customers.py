"""Customers and their embedded contacts."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from ..entities import ENTITIES
from ..errors import Conflict, ValidationError
from ..models.base import parse_bool
from ..models import Address, Consent, Contact, Customer, Interaction, StageChange, Ticket, to_doc
from ..storage.query import Compare, In
from .base import Service, build, insert_records, normalize_id, removed, save_record, stamp_new
from .normalize import normalize_email, normalize_phone

#: Customer fields that ``update`` treats as lists, with their add/remove keyword forms.
LIST_FIELDS = ("emails", "phones", "tags")


@attrs.frozen
class CustomerOverview:
    """Everything ``customer show`` prints: the record and what hangs off it."""

    customer: Customer
    open_tickets: list[Ticket]
    recent_tickets: list[Ticket]
    recent_interactions: list[Interaction]
    time_nodes: dict[str, datetime]
    #: The latest records of every other record type that belongs to customers
    #: (deals, orders, tasks ...), newest first, by collection name.
    related: dict[str, list[Any]] = attrs.field(factory=dict)
    #: The latest timeline entries, oldest first.
    timeline: list[Any] = attrs.field(factory=list)
    #: What plugins add through ``crmkit_customer_sections`` (:class:`crmkit.Section`).
    sections: list[Any] = attrs.field(factory=list)


class CustomerService(Service[Customer]):
    model = Customer
    collection = "customers"
    kind = "customer"
    aliases = {"email": "emails", "phone": "phones", "tag": "tags", "city": "address"}

    def _resolve_path(self, path: tuple[str, ...]) -> tuple[tuple[str, ...], Any]:
        if path == ("city",):
            path = ("address", "city")
        return super()._resolve_path(path)

    # -- creating --------------------------------------------------------------

    def add(self, name: str, *, allow_duplicate: bool = False, **values: Any) -> Customer:
        """Create one customer and return it. Takes the Customer fields as keywords.

        ``emails``/``phones`` are validated and normalised, ``fields`` checked
        against the profile, ``stage`` defaults to the profile's first stage,
        and ``contacts`` may be dicts. An email already used by another
        customer is a ``Conflict`` unless ``allow_duplicate=True``.
        """
        return self.add_many([{"name": name, **values}], allow_duplicate=allow_duplicate)[0]

    def add_many(
        self, rows: Iterable[Mapping[str, Any]], *, allow_duplicate: bool = False, keep_ids: bool = False,
        validated: Collection[Customer] = (),
    ) -> list[Customer]:
        """Create many customers in one transaction (one write for the whole batch).

        ``keep_ids`` keeps ``id``, timestamps and version given in the rows (restoring an export).
        Rows may be mappings of input values or Customers already made by :meth:`build`;
        ``validated`` names those among them that passed ``crm.validate`` as they are
        (stamped already), which are then not validated again.
        """
        records = [row if isinstance(row, Customer) else self.build(row) for row in rows]
        with self.crm.transaction():
            if not allow_duplicate:
                self._check_unique_emails(records)
            records = stamp_new(self.crm, records, keep_ids=keep_ids)
            records = [self._with_contact_ids(r) for r in records]
            insert_records(self.crm, "customer", self.collection, records, "customer.created",
                           customer_of=lambda r: r.id, validated=validated)
        return records

    def build(self, row: Mapping[str, Any], *, base: Customer | None = None) -> Customer:
        """Validate and normalise input values into a Customer (not stored). ``base`` is the record being edited."""
        if not isinstance(row, Mapping):
            raise ValidationError("customer", row, "must be a mapping of field names to values")
        values = dict(row)
        _check_shapes(values)
        region = self.crm.region
        if "email" in values:
            values["emails"] = [*values.get("emails", ()), values.pop("email")]
        if "phone" in values:
            values["phones"] = [*values.get("phones", ()), values.pop("phone")]
        if "emails" in values:
            values["emails"] = [normalize_email(e) for e in _as_list(values["emails"])]
        if "phones" in values:
            values["phones"] = [normalize_phone(p, region) for p in _as_list(values["phones"])]
        address, consent = values.get("address"), values.get("consent")
        if address is not None and not isinstance(address, Address) and isinstance(address, Mapping):
            values["address"] = build(Address, address)
        if consent is not None and not isinstance(consent, Consent) and isinstance(consent, Mapping):
            values["consent"] = build(Consent, {k: parse_bool(f"consent.{k}", v, empty=False) for k, v in values["consent"].items()})
        if "contacts" in values:
            values["contacts"] = [self._build_contact(c) for c in values["contacts"]]
        if "fields" in values:
            values["fields"] = self.crm.check_fields(values["fields"], (base.fields if base else {}))
        elif base is None:
            values["fields"] = self.crm.check_fields({}, {})
        if base is None:
            profile = self.crm.profile
            stage = profile.check_stage(values.get("stage") or profile.initial_stage)
            values["stage"] = stage
            if not values.get("stage_history"):
                values["stage_history"] = [
                    StageChange(from_stage=None, to_stage=stage, at=values.get("created_at") or self.crm.now(),
                                by=self.crm.actor, reason="created")
                ]
            else:
                values["stage_history"] = [
                    s if isinstance(s, StageChange) else build(StageChange, s) for s in values["stage_history"]
                ]
            return build(Customer, values)
        return attrs.evolve(base, **_known(values))

    def _build_contact(self, value: Contact | Mapping[str, Any]) -> Contact:
        if isinstance(value, Contact):
            return value
        values = dict(value)
        if values.get("email"):
            values["email"] = normalize_email(values["email"], "contact.email")
        if values.get("phone"):
            values["phone"] = normalize_phone(values["phone"], self.crm.region, "contact.phone")
        return build(Contact, values)

    def _with_contact_ids(self, customer: Customer) -> Customer:
        for contact in customer.contacts:
            if contact.id:  # kept from an import: later ids must not collide with it
                self.storage.bump_id("P", int(contact.id.split("-")[1]))
        missing = [c for c in customer.contacts if not c.id]
        if not missing:
            return customer
        numbers = iter(self.storage.next_ids("P", len(missing)))
        contacts = [c if c.id else attrs.evolve(c, id=f"P-{next(numbers)}") for c in customer.contacts]
        return attrs.evolve(customer, contacts=tuple(contacts))

    def _check_unique_emails(self, records: Sequence[Customer], ignore: str | None = None) -> None:
        wanted: dict[str, str] = {}
        for record in records:
            for email in record.emails:
                key = email.casefold()
                if key in wanted:
                    raise ValidationError("email", email, f"is given twice (for {wanted[key]})")
                wanted[key] = record.name
        if not wanted:
            return
        where = In(("emails",), tuple(wanted)) if len(wanted) > 1 else Compare(("emails",), "=", next(iter(wanted)))
        for doc in self.storage.scan(self.collection, where):
            if doc["id"] == ignore:
                continue
            taken = next(e for e in doc["emails"] if e.casefold() in wanted)
            raise Conflict(doc["id"], f"email {taken} already belongs to {doc['id']} ({doc['name']})")

    # -- finding ---------------------------------------------------------------

    def find_by_email(self, email: str) -> Customer | None:
        """The customer with this email address (any of theirs), or None."""
        if not isinstance(email, str):
            raise ValidationError("email", email, "must be text")
        found = self.find(Compare(("emails",), "=", email.strip()), limit=1)
        return found[0] if found else None

    def overview(self, customer_id: str | int, *, recent: int = 5, timeline: int = 10) -> CustomerOverview:
        """The customer with open tickets, recent tickets, interactions and other records, time nodes
        and the last ``timeline`` entries of their timeline."""
        customer = self.get(customer_id)
        tickets = self.crm.tickets.find(customer_id=customer.id, sort="-opened_at")
        present = set(self.storage.collections())  # a record type with no records costs no import
        related = {
            entity.name: entity.service(self.crm).find(customer_id=customer.id, sort=f"-{entity.time_field}",
                                                       limit=recent) if entity.name in present else []
            for entity in ENTITIES.values()
            if entity.owner == "customer_id" and entity.name not in ("tickets", "interactions")
        }
        return CustomerOverview(
            customer=customer,
            open_tickets=[t for t in tickets if t.status.is_open],
            recent_tickets=[t for t in tickets if not t.status.is_open][:recent],
            recent_interactions=self.crm.interactions.find(customer_id=customer.id, sort="-occurred_at",
                                                           limit=recent),
            time_nodes=self.crm.lifecycle.time_nodes(customer.id),
            related=related,
            timeline=self.crm.timeline.for_customer(customer.id, limit=timeline),
            sections=[section for result in self.crm.pm.hook.crmkit_customer_sections(crm=self.crm, customer=customer)
                      if result for section in result],
        )

    # -- changing --------------------------------------------------------------

    def update(self, customer_id: str | int, *, expected_version: int | None = None, **changes: Any) -> Customer:
        """Change fields of a customer and return the new record.

        Plain keywords replace a field (``name="..."``, ``emails=[...]``).
        ``add_emails``/``remove_emails``, ``add_phones``/``remove_phones`` and
        ``add_tags``/``remove_tags`` edit lists; ``fields={...}`` merges custom
        fields (a None value removes one). Use ``crm.lifecycle.move`` for the stage.
        ``expected_version`` makes the write fail with ``Conflict`` if the record changed.
        """
        if "stage" in changes or "stage_history" in changes:
            raise ValidationError("stage", changes.get("stage"), "changes through lifecycle.move, not update")
        with self.crm.transaction():
            old = self.get(customer_id)
            values = dict(changes)
            for name in LIST_FIELDS:
                added = _as_list(values.pop(f"add_{name}", ()))
                removed = values.pop(f"remove_{name}", ())
                if added or removed:
                    current = list(values.get(name, getattr(old, name)))
                    if name != "tags":
                        added = [self._normalize_item(name, v) for v in added]
                        removed = [self._normalize_item(name, v) for v in _as_list(removed)]
                    for item in _as_list(removed):
                        if item not in current:
                            raise ValidationError(name[:-1], item, f"is not one of this customer's {name}")
                        current.remove(item)
                    values[name] = current + [v for v in added if v not in current]
            new = self._with_contact_ids(self.build(values, base=old))
            if "emails" in values:
                self._check_unique_emails([new], ignore=old.id)
            return save_record(self.crm, "customer", self.collection, old, new, "customer.updated",
                               expected_version=expected_version, customer_id=old.id)

    def _normalize_item(self, name: str, value: str) -> str:
        if name == "emails":
            return normalize_email(value)
        return normalize_phone(value, self.crm.region)

    def delete(self, customer_id: str | int, *, cascade: bool = False, expected_version: int | None = None) -> Customer:
        """Delete a customer. Refused while records belong to it (tickets, deals ...), unless ``cascade``.

        A cascade deletes those records too, each with its own ``*.deleted`` event.
        """
        with self.crm.transaction():
            customer = self.get(customer_id)
            if expected_version is not None and expected_version != customer.version:
                raise Conflict(customer.id, f"changed by someone else (version {customer.version})")
            dependants = self.crm.dependants(customer.id)
            if any(dependants.values()) and not cascade:
                counts = ", ".join(f"{len(ids)} {coll}" for coll, ids in dependants.items() if ids)
                raise Conflict(customer.id, f"still has {counts}; delete those first or use cascade")
            drafts = []
            for collection, ids in dependants.items():
                for doc in self.storage.get_many(collection, ids):
                    self.storage.delete(collection, doc["id"])
                    drafts.append((f"{ENTITIES[collection].kind}.deleted", doc["id"], customer.id, removed(doc),
                                   "cascade"))
            self.crm.record_events(drafts)
            self.storage.delete(self.collection, customer.id, expected_version=customer.version)
            self.crm.record_events([("customer.deleted", customer.id, customer.id, removed(to_doc(customer)),
                                     None)])
        return customer

    # -- contacts --------------------------------------------------------------

    def add_contact(self, customer_id: str | int, name: str, **values: Any) -> Contact:
        """Add a contact person to a customer; returns it with its new ``P-`` id.

        ``primary=True`` makes it the primary contact (others lose the flag).
        """
        with self.crm.transaction():
            old = self.get(customer_id)
            contact = self._build_contact({"name": name, **values})
            contact = attrs.evolve(contact, id=f"P-{self.storage.next_ids('P')[0]}")
            others = [attrs.evolve(c, primary=False) if contact.primary else c for c in old.contacts]
            new = attrs.evolve(old, contacts=(*others, contact))
            save_record(self.crm, "customer", self.collection, old, new, "contact.added", customer_id=old.id,
                        note=contact.id)
        return contact

    def remove_contact(self, customer_id: str | int, contact_id: str | int) -> Contact:
        """Remove a contact from a customer and return it."""
        with self.crm.transaction():
            old = self.get(customer_id)
            cid = normalize_id("P", contact_id, "contact_id")
            contact = old.contact(cid)
            if contact is None:
                raise ValidationError("contact_id", contact_id, f"is not a contact of {old.id}")
            new = attrs.evolve(old, contacts=tuple(c for c in old.contacts if c.id != cid))
            save_record(self.crm, "customer", self.collection, old, new, "contact.removed", customer_id=old.id,
                        note=cid)
        return contact


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)




def _known(values: Mapping[str, Any]) -> dict[str, Any]:
    known = attrs.fields_dict(Customer)
    for key in values:
        if key not in known or key in ("id", "created_at", "updated_at", "version"):
            raise ValidationError("field", key, "is not a field of customer that can be changed")
    return dict(values)


#: Input shapes that the structured customer fields accept (anything else is a ValidationError, not a crash).
_SHAPES: dict[str, tuple[type, ...]] = {  # concrete types first: a Mapping check is an ABC check
    "name": (str,), "stage": (str,), "address": (Address, type(None), Mapping),
    "consent": (Consent, type(None), Mapping), "contacts": (list, tuple), "external_ids": (Mapping,),
    "fields": (Mapping,), "stage_history": (list, tuple),
}


def _check_shapes(values: Mapping[str, Any]) -> None:
    for key, kinds in _SHAPES.items():
        if key in values and not isinstance(values[key], kinds):
            raise ValidationError(key, values[key], f"has the wrong shape ({type(values[key]).__name__})")
    for item in values.get("contacts") or ():
        if not isinstance(item, (Mapping, Contact)):
            raise ValidationError("contacts", item, "each contact must be a mapping of its fields")
    for system, number in (values.get("external_ids") or {}).items():
        if not isinstance(number, str) or not isinstance(system, str):
            raise ValidationError(f"external_ids.{system}", number, "must be text")
