"""Masking sensitive custom fields in listings and exports.

A profile marks custom fields ``sensitive`` (a national id, a tax number).
Listings and exports show such values masked (``*******8901``) unless the
caller asks for them with ``reveal_sensitive``; the library's own reads
(``get``, ``find``) always return the real values, and backups copy them as
they are. A masked value typed back into a sensitive field is refused, so an
edited export cannot overwrite the real value with its mask.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

#: What a masked value is made of: stars, then at most the last four characters.
MASK_CHAR = "*"
VISIBLE = 4
_MASKED = re.compile(r"^\*{3,}[^*]{0,4}$")


def mask(value: Any) -> Any:
    """``"12345678901"`` -> ``"*******8901"``; short values are masked whole; None stays None."""
    if value is None:
        return None
    text = str(value)
    shown = text[-VISIBLE:] if len(text) > 2 * VISIBLE else ""
    return MASK_CHAR * max(len(text) - len(shown), 3) + shown


def looks_masked(value: Any) -> bool:
    """Whether ``value`` is what :func:`mask` makes (so it must not be stored as the real value)."""
    return isinstance(value, str) and bool(_MASKED.match(value.strip()))


def sensitive_fields(profile: Any) -> frozenset[str]:
    """The names of the profile's sensitive custom fields."""
    return frozenset(spec.name for spec in profile.fields if spec.sensitive)


def _mask_fields(fields: Any, names: frozenset[str]) -> Any:
    if not isinstance(fields, Mapping):
        return fields
    return {key: mask(value) if key in names else value for key, value in fields.items()}


def mask_document(doc: Mapping[str, Any], names: frozenset[str]) -> dict[str, Any]:
    """A copy of a stored customer or event document with the named custom fields masked."""
    copy = dict(doc)
    if "fields" in copy:
        copy["fields"] = _mask_fields(copy["fields"], names)
    changes = copy.get("changes")
    if isinstance(changes, Mapping) and "fields" in changes:
        pair = changes["fields"]
        copy["changes"] = {**changes, "fields": [_mask_fields(side, names) for side in pair]
                           if isinstance(pair, list) else pair}
    return copy


def mask_documents(docs: Iterable[Mapping[str, Any]], profile: Any, record_type: str) -> list[dict[str, Any]]:
    """Mask every document of ``record_type`` (customers and events carry custom fields)."""
    names = sensitive_fields(profile)
    if not names or record_type not in ("customers", "events"):
        return [d if isinstance(d, dict) else dict(d) for d in docs]
    return [mask_document(doc, names) for doc in docs]


__all__ = ["looks_masked", "mask", "mask_document", "mask_documents", "sensitive_fields"]
