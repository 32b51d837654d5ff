"""Records as rows: flattening for flat formats (CSV), and rows back into service input.

Everything here is driven by the attrs model's fields, so a new model field
shows up in exports without a hand-written column list. The rules:

- ``id`` comes first, then the model's fields in order, then ``created_at``,
  ``updated_at``, ``version``.
- A nested attrs object becomes dotted columns (``address.city``, ``consent.email``).
- A dict field becomes dotted columns with its keys (``fields.loyalty_points``,
  ``external_ids.salesforce``): the union of the keys over the exported
  records, sorted.
- A tuple of strings is one cell joined with ``"; "``; a tuple of objects
  (contacts, stage history, ticket steps) is one JSON cell, and so is an event's
  ``changes``.
- Booleans are ``true``/``false``, None is an empty cell, datetimes stay the
  stored ISO 8601 text.
- A reference to a record with a readable key gets that key in a column right
  after it (``customer_email`` after ``customer_id``: the customer's first
  email, see :func:`crmkit.entities.link_columns`), so an edited file can be
  imported into a store where the ids differ.

:func:`unflatten` turns such a row (or a JSON record in stored form) back into
typed values that the services' ``build`` accepts.
"""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs

from ..errors import ValidationError
from ..models.base import parse_bool
from ..entities import ENTITIES, by_prefix, link_columns
from ..models import Contract, Customer, Deal, Event, Interaction, Order, Record, StrEnum, Task, Ticket
from ..models.convert import parse_date, parse_datetime
from ..services.base import build

#: The model behind each record type.
MODELS: dict[str, type[Record]] = {name: entity.model for name, entity in ENTITIES.items()}


@functools.cache
def links(model: type) -> dict[str, str]:
    """Columns that are not model fields: ``{reference field: readable-key column}`` (``customer_email``)."""
    entity = by_prefix(getattr(model, "PREFIX", ""))
    return {field: column for field, (column, _t, _f) in link_columns(entity.name).items()} if entity else {}

#: Shorter column names people write by hand, per model.
ALIASES: dict[type, dict[str, str]] = {
    Customer: {"email": "emails", "phone": "phones", "tag": "tags", "city": "address.city"},
    Interaction: {"customer": "customer_id", "at": "occurred_at", "topic": "topics", "ticket": "ticket_id"},
    Ticket: {"customer": "customer_id"},
    Deal: {"customer": "customer_id", "product": "products", "expected_close": "expected_close_on"},
    Contract: {"customer": "customer_id", "deal": "deal_id"},
    Order: {"customer": "customer_id", "date": "ordered_at", "amount": "total"},
    Task: {"customer": "customer_id", "ticket": "ticket_id", "due": "due_at"},
}
#: Dict fields kept as one JSON cell: an event's changes are ``[old, new]`` pairs
#: keyed by any field of any record type, far too many columns to be useful.
JSON_DICTS = frozenset({(Event, "changes")})
#: Tuples of objects that the services build themselves from plain dicts
#: (normalising emails and phones), so they are passed on as dicts.
SERVICE_BUILT = frozenset({(Customer, "contacts")})
FIRST = ("id",)
LAST = ("created_at", "updated_at", "version")
LIST_SEPARATOR = "; "
_OMIT: Any = object()


@attrs.frozen
class FieldKind:
    """How one model field is laid out in a flat row."""

    name: str
    kind: str  # text, bool, int, float, datetime, date, object, dict, texts, objects, json
    sub: type | None = None  # the attrs class of an object / objects field
    optional: bool = False


@functools.cache
def field_kinds(model: type) -> tuple[FieldKind, ...]:
    """The model's fields in export order (``id`` first, bookkeeping last), with their layout."""
    hints = typing.get_type_hints(model)
    kinds = {f.name: _kind(model, f.name, hints[f.name]) for f in attrs.fields(model)}
    order = [n for n in FIRST if n in kinds]
    order += [n for n in kinds if n not in FIRST and n not in LAST]
    order += [n for n in LAST if n in kinds]
    return tuple(kinds[name] for name in order)


def _kind(model: type, name: str, hint: Any) -> FieldKind:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    optional = typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1
    if optional:
        hint = args[0]
    origin = typing.get_origin(hint)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        if attrs.has(item):
            return FieldKind(name, "objects", item, optional)
        return FieldKind(name, "texts", None, optional)
    if origin is dict or hint is dict:
        return FieldKind(name, "json" if (model, name) in JSON_DICTS else "dict", None, optional)
    if attrs.has(hint):
        return FieldKind(name, "object", hint, optional)
    simple = {bool: "bool", int: "int", float: "float", datetime: "datetime", date: "date"}
    if hint in simple:
        return FieldKind(name, simple[hint], None, optional)
    if isinstance(hint, type) and issubclass(hint, (str, StrEnum)):
        return FieldKind(name, "text", None, optional)
    return FieldKind(name, "json", None, optional)


