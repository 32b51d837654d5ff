"""The one cattrs converter: records to plain JSON-ready dicts and back.

Datetimes become ISO 8601 strings in UTC ending in ``Z``, dates ``YYYY-MM-DD``,
enums their string values, tuples lists. Stored documents, JSON exports and
``--format json`` output all use this form.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
import types
import typing
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.fns import identity

from ..errors import ValidationError
from .base import StrEnum

T = TypeVar("T")

converter = cattrs.Converter(detailed_validation=False)


#: Recent results of format_datetime: a bulk write stamps every record (and event) with one ``now``.
_FORMATTED: dict[datetime, str] = {}
_LAST: list[Any] = [None, ""]  # the last one, checked by identity first


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, to the second (or microsecond when present)."""
    # Equal aware datetimes are the same instant, so they format alike (naive ones
    # depend on the local time zone, which may change: not cached).
    if value is _LAST[0]:
        return _LAST[1]
    exact = type(value) is datetime and value.tzinfo is not None
    if exact:
        text = _FORMATTED.get(value)
        if text is not None:
            return text
    text = value.astimezone(timezone.utc).replace(tzinfo=None).isoformat() + "Z"
    if exact:
        if len(_FORMATTED) >= 256:
            _FORMATTED.clear()
        _FORMATTED[value] = text
        _LAST[:] = [value, text]
    return text


def parse_datetime(value: Any, field: str = "datetime") -> datetime:
    """Read an ISO 8601 string (or datetime) into an aware UTC datetime; naive means UTC."""
    if isinstance(value, datetime):
        result = value
    else:
        try:
            result = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError(field, value, "is not an ISO 8601 date-time") from None
    if result.tzinfo is None:
        result = result.replace(tzinfo=timezone.utc)
    return result.astimezone(timezone.utc)


def parse_date(value: Any, field: str = "date") -> date:
    """Read ``YYYY-MM-DD`` (or a date) into a date."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(field, value, "is not a date (YYYY-MM-DD)") from None


def configure(target: cattrs.Converter) -> None:
    """Give a converter crmkit's stored form (:data:`converter` is configured so, plus two shortcuts)."""
    target.register_unstructure_hook(datetime, format_datetime)
    target.register_structure_hook(datetime, lambda v, _t: parse_datetime(v))
    target.register_unstructure_hook(date, lambda v: v.isoformat())
    target.register_structure_hook(date, lambda v, _t: parse_date(v))
    target.register_unstructure_hook(StrEnum, lambda v: v.value)
    target.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, StrEnum),
        lambda v, t: t.parse(t.__name__.lower(), v),
    )
    target.register_structure_hook(Any, lambda v, _t: v)
    # Free-form mappings (custom fields, event changes) already hold JSON data; a
    # shallow copy is enough and saves cattrs' per-value dispatch on bulk writes.
    target.register_unstructure_hook_func(lambda t: t == dict[str, Any], dict)


configure(converter)


def _optional_part(t: Any) -> Any:
    """``X`` for ``X | None`` (or ``Optional[X]``), else None."""
    if typing.get_origin(t) not in (typing.Union, types.UnionType):
        return None
    args = typing.get_args(t)
    if len(args) != 2 or type(None) not in args:
        return None
    return args[0] if args[1] is type(None) else args[1]


def _unstructure_optional(t: Any) -> Any:
    # cattrs calls a wrapper ``None if v is None else hook(v)`` for every optional field; when
    # the hook is identity the wrapper is too, and cattrs then reads the field inline in the
    # code it generates per class (to_doc is a fifth of a bulk write).
    inner = _optional_part(t)
    # As cattrs: a type variable is unstructured by the value's own type.
    hook = converter.unstructure if isinstance(inner, TypeVar) else converter.get_unstructure_hook(inner)
    if hook is identity:
        return identity
    return lambda value: None if value is None else hook(value)


def _unstructure_tuple_of_records(t: Any) -> Any:
    # What cattrs does for a tuple of attrs records (a list of each one unstructured), without its
    # generator expression: a list comprehension costs half as much.
    hook = converter.get_unstructure_hook(typing.get_args(t)[0])
    return lambda values: [hook(value) for value in values]


converter.register_unstructure_hook_factory(lambda t: _optional_part(t) is not None, _unstructure_optional)
converter.register_unstructure_hook_factory(
    lambda t: typing.get_origin(t) is tuple and len(typing.get_args(t)) == 2 and typing.get_args(t)[1] is ...
    and attrs.has(typing.get_args(t)[0]), _unstructure_tuple_of_records)


def to_doc(record: Any) -> dict[str, Any]:
    """Unstructure an attrs record into its stored form."""
    return converter.unstructure(record)


def from_doc(cls: type[T], doc: dict[str, Any]) -> T:
    """Structure a stored dict into ``cls``; bad data raises ValidationError, never a cattrs error."""
    try:
        return converter.structure(doc, cls)
    except ValidationError:
        raise
    except (cattrs.BaseValidationError, KeyError, TypeError, ValueError, AttributeError) as err:
        record = doc.get("id", "?") if isinstance(doc, dict) else "?"
        raise ValidationError(cls.__name__.lower(), record, f"cannot be read: {err}") from None
