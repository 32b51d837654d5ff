"""Business hours: a weekly calendar with holidays, for SLA clocks that only run while the desk is open.

>>> from datetime import datetime, timezone
>>> hours = BusinessHours.weekdays("09:00", "17:00", timezone="UTC")
>>> friday_4pm = datetime(2026, 3, 6, 16, 0, tzinfo=timezone.utc)
>>> hours.add(friday_4pm, 4).isoformat()   # one hour on Friday, three on Monday
'2026-03-09T12:00:00+00:00'
>>> hours.between(friday_4pm, datetime(2026, 3, 9, 12, 0, tzinfo=timezone.utc))
4.0
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

import attrs

from ..errors import ValidationError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: How far ``add`` looks ahead before deciding the calendar can never fit the hours.
MAX_DAYS = 3 * 366


def _parse_clock(field: str, value: str) -> time:
    try:
        hour, minute = (int(part) for part in str(value).strip().split(":"))
        if hour == 24 and minute == 0:
            return time.max
        return time(hour, minute)
    except (TypeError, ValueError):
        raise ValidationError(field, value, "must be a time of day like 09:00") from None


def _check_week(instance: Any, attribute: Any, week: Mapping[str, Any]) -> None:
    for day, spans in week.items():
        if day not in DAYS:
            raise ValidationError("business_hours.week", day, f"must be one of {', '.join(DAYS)}")
        last = time.min
        for span in spans:
            if len(span) != 2:
                raise ValidationError(f"business_hours.week.{day}", span, "must be (open, close) pairs")
            opens, closes = (_parse_clock(f"business_hours.week.{day}", v) for v in span)
            if closes <= opens or opens < last:
                raise ValidationError(f"business_hours.week.{day}", span,
                                      "must open before it closes, in order, without overlaps")
            last = closes
    if not any(week.get(day) for day in DAYS):
        raise ValidationError("business_hours.week", dict(week), "must have working hours on at least one day")


def _zone(name: str) -> tzinfo:
    if name == "UTC":  # the default: no rules to read, and zoneinfo stays unimported
        return timezone.utc
    # Imported on first use: most commands never work out business hours.
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _check_zone(instance: Any, attribute: Any, name: str) -> None:
    try:
        _zone(name)
    except (KeyError, ValueError, TypeError):  # ZoneInfoNotFoundError is a KeyError
        raise ValidationError("business_hours.timezone", name, "is not a known time zone (like Europe/Oslo)") \
            from None


@attrs.frozen(kw_only=True)
class BusinessHours:
    """When the desk works: hours per weekday in a time zone, minus holidays.

    ``week`` maps ``mon`` ... ``sun`` to ``(open, close)`` pairs of ``HH:MM``
    local times (``(("08:00", "12:00"), ("13:00", "17:00"))`` for a lunch
    break; ``"24:00"`` closes at midnight). Days left out are closed.
    ``holidays`` are local dates with no working hours. Daylight-saving
    changes follow the time zone.
    """

    week: Mapping[str, tuple[tuple[str, str], ...]] = attrs.field(validator=_check_week)
    timezone: str = attrs.field(default="UTC", validator=_check_zone)
    holidays: frozenset[date] = attrs.field(default=frozenset(), converter=frozenset)

    @classmethod
    def weekdays(cls, opens: str = "09:00", closes: str = "17:00", *, timezone: str = "UTC",
                 holidays: Any = ()) -> BusinessHours:
        """Monday to Friday, ``opens`` to ``closes``."""
        return cls(week={day: ((opens, closes),) for day in DAYS[:5]}, timezone=timezone, holidays=holidays)

    def _spans(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The working periods of one local date, as UTC datetimes."""
        if day in self.holidays:
            return
        zone = _zone(self.timezone)
        for opens, closes in self.week.get(DAYS[day.weekday()], ()):
            start = datetime.combine(day, _parse_clock("opens", opens), zone)
            close_time = _parse_clock("closes", closes)
            end = (datetime.combine(day + timedelta(days=1), time(), zone) if close_time == time.max
                   else datetime.combine(day, close_time, zone))
            yield start.astimezone(timezone.utc), end.astimezone(timezone.utc)

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(_zone(self.timezone)).date()

    def add(self, start: datetime, hours: float) -> datetime:
        """The moment ``hours`` working hours after ``start`` (which may fall outside working hours).

        Negative ``hours`` count back: the moment that many working hours before ``start``.
        """
        remaining = timedelta(hours=hours)
        if remaining < timedelta(0):
            return self._back(start, -remaining)
        if remaining == timedelta(0):
            return start
        day = self._local_day(start)
        for _ in range(MAX_DAYS):
            for opens, closes in self._spans(day):
                begin = max(opens, start)
                if begin >= closes:
                    continue
                if closes - begin >= remaining:
                    return begin + remaining
                remaining -= closes - begin
            day += timedelta(days=1)
        raise ValidationError("business_hours", hours, f"do not fit in the calendar within {MAX_DAYS} days")

    def _back(self, end: datetime, remaining: timedelta) -> datetime:
        day = self._local_day(end)
        for _ in range(MAX_DAYS):
            for opens, closes in reversed(list(self._spans(day))):
                finish = min(closes, end)
                if finish <= opens:
                    continue
                if finish - opens >= remaining:
                    return finish - remaining
                remaining -= finish - opens
            day -= timedelta(days=1)
        raise ValidationError("business_hours", remaining, f"do not fit in the calendar within {MAX_DAYS} days")

    def between(self, start: datetime, end: datetime) -> float:
        """Working hours from ``start`` to ``end`` (0 when ``end`` is not after ``start``)."""
        if end <= start:
            return 0.0
        total = timedelta(0)
        day, last = self._local_day(start), self._local_day(end)
        while day <= last:
            for opens, closes in self._spans(day):
                overlap = min(closes, end) - max(opens, start)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total.total_seconds() / 3600

    def is_open(self, moment: datetime) -> bool:
        """Whether ``moment`` falls in working hours."""
        return any(opens <= moment < closes for opens, closes in self._spans(self._local_day(moment)))


#: Round the clock: every hour counts (what a profile without business hours uses).
ALWAYS = BusinessHours(week={day: (("00:00", "24:00"),) for day in DAYS})

__all__ = ["ALWAYS", "DAYS", "BusinessHours"]
