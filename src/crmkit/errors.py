"""crmkit's exception types.

Library code raises only these. Each message is one line that a person can
act on; the CLI prints ``str(error)`` and exits 1.
"""

from __future__ import annotations

from typing import Any


class CrmkitError(Exception):
    """Base class of every error crmkit raises on purpose."""


class ValidationError(CrmkitError, ValueError):
    """A value was rejected. Carries the field, the value and the reason."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}: {reason} (got {_show(value)})")


class TransitionError(ValidationError):
    """A state change that the record's rules do not allow (ticket status, lifecycle stage)."""


class NotFound(CrmkitError, LookupError):
    """No record with that id."""

    def __init__(self, kind: str, record_id: str) -> None:
        self.kind = kind
        self.record_id = record_id
        super().__init__(f"{kind} {record_id!r} not found")


class Conflict(CrmkitError):
    """A write carried a stale version, or an id that already exists."""

    def __init__(self, record_id: str, message: str) -> None:
        self.record_id = record_id
        super().__init__(f"{record_id}: {message}")


class StorageError(CrmkitError):
    """The store cannot be opened, read or written (missing, corrupt, not a crmkit store, no permission)."""


class PluginError(CrmkitError):
    """A plugin is broken or two plugins claim the same name."""


class ImportRowsError(CrmkitError):
    """An import found bad rows; nothing was written. ``problems`` holds (line, message) pairs."""

    def __init__(self, problems: list[tuple[int, str]], total: int) -> None:
        self.problems = problems
        self.total = total
        first_line, first_msg = problems[0]
        more = f" (and {len(problems) - 1} more bad rows)" if len(problems) > 1 else ""
        super().__init__(
            f"line {first_line}: {first_msg}{more}; nothing imported from {total} rows"
        )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