@functools.cache
def _by_name(model: type) -> Mapping[str, FieldKind]:
    return types.MappingProxyType({k.name: k for k in field_kinds(model)})


# -- export: docs to flat rows ---------------------------------------------------------


def columns(model: type, docs: Iterable[Mapping[str, Any]]) -> list[str]:
    """The flat columns for exporting ``docs`` (stored form) of ``model``, in export order."""
    docs = list(docs)
    result: list[str] = []
    for kind in field_kinds(model):
        if kind.kind == "object":
            result += [f"{kind.name}.{f.name}" for f in attrs.fields(kind.sub)]  # type: ignore[arg-type]
        elif kind.kind == "dict":
            keys = sorted({key for doc in docs for key in (doc.get(kind.name) or {})})
            result += [f"{kind.name}.{key}" for key in keys]
        else:
            result.append(kind.name)
        link = links(model).get(kind.name)
        if link:
            result.append(link)
    return result


def flatten(doc: Mapping[str, Any], model: type) -> dict[str, str]:
    """One stored document as a flat row of text cells (see the module docstring for the rules)."""
    row: dict[str, str] = {}
    for kind in field_kinds(model):
        value = doc.get(kind.name)
        if kind.kind == "object":
            for sub in attrs.fields(kind.sub):  # type: ignore[arg-type]
                row[f"{kind.name}.{sub.name}"] = _scalar_text(None if value is None else value.get(sub.name))
        elif kind.kind == "dict":
            for key, item in (value or {}).items():
                row[f"{kind.name}.{key}"] = _dict_value_text(item)
        elif kind.kind == "texts":
            row[kind.name] = LIST_SEPARATOR.join(value or ())
        elif kind.kind in ("objects", "json"):
            row[kind.name] = _json_cell(value) if value else ""
        else:
            row[kind.name] = _scalar_text(value)
    return row


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return _json_cell(value)
    return str(value)


def _dict_value_text(value: Any) -> str:
    # Custom fields hold text, numbers, booleans or lists of text; a list is
    # written like the other lists so that a list FieldSpec reads it back.
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return LIST_SEPARATOR.join(value)
    return _scalar_text(value)


