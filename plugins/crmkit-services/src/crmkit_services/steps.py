"""What a ticket still needs before it can be resolved, and the business calendar day by day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs


from .calendar import DAYS, describe_week
from .desk import require_services, step_kinds
from .profile import NAME
from .rules import missing_steps, step_kind


@attrs.frozen(kw_only=True)
class StepsReport:
    """Without a ticket: one row per category and its required steps. With one: its steps and what is missing."""

    ticket_id: str | None
    category: str | None = None
    required: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    rows: tuple[dict[str, Any], ...] = ()


def steps_report(crm: Any, ticket_id: str | int | None = None) -> StepsReport:
    """The required steps per category, or a ticket's steps with their kinds and the ones still missing."""
    require_services(crm)
    profile = crm.profile
    if ticket_id is None:
        return StepsReport(ticket_id=None, rows=tuple(
            {"category": category, "required": " then ".join(profile.steps_for(category)) or "(none)"}
            for category in profile.ticket_categories))
    ticket = crm.tickets.get(ticket_id)
    required = profile.steps_for(ticket.category)
    rows = tuple({"at": step.at, "staff": step.staff, "kind": step_kind(step.action), "action": step.action,
                  "result": step.result} for step in sorted(ticket.steps, key=lambda s: s.at))
    return StepsReport(ticket_id=ticket.id, category=ticket.category, required=required,
                       missing=missing_steps(required, step_kinds(ticket)), rows=rows)


@attrs.frozen(kw_only=True)
class CalendarReport:
    """The calendar's settings (label, value) and one row per day: hours, working hours, holiday or closed."""

    settings: tuple[tuple[str, str], ...]
    days: tuple[dict[str, Any], ...]


def services_profile(pm: Any) -> Any:
    """The services profile as this plugin manager's plugins contribute it."""
    from crmkit.registry import registry

    return registry(pm, "profile").get(NAME, "profile")


def calendar_days(pm: Any, start: date, days: int = 14) -> CalendarReport:
    """The services calendar from ``start`` for ``days`` days, with where each setting comes from."""
    profile = services_profile(pm)
    hours = profile.business_hours
    sources = profile.settings_sources
    zone = ZoneInfo(hours.timezone)
    upcoming = sorted(day for day in hours.holidays if day >= start)
    settings = (
        ("hours", f"{describe_week(hours)}  [{sources.get('hours', 'default')}]"),
        ("timezone", f"{hours.timezone}  [{sources.get('timezone', 'default')}]"),
        ("holidays", f"{', '.join(d.isoformat() for d in upcoming[:6]) or '(none ahead)'}"
                     f"{' ...' if len(upcoming) > 6 else ''}  [{sources.get('holidays', 'default')}]"),
        ("steps", f"required steps per category  [{sources.get('required_steps', 'default')}]"),
    )
    rows = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        spans = hours.week.get(DAYS[day.weekday()], ())
        begin = datetime.combine(day, time(), zone)
        working = hours.between(begin, datetime.combine(day + timedelta(days=1), time(), zone))
        note = "holiday" if day in hours.holidays else "" if spans else "closed"
        rows.append({"date": day, "day": day.strftime("%a"),
                     "hours": ", ".join(f"{a}-{b}" for a, b in spans) if spans and not note else "-",
                     "working_hours": round(working, 2), "note": note})
    return CalendarReport(settings=settings, days=tuple(rows))


__all__ = ["CalendarReport", "StepsReport", "calendar_days", "services_profile", "steps_report"]
