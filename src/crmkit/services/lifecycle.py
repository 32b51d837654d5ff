"""The customer lifecycle: stage moves, their history, and the time nodes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from ..errors import TransitionError, ValidationError
from ..models.convert import format_datetime
from ..models import Customer, StageChange
from .base import save_record
from .normalize import parse_past


class LifecycleService:
    """Moves customers between the profile's stages and answers when each stage was reached."""

    def __init__(self, crm: Any) -> None:
        self.crm = crm

    def move(self, customer_id: str | int, stage: str, *, reason: str | None = None, at: Any = None,
             force: bool = False, by: str | None = None, expected_version: int | None = None) -> Customer:
        """Move a customer to ``stage`` and return the updated customer.

        The profile says which moves are allowed; ``force`` allows any move
        (a correction) and is recorded in the reason. ``by`` names who decided
        the move (default: the CRM's actor). ``at`` backdates the move,
        but not before the previous one. Moving back to an earlier stage is a
        normal move: the history keeps every step.
        """
        crm = self.crm
        with crm.transaction():
            old = crm.customers.get(customer_id)
            if not isinstance(stage, str):
                raise ValidationError("stage", stage, "must be a stage name")
            target = crm.profile.check_stage(stage)
            if target == old.stage:
                raise TransitionError("stage", stage, f"{old.id} is already {target}")
            allowed = crm.profile.allowed_moves(old.stage)
            if target not in allowed and not force:
                options = ", ".join(allowed) or "none"
                raise TransitionError("stage", stage, f"{old.id} cannot move from {old.stage} to {target} "
                                                      f"(allowed: {options}; use force to correct)")
            now = crm.now()
            when = parse_past(at, now)
            if old.stage_history and when < old.stage_history[-1].at:
                raise TransitionError("at", at if at is not None else format_datetime(when),
                                      f"is before {old.id}'s last stage change "
                                      f"({format_datetime(old.stage_history[-1].at)})")
            if force and target not in allowed:
                reason = f"forced: {reason}" if reason else "forced"
            change = StageChange(from_stage=old.stage or None, to_stage=target, at=when, by=by or crm.actor,
                                 reason=reason)
            new = attrs.evolve(old, stage=target, stage_history=(*old.stage_history, change))
            return save_record(crm, "customer", "customers", old, new, "lifecycle.changed",
                               expected_version=expected_version, customer_id=old.id, note=reason,
                               effective_at=when)

    def history(self, customer_id: str | int) -> list[StageChange]:
        """Every stage change of the customer, oldest first."""
        return list(self.crm.customers.get(customer_id).stage_history)

    def time_nodes(self, customer_id: str | int) -> dict[str, datetime]:
        """The first time the customer reached each stage and node, in time order.

        The same as :meth:`crmkit.services.timeline.TimelineService.time_nodes`.
        """
        return self.crm.timeline.time_nodes(customer_id)
