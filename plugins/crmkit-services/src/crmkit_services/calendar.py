"""The service desk's calendar and settings: when the SLA clock runs, and which steps each category needs.

Where the settings come from, later sources winning key by key:

1. the defaults: weekdays 08:00-17:00 UTC, no holidays, the required steps of
   :data:`crmkit_services.profile.REQUIRED_STEPS`;
2. the ``[services]`` table of the nearest ``crmkit.toml`` (the working
   directory or a parent, the same file crmkit finds the store by)::

       [services]
       hours = "mon-thu 08:00-12:00,12:30-17:00; fri 08:00-15:00"
       timezone = "Europe/Oslo"
       holidays = ["2026-12-24..2026-12-26", "2027-01-01"]

       [services.required_steps]
       incident = ["diagnosis", "action"]
       question = []

3. the environment: ``CRMKIT_SERVICES_HOURS``, ``CRMKIT_SERVICES_TIMEZONE`` and
   ``CRMKIT_SERVICES_HOLIDAYS`` (comma-separated dates or ranges).

The settings are read when the profile is made, that is once per command (or
per plugin manager in a script). Due times are stored when a ticket is
opened, so everyone who works on one store should share one calendar: keep it
in the store's ``crmkit.toml``.

>>> week = parse_hours("mon-fri 09:00-17:00; sat 10:00-13:00")
>>> week["sat"], "sun" in week
((('10:00', '13:00'),), False)
>>> sorted(parse_holidays("2026-12-24..2026-12-26, 2027-01-01"))[-1].isoformat()
'2027-01-01'
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from crmkit import BusinessHours, ValidationError, plugin_settings

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The calendar when nobody configured one.
DEFAULT_HOURS = "mon-fri 08:00-17:00"
DEFAULT_TIMEZONE = "UTC"
ENV_HOURS = "CRMKIT_SERVICES_HOURS"
ENV_TIMEZONE = "CRMKIT_SERVICES_TIMEZONE"
ENV_HOLIDAYS = "CRMKIT_SERVICES_HOLIDAYS"

_SPAN = re.compile(r"^(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$")


_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _day(field: str, text: str) -> int:
    """``mon``, ``Monday`` or ``monday`` -> 0."""
    key = text.strip().lower()
    for index, full in enumerate(_FULL_DAYS):
        if len(key) >= 3 and full.startswith(key):
            return index
    raise ValidationError(field, text, f"is not a weekday ({', '.join(DAYS)})")


def _days(field: str, text: str) -> list[str]:
    """``mon-fri`` / ``sat`` / ``mon,wed,fri`` / ``fri-mon`` (wrapping) -> day names."""
    found: list[str] = []
    for part in text.split(","):
        first, dash, last = part.partition("-")
        start = _day(field, first)
        end = _day(field, last) if dash else start
        span = (end - start) % 7
        found.extend(DAYS[(start + n) % 7] for n in range(span + 1))
    return found


def parse_hours(text: str, field: str = "hours") -> dict[str, tuple[tuple[str, str], ...]]:
    """Read a weekly calendar: ``DAYS SPAN[,SPAN] ; DAYS SPAN ...``.

    ``"mon-fri 08:00-12:00,13:00-17:00; sat 09:00-13:00"``: days are ``mon`` ...
    ``sun``, alone, as a range (``mon-fri``) or a list (``mon,wed``); spans are
    ``HH:MM-HH:MM`` (``24:00`` closes at midnight). A later part replaces an
    earlier one for the same day; days not named are closed. ``"sat closed"``
    closes a day named earlier.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(field, text, "must name working hours, like 'mon-fri 08:00-17:00'")
    week: dict[str, tuple[tuple[str, str], ...]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        days_text, _, spans_text = part.partition(" ")
        days = _days(field, days_text)
        spans_text = spans_text.strip()
        if spans_text.lower() == "closed":
            for day in days:
                week.pop(day, None)
            continue
        spans = []
        for span in spans_text.split(","):
            match = _SPAN.match(span.strip())
            if match is None:
                raise ValidationError(field, part, "must be days then HH:MM-HH:MM spans, like 'mon-fri 08:00-17:00'")
            opens, closes = (f"{int(t.split(':')[0]):02d}:{t.split(':')[1]}" for t in match.groups())
            spans.append((opens, closes))
        for day in days:
            week[day] = tuple(spans)
    return {day: week[day] for day in DAYS if day in week}


def hours_from_table(table: Mapping[str, Any], field: str = "hours") -> dict[str, tuple[tuple[str, str], ...]]:
    """A TOML table ``{mon = ["08:00-17:00"], sat = []}`` as a week (the same spans as :func:`parse_hours`)."""
    parts = []
    for day, spans in table.items():
        spans = [spans] if isinstance(spans, str) else list(spans)
        parts.append(f"{day} {','.join(spans)}" if spans else f"{day} closed")
    return parse_hours("; ".join(parts), field)


def parse_holidays(value: Any, field: str = "holidays") -> frozenset[date]:
    """Dates (``2026-12-25``) and ranges (``2026-12-24..2026-12-26``), as a list or comma-separated text."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    days: set[date] = set()
    for item in items:
        if isinstance(item, date):
            days.add(item)
            continue
        text = str(item).strip()
        if not text:
            continue
        first, dots, last = text.partition("..")
        try:
            start = date.fromisoformat(first.strip())
            end = date.fromisoformat(last.strip()) if dots else start
        except ValueError:
            raise ValidationError(field, text, "must be a date (2026-12-25) or a range (2026-12-24..2026-12-26)") \
                from None
        if end < start:
            raise ValidationError(field, text, "ends before it starts")
        days.update(start + timedelta(days=n) for n in range((end - start).days + 1))
    return frozenset(days)


def describe_week(hours: BusinessHours) -> str:
    """The week back as text in :func:`parse_hours` form, runs of equal days joined (``mon-fri 08:00-17:00``)."""
    parts: list[str] = []
    index = 0
    while index < 7:
        spans = hours.week.get(DAYS[index])
        end = index
        while end + 1 < 7 and hours.week.get(DAYS[end + 1]) == spans:
            end += 1
        if spans:
            days = DAYS[index] if end == index else f"{DAYS[index]}-{DAYS[end]}"
            parts.append(f"{days} {','.join(f'{a}-{b}' for a, b in spans)}")
        index = end + 1
    return "; ".join(parts)


@attrs.frozen(kw_only=True)
class ServicesSettings:
    """The calendar and the required steps, with where each setting came from (``sources``)."""

    hours: BusinessHours
    required_steps: Mapping[str, tuple[str, ...]] | None = None
    sources: Mapping[str, str] = attrs.field(factory=dict)


def read_services_table(cwd: Path | None = None) -> tuple[dict[str, Any], Path | None]:
    """The ``[services]`` table of the nearest ``crmkit.toml`` and that file (``({}, None)`` without one)."""
    table, path = plugin_settings("services", cwd=cwd)
    unknown = sorted(set(table) - {"hours", "timezone", "holidays", "required_steps"})
    if unknown:
        raise ValidationError("[services]", ", ".join(unknown),
                              f"unknown settings in {path}; known: hours, timezone, holidays, required_steps")
    return table, path


def load_settings(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> ServicesSettings:
    """The settings from the defaults, the nearest ``crmkit.toml`` and the environment (see the module doc)."""
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {"hours": DEFAULT_HOURS, "timezone": DEFAULT_TIMEZONE, "holidays": ()}
    sources = dict.fromkeys(("hours", "timezone", "holidays", "required_steps"), "default")
    table, config = read_services_table(cwd)
    for key in ("hours", "timezone", "holidays", "required_steps"):
        if key in table:
            raw[key] = table[key]
            sources[key] = str(config)
    for key, variable in (("hours", ENV_HOURS), ("timezone", ENV_TIMEZONE), ("holidays", ENV_HOLIDAYS)):
        if env.get(variable, "").strip():
            raw[key] = env[variable]
            sources[key] = f"${variable}"
    week = hours_from_table(raw["hours"], f"hours ({sources['hours']})") if isinstance(raw["hours"], Mapping) \
        else parse_hours(raw["hours"], f"hours ({sources['hours']})")
    try:
        hours = BusinessHours(week=week, timezone=str(raw["timezone"]).strip(),
                              holidays=parse_holidays(raw["holidays"], f"holidays ({sources['holidays']})"))
    except ValidationError as err:
        raise ValidationError(f"{err.field} ({sources['hours']}, {sources['timezone']})", err.value,
                              err.reason) from None
    steps = raw.get("required_steps")
    if steps is not None:
        steps = _steps_table(steps, sources["required_steps"])
    return ServicesSettings(hours=hours, required_steps=steps, sources=sources)


def _steps_table(table: Any, source: str) -> dict[str, tuple[str, ...]]:
    field = f"required_steps ({source})"
    if not isinstance(table, Mapping):
        raise ValidationError(field, table, "must be a table of category = [step kinds]")
    result = {}
    for category, kinds in table.items():
        if isinstance(kinds, str) or not isinstance(kinds, Iterable):
            raise ValidationError(field, kinds, f"{category}: must be a list of step kinds, like ['diagnosis', 'action']")
        result[str(category)] = tuple(str(kind).strip().lower() for kind in kinds if str(kind).strip())
    return result


def next_business_day_end(hours: BusinessHours, moment: datetime) -> datetime:
    """The closing time of the first working day after the local date of ``moment``.

    A ticket closed on Friday afternoon gets a follow-up due at Monday's close;
    holidays and closed days are skipped.
    """
    zone = ZoneInfo(hours.timezone)
    day = moment.astimezone(zone).date()
    for _ in range(366):
        day += timedelta(days=1)
        spans = hours.week.get(DAYS[day.weekday()])
        if spans and day not in hours.holidays:
            closes = spans[-1][1]
            if closes == "24:00":
                return datetime.combine(day + timedelta(days=1), time(), zone).astimezone(timezone.utc)
            hour, minute = (int(part) for part in closes.split(":"))
            return datetime.combine(day, time(hour, minute), zone).astimezone(timezone.utc)
    raise ValidationError("hours", describe_week(hours), "have no working day within a year")


__all__ = [
    "DEFAULT_HOURS", "DEFAULT_TIMEZONE", "ENV_HOLIDAYS", "ENV_HOURS", "ENV_TIMEZONE", "ServicesSettings",
    "describe_week", "hours_from_table", "load_settings", "next_business_day_end",
    "parse_holidays", "parse_hours", "read_services_table",
]