def _json_cell(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# -- import: rows to service input -----------------------------------------------------


def canonical_column(column: str, model: type) -> str:
    """Resolve a hand-written alias (``email`` for ``emails``) to the crmkit column name."""
    return ALIASES.get(model, {}).get(column, column)


def is_column(column: str, model: type) -> bool:
    """Whether ``column`` names a field, a sub-field, a dict key or a link column of ``model``."""
    kinds = _by_name(model)
    if column in links(model).values():
        return True
    head, dot, rest = column.partition(".")
    kind = kinds.get(head)
    if kind is None:
        return False
    if not dot:
        return True
    if kind.kind == "dict":
        return bool(rest)
    if kind.kind == "object":
        return rest in attrs.fields_dict(kind.sub)  # type: ignore[arg-type]
    return False


def unknown_columns(names: Iterable[str], model: type) -> list[str]:
    """The names among ``names`` that are not columns of ``model`` (after aliases), in order."""
    return [name for name in names if not is_column(canonical_column(name, model), model)]


def list_field(column: str, model: type) -> bool:
    """Whether ``column`` is a list of text (emails, tags...), which several source columns may feed."""
    kind = _by_name(model).get(column)
    return kind is not None and kind.kind == "texts"


def unflatten(row: Mapping[str, Any], model: type) -> dict[str, Any]:
    """Turn a flat row (text cells) or a record in stored form into typed input for the service ``build``.

    Only the fields the row provides appear in the result, so an update can
    tell "not in the file" from "emptied". Text is parsed by the field's type
    (``true``, ISO 8601 date-times, JSON cells, ``"; "``-joined lists); values
    that are already typed (from JSON) pass through. Dict cells that are empty
    come back as None (meaning "remove this key" on update). Link columns
    (``customer_email``) are kept as they are for the importer to resolve.
    Bad values raise ``ValidationError`` naming the column.
    """
    plan = _row_plan(model, tuple(row))
    if plan is not None:
        return _unflatten_planned(row, model, plan)
    return _unflatten_general(row, model)


def _unflatten_general(row: Mapping[str, Any], model: type) -> dict[str, Any]:
    """:func:`unflatten` for any row, one cell at a time."""
    shaped = _shape(row, model)
    kinds = _by_name(model)
    result: dict[str, Any] = {}
    for name, value in shaped.items():
        kind = kinds.get(name)
        if kind is None or kind.kind == "text":  # text passes as it is: the model strips it
            result[name] = value
            continue
        typed = _typed(model, kind, value)
        if typed is not _OMIT:
            result[name] = typed
    return result


# How _row_plan's steps read a row (see there).
_KEEP, _TEXTS, _TYPED, _OBJECT, _GROUP = range(5)
#: Nested objects built from text cells, by layout and cells: the objects are frozen, so rows with
#: the same cells (a city) share one; building an Address cost half of a row's unflatten.
_OBJECTS: dict[tuple[FieldKind, tuple[Any, ...]], Any] = {}


@functools.lru_cache(maxsize=256)
def _row_plan(model: type, names: tuple[str, ...]) -> tuple[tuple[str, int, Any, FieldKind | None], ...] | None:
    """What :func:`unflatten` does with rows of these columns, worked out once per column set.

    A file's rows share their columns, so :func:`_shape`'s per-cell lookups and
    the per-field dispatch happen once per file instead of once per row. Each
    step is ``(result key, how, column or [(sub key, column)], field layout)``.
    Column sets that merge or clash (``email`` beside ``emails``, ``address``
    beside ``address.city``) give None: the general path handles (and reports) them.
    """
    kinds = _by_name(model)
    steps: dict[str, tuple[str, int, Any, FieldKind | None]] = {}
    for name in names:
        column, head, rest, kind = _column_layout(model, name)
        if not rest or kind is None or kind.kind not in ("object", "dict"):
            if column in steps:
                return None
            kind = kinds.get(column)
            how = _KEEP if kind is None or kind.kind == "text" else _TEXTS if kind.kind == "texts" else _TYPED
            steps[column] = (column, how, name, kind)
            continue
        step = steps.get(head)
        if step is None:
            steps[head] = step = (head, _GROUP, [], kind)
        if step[1] != _GROUP or any(sub == rest for sub, _ in step[2]):
            return None
        step[2].append((rest, name))
    for head, (_, how, parts, kind) in list(steps.items()):
        if how == _GROUP and kind is not None and kind.kind == "object" and all(
                _nested_kind(kind.sub, head, sub) is not None and _nested_kind(kind.sub, head, sub).kind == "text"
                for sub, _ in parts):
            # Text sub-fields pass through _build_nested unchanged: build the object from the cells.
            steps[head] = (head, _OBJECT, parts, kind)
    return tuple((key, how, tuple(arg) if how >= _OBJECT else arg, kind) for key, how, arg, kind in steps.values())


def _unflatten_planned(row: Mapping[str, Any], model: type,
                       plan: tuple[tuple[str, int, Any, FieldKind | None], ...]) -> dict[str, Any]:
    """:func:`unflatten` of ``row`` by its columns' plan: the same result, key for key."""
    result: dict[str, Any] = {}
    for key, how, arg, kind in plan:
        if how == _KEEP:
            result[key] = row[arg]
        elif how == _TEXTS:
            value = row[arg]
            if value.__class__ is str and ";" not in value:  # one item or none: what _text_items gives
                value = value.strip()
                result[key] = [value] if value else []
            else:
                result[key] = _text_items(value)
        elif how == _OBJECT:
            cells = tuple([row[column] for _sub, column in arg])
            # Text only: 1, 1.0 and True are equal keys but give different objects.
            shared = all(cell.__class__ is str for cell in cells)
            typed = _OBJECTS.get((kind, cells), _OMIT) if shared else _OMIT
            if typed is _OMIT:
                if all(v is None or v == "" for v in cells):
                    typed = None if kind.optional else _build_nested(kind.sub, {}, key)  # type: ignore[union-attr,arg-type]
                else:
                    typed = build(kind.sub, {sub: cells[n] for n, (sub, _column) in enumerate(arg)})  # type: ignore[union-attr,arg-type]
                if shared:
                    if len(_OBJECTS) >= 4096:
                        _OBJECTS.clear()
                    _OBJECTS[(kind, cells)] = typed
            result[key] = typed
        else:
            typed = _typed(model, kind, row[arg] if how == _TYPED else {sub: row[c] for sub, c in arg})  # type: ignore[arg-type]
            if typed is not _OMIT:
                result[key] = typed
    return result


def _shape(row: Mapping[str, Any], model: type) -> dict[str, Any]:
    """Gather dotted columns into nested dicts, keeping the model's field order."""
    shaped: dict[str, Any] = {}
    for column, value in row.items():
        column, head, rest, kind = _column_layout(model, column)
        if not rest or kind is None or kind.kind not in ("object", "dict"):
            if column not in shaped:
                shaped[column] = value
            elif kind is not None and kind.kind == "texts":  # "email" beside "emails": both count
                shaped[column] = [*_text_items(shaped[column]), *_text_items(value)]
            else:
                raise ValidationError(column, value, "is given twice (under two names)")
            continue
        group = shaped.setdefault(head, {})
        if not isinstance(group, dict):
            raise ValidationError(column, value, f"cannot be combined with a {head!r} column")
        group[rest] = value
    return shaped


@functools.lru_cache(maxsize=4096)
def _column_layout(model: type, column: str) -> tuple[str, str, str, FieldKind | None]:
    """A row column's canonical name, its field, what follows the dot, and the field's layout
    (worked out once per file column rather than once per cell)."""
    column = canonical_column(column, model)
    head, _dot, rest = column.partition(".")
    return column, head, rest, _by_name(model).get(head)


def _text_items(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    return list(value)


def _typed(model: type, kind: FieldKind, value: Any) -> Any:
    if kind.kind == "texts":  # the most common typed column
        return _text_items(value)
    if kind.kind == "object":
        return _typed_object(kind, value)
    if kind.kind == "dict":
        if value in (None, ""):
            return {}
        if not isinstance(value, Mapping):
            raise ValidationError(kind.name, value, "must be a mapping of names to values")
        return {key: (None if item == "" else item) for key, item in value.items()}
    if kind.kind in ("objects", "json"):
        if isinstance(value, str):
            value = _parse_json_cell(kind.name, value)
        if kind.kind == "json":
            return {} if value is None else value
        if value is None:
            return []
        if not isinstance(value, list):
            raise ValidationError(kind.name, value, "must be a JSON list of objects")
        if (model, kind.name) in SERVICE_BUILT:
            return [dict(item) if isinstance(item, Mapping) else item for item in value]
        return [_build_nested(kind.sub, item, kind.name) if isinstance(item, Mapping) else item  # type: ignore[arg-type]
                for item in value]
    return _typed_scalar(kind, value)


def _parse_json_cell(name: str, text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ValidationError(name, text, f"is not valid JSON: {err.msg}") from None


def _typed_object(kind: FieldKind, value: Any) -> Any:
    if value is None or (isinstance(value, Mapping) and all(v in (None, "") for v in value.values())):
        return None if kind.optional else _build_nested(kind.sub, {}, kind.name)  # type: ignore[arg-type]
    if not isinstance(value, Mapping):
        return value
    return _build_nested(kind.sub, value, kind.name)  # type: ignore[arg-type]


def _build_nested(model: type, values: Mapping[str, Any], prefix: str) -> Any:
    typed: dict[str, Any] = {}
    for key, item in values.items():
        kind = _nested_kind(model, prefix, key)
        if kind is None:
            raise ValidationError(f"{prefix}.{key}", item, f"is not a field of {prefix}")
        value = _typed_scalar(kind, item)
        if value is not _OMIT:
            typed[key] = value
    return build(model, typed)


@functools.lru_cache(maxsize=1024)
def _nested_kind(model: type, prefix: str, key: str) -> FieldKind | None:
    """The layout of ``prefix.key`` (``address.city``), named as errors should name it; None: no such field."""
    kind = _by_name(model).get(key)
    return None if kind is None else FieldKind(f"{prefix}.{key}", kind.kind, None, kind.optional)


def _typed_scalar(kind: FieldKind, value: Any) -> Any:
    if isinstance(value, str) and kind.kind != "text":
        value = value.strip()
        if value == "":
            return None if kind.optional or kind.kind in ("datetime", "date") else _empty_default(kind)
    if value is None:
        return None
    name = kind.name
    if kind.kind == "bool":
        return parse_bool(name, value, empty=False)
    if kind.kind in ("int", "float"):
        return _parse_number(name, value, int if kind.kind == "int" else float)
    if kind.kind == "datetime":
        return parse_datetime(value, name)
    if kind.kind == "date":
        return parse_date(value, name)
    return value


def _empty_default(kind: FieldKind) -> Any:
    # An empty cell for a field that cannot be None: false for a flag, and the
    # model's default (by leaving the key out) for anything else.
    return False if kind.kind == "bool" else _OMIT




def _parse_number(name: str, value: Any, kind: type) -> Any:
    if isinstance(value, bool):
        raise ValidationError(name, value, f"must be a {'whole ' if kind is int else ''}number")
    if isinstance(value, (int, float)):
        return kind(value)
    try:
        return kind(str(value).strip())
    except ValueError:
        raise ValidationError(name, value, f"must be a {'whole ' if kind is int else ''}number") from None
