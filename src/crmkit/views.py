"""Blocks that plugins add to what crmkit shows, such as sections of ``customer show``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .errors import ValidationError
from .models.base import as_tuple


def _pairs(value: Any) -> tuple[tuple[str, Any], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple((str(label), item) for label, item in items)


def _rows(value: Any) -> tuple[dict[str, Any], ...]:
    return tuple(dict(row) for row in value)


@attrs.frozen(kw_only=True)
class Section:
    """A titled block: label/value ``fields``, a table of ``rows``, or plain ``lines`` (one of them).

    ``columns`` picks and orders the table's columns (default: the keys of the
    first row). Values are shown as the CLI shows any value (dates, lists,
    yes/no); in JSON output they should be JSON values or dates.
    """

    title: str
    fields: tuple[tuple[str, Any], ...] = attrs.field(default=(), converter=_pairs)
    rows: tuple[dict[str, Any], ...] = attrs.field(default=(), converter=_rows)
    columns: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    lines: tuple[str, ...] = attrs.field(default=(), converter=lambda v: tuple(str(x) for x in v))

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.title, str) or not self.title.strip():
            raise ValidationError("title", self.title, "a section needs a title")
        if sum(bool(part) for part in (self.fields, self.rows, self.lines)) > 1:
            raise ValidationError("section", self.title, "holds fields, rows or lines, not several of them")


__all__ = ["Section"]
