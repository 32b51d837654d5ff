"""Checking a link to another record when a record is written."""

from __future__ import annotations

from typing import Any

from ..entities import ENTITIES
from ..errors import ValidationError
from .base import normalize_id


def check_reference(crm: Any, field: str, collection: str, value: Any, *, customer_id: str | None = None) -> str | None:
    """The normalised id in ``value`` if that record exists; ``None`` for an empty value.

    ``customer_id``, when given, is the customer the writing record belongs
    to: a linked record that belongs to another customer is refused (a task
    of C-1 cannot point at a ticket of C-2). Raises :class:`ValidationError`
    naming ``field`` and the value otherwise.
    """
    if value in (None, ""):
        return None
    target = ENTITIES[collection]
    record_id = normalize_id(target.model.PREFIX, value, field)
    doc = crm.storage.get(collection, record_id)
    if doc is None:
        raise ValidationError(field, value, f"{target.kind} {record_id} does not exist")
    owner = doc.get(target.owner) if target.owner else None
    if customer_id and owner and owner != customer_id:
        raise ValidationError(field, value, f"{record_id} belongs to {owner}, not {customer_id}")
    return record_id


__all__ = ["check_reference"]
