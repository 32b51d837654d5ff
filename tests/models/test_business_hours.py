"""Business hours: adding and measuring working time across nights, weekends, holidays and DST."""

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import ValidationError
from crmkit.profiles.hours import ALWAYS, BusinessHours

UTC = timezone.utc
OFFICE = BusinessHours(week={"mon": (("08:00", "12:00"), ("13:00", "17:00")), "tue": (("08:00", "12:00"), ("13:00", "17:00")),
                             "wed": (("08:00", "12:00"), ("13:00", "17:00")), "thu": (("08:00", "12:00"), ("13:00", "17:00")),
                             "fri": (("08:00", "12:00"), ("13:00", "16:00"))},
                       timezone="Europe/Oslo", holidays=[date(2026, 12, 24), date(2026, 12, 25)])


def oslo(*args):
    from zoneinfo import ZoneInfo
    return datetime(*args, tzinfo=ZoneInfo("Europe/Oslo")).astimezone(UTC)


def test_hours_skip_lunch_nights_and_weekends():
    assert OFFICE.add(oslo(2026, 3, 2, 11, 0), 2) == oslo(2026, 3, 2, 14, 0)  # lunch does not count
    assert OFFICE.add(oslo(2026, 3, 6, 15, 0), 2) == oslo(2026, 3, 9, 9, 0)  # Friday closes at 16
    assert OFFICE.add(oslo(2026, 3, 7, 10, 0), 1) == oslo(2026, 3, 9, 9, 0)  # Saturday: from Monday morning
    assert OFFICE.add(oslo(2026, 3, 2, 17, 0), 8) == oslo(2026, 3, 3, 17, 0)


def test_holidays_have_no_hours():
    assert OFFICE.add(oslo(2026, 12, 23, 16, 0), 2) == oslo(2026, 12, 28, 9, 0)
    assert OFFICE.between(oslo(2026, 12, 24, 0, 0), oslo(2026, 12, 26, 0, 0)) == 0


def test_daylight_saving_keeps_local_opening_hours():
    # Oslo moves to summer time on 2026-03-29: Monday 30th still opens at 08:00 local.
    assert OFFICE.add(oslo(2026, 3, 27, 15, 30), 1) == oslo(2026, 3, 30, 8, 30)
    assert oslo(2026, 3, 30, 8, 30).hour == 6  # 06:30 UTC in summer


def test_counting_back():
    assert OFFICE.add(oslo(2026, 3, 9, 9, 0), -2) == oslo(2026, 3, 6, 15, 0)


def test_between_and_is_open():
    assert OFFICE.between(oslo(2026, 3, 2, 7, 0), oslo(2026, 3, 3, 7, 0)) == 8
    assert OFFICE.between(oslo(2026, 3, 3, 7, 0), oslo(2026, 3, 2, 7, 0)) == 0
    assert OFFICE.is_open(oslo(2026, 3, 2, 9, 0)) and not OFFICE.is_open(oslo(2026, 3, 2, 12, 30))


def test_round_the_clock_is_plain_arithmetic():
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert ALWAYS.add(start, 30) == start + timedelta(hours=30)
    assert ALWAYS.between(start, start + timedelta(hours=30)) == 30


@settings(max_examples=60, deadline=None)
@given(start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
       hours=st.floats(min_value=0.25, max_value=200).map(lambda h: round(h * 4) / 4))
def test_add_and_between_agree(start, hours):
    start = start.replace(tzinfo=UTC, second=0, microsecond=0)
    due = OFFICE.add(start, hours)
    assert abs(OFFICE.between(start, due) - hours) < 1e-6
    assert OFFICE.is_open(due - timedelta(minutes=1))
    assert OFFICE.add(due, -hours) <= start or abs(OFFICE.between(OFFICE.add(due, -hours), due) - hours) < 1e-6


@pytest.mark.parametrize("kwargs, field", [
    ({"week": {"mon": (("09:00", "08:00"),)}}, "business_hours.week.mon"),
    ({"week": {"funday": (("09:00", "17:00"),)}}, "business_hours.week"),
    ({"week": {}}, "business_hours.week"),
    ({"week": {"mon": (("9am", "17:00"),)}}, "business_hours.week.mon"),
    ({"week": {"mon": (("09:00", "17:00"),)}, "timezone": "Mars/Olympus"}, "business_hours.timezone"),
])
def test_bad_calendars_name_the_field(kwargs, field):
    with pytest.raises(ValidationError) as err:
        BusinessHours(**kwargs)
    assert err.value.field == field
