"""What every record shares, and the small validators the models use."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

import attrs

from ..errors import ValidationError

#: attrs metadata key: the field holds personal data that listings and exports may mask.
SENSITIVE = "crmkit.sensitive"

ID_PATTERN = re.compile(r"^([A-Z]{1,3})-([1-9][0-9]*)$")


class StrEnum(str, enum.Enum):
    """An enum whose values are its lowercase names; ``str()`` gives the value."""

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, field: str, value: Any) -> "StrEnum":
        """Turn text into a member, or raise ValidationError listing the choices."""
        if isinstance(value, cls):
            return value
        text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return cls(text)
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise ValidationError(field, value, f"must be one of {choices}") from None


_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})


def parse_bool(field: str, value: Any, *, empty: bool | None = None) -> bool:
    """Read true/false, yes/no, y/n, 1/0, on/off; ``empty`` (when not None) is what "" means."""
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text == "" and empty is not None:
        return empty
    raise ValidationError(field, value, "must be true or false")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def enum_converter(cls: type[StrEnum], field: str) -> Callable[[Any], StrEnum]:
    return lambda value: cls.parse(field, value)


def optional_enum_converter(cls: type[StrEnum], field: str) -> Callable[[Any], StrEnum | None]:
    return lambda value: None if value in (None, "") else cls.parse(field, value)


def as_tuple(value: Any) -> tuple[Any, ...]:
    """``tuple(value)``, as a converter.

    attrs reads a converter's signature; for the built-in ``tuple`` that means
    parsing its text signature with :mod:`tokenize`, whose regex alone costs a
    command about 15 M instructions.
    """
    return value if type(value) is tuple else tuple(value)


def text_tuple(value: Any) -> tuple[str, ...]:
    """Accept one string or an iterable of strings; strip and drop empties, keep order, no repeats."""
    if value is None:
        return ()
    if not isinstance(value, (str, list, tuple)):
        raise ValidationError("list", value, "must be text or a list of text")
    items = (value,) if isinstance(value, str) else value
    seen: dict[str, None] = {}
    for item in items:
        if item.__class__ is str:  # the usual case, without the checks below
            text = item.strip()
        elif item is None:
            continue
        elif isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ValidationError("list item", item, "must be text")
        else:
            text = str(item).strip()
        if ";" in text:
            # "; " joins list items in CSV exports: an item holding it would split on the way back
            raise ValidationError("list item", text, "cannot contain ';'")
        if text:
            seen.setdefault(text, None)
    return tuple(seen)


def optional_text(value: Any) -> str | None:
    """Strip text; empty becomes None."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def required_text(field: str) -> Callable[[Any, Any, Any], None]:
    """Validator: the value is a non-empty string."""

    def check(_inst: Any, _attr: Any, value: Any) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(field, value, "is required and cannot be empty")

    return check


def aware(field: str) -> Callable[[Any, Any, Any], None]:
    """Validator: a datetime, if given, carries a timezone (crmkit stores UTC)."""

    def check(_inst: Any, _attr: Any, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValidationError(field, value, "must be a timezone-aware datetime")

    return check


def is_date(field: str) -> Callable[[Any, Any, Any], None]:
    def check(_inst: Any, _attr: Any, value: Any) -> None:
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            raise ValidationError(field, value, "must be a date")

    return check


def record_id(prefix: str) -> Callable[[Any, Any, Any], None]:
    """Validator: an id with this prefix, or "" for a record not stored yet."""

    def check(_inst: Any, _attr: Any, value: Any) -> None:
        if value == "":
            return
        match = ID_PATTERN.match(str(value))
        if not match or match.group(1) != prefix:
            raise ValidationError("id", value, f"must look like {prefix}-<number>")

    return check


@attrs.frozen(kw_only=True)
class Record:
    """Fields every stored record carries. The service layer fills them; models do no I/O."""

    id: str = ""
    created_at: datetime | None = attrs.field(default=None, validator=aware("created_at"))
    updated_at: datetime | None = attrs.field(default=None, validator=aware("updated_at"))
    version: int = 0

    #: id prefix of this record type; subclasses override.
    PREFIX = ""
