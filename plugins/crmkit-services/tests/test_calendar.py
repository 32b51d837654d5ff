"""The configurable business calendar: parsing, where it is read from, and its effect on due times."""

from datetime import date, datetime, timezone

import pytest

import crmkit
import crmkit_services
from crmkit import BusinessHours, ValidationError
from crmkit.plugins import make_plugin_manager
from crmkit_services.calendar import (
    describe_week, load_settings, next_business_day_end, parse_holidays, parse_hours,
)

UTC = timezone.utc


def test_parse_hours_ranges_lists_breaks_and_overrides():
    week = parse_hours("mon-fri 08:00-12:00,13:00-17:00; wed 10:00-14:00; sat,sun 9:00-12:00; sun closed")
    assert week == {
        "mon": (("08:00", "12:00"), ("13:00", "17:00")), "tue": (("08:00", "12:00"), ("13:00", "17:00")),
        "wed": (("10:00", "14:00"),), "thu": (("08:00", "12:00"), ("13:00", "17:00")),
        "fri": (("08:00", "12:00"), ("13:00", "17:00")), "sat": (("09:00", "12:00"),),
    }
    assert parse_hours("Friday-Monday 00:00-24:00").keys() == {"fri", "sat", "sun", "mon"}


@pytest.mark.parametrize("text", ["", "weekdays 08:00-17:00", "mon-fri 8-17", "mon-fri"])
def test_parse_hours_refuses_what_it_cannot_read(text):
    with pytest.raises(ValidationError):
        parse_hours(text)


def test_parse_holidays_dates_and_ranges():
    days = parse_holidays(["2026-12-24..2026-12-26", "2027-01-01"])
    assert days == {date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)}
    assert parse_holidays("2026-05-01, ,2026-05-25") == {date(2026, 5, 1), date(2026, 5, 25)}
    with pytest.raises(ValidationError, match="ends before it starts"):
        parse_holidays("2026-12-26..2026-12-24")
    with pytest.raises(ValidationError):
        parse_holidays("25/12/2026")


def test_default_calendar_is_weekdays_eight_to_five_utc_without_holidays():
    settings = load_settings({})
    assert describe_week(settings.hours) == "mon-fri 08:00-17:00"
    assert settings.hours.timezone == "UTC" and not settings.hours.holidays
    assert settings.required_steps is None
    assert set(settings.sources.values()) == {"default"}


def test_crmkit_toml_services_table_is_read_from_a_parent_folder(tmp_path):
    (tmp_path / "crmkit.toml").write_text(
        '[crmkit]\ndb = "crm.json"\n\n[services]\nhours = "mon-thu 09:00-17:00; fri 09:00-13:00"\n'
        'timezone = "Europe/Oslo"\nholidays = ["2026-12-24..2026-12-26"]\n\n'
        '[services.required_steps]\nquestion = ["action"]\n"Service-Request" = []\n')
    below = tmp_path / "a" / "b"
    below.mkdir(parents=True)
    settings = load_settings({}, cwd=below)
    assert describe_week(settings.hours) == "mon-thu 09:00-17:00; fri 09:00-13:00"
    assert settings.hours.timezone == "Europe/Oslo"
    assert date(2026, 12, 25) in settings.hours.holidays
    assert settings.required_steps == {"question": ("action",), "Service-Request": ()}
    assert settings.sources["hours"] == str(tmp_path / "crmkit.toml")


def test_hours_may_be_a_table_per_day(tmp_path):
    (tmp_path / "crmkit.toml").write_text('[services.hours]\nmon = ["08:00-12:00", "13:00-16:00"]\nsat = "10:00-12:00"\n')
    week = load_settings({}, cwd=tmp_path).hours.week
    assert week == {"mon": (("08:00", "12:00"), ("13:00", "16:00")), "sat": (("10:00", "12:00"),)}


def test_environment_wins_over_the_file_key_by_key(tmp_path):
    (tmp_path / "crmkit.toml").write_text('[services]\nhours = "mon-fri 09:00-17:00"\ntimezone = "Europe/Oslo"\n')
    settings = load_settings({"CRMKIT_SERVICES_HOURS": "mon-sat 07:00-19:00",
                              "CRMKIT_SERVICES_HOLIDAYS": "2026-04-03"}, cwd=tmp_path)
    assert describe_week(settings.hours) == "mon-sat 07:00-19:00"
    assert settings.hours.timezone == "Europe/Oslo"
    assert settings.hours.holidays == {date(2026, 4, 3)}
    assert settings.sources["hours"] == "$CRMKIT_SERVICES_HOURS"


@pytest.mark.parametrize(("content", "message"), [
    ('[services]\nhours = "always"\n', "hours"),
    ('[services]\ntimezone = "Mars/Olympus"\n', "time zone"),
    ('[services]\nhoilday = ["2026-01-01"]\n', "unknown settings"),
    ('[services]\nrequired_steps = {incident = "diagnosis"}\n', "list of step kinds"),
    ("[services\n", "cannot be read"),
])
def test_a_bad_calendar_is_one_clear_error_naming_the_file(tmp_path, content, message):
    (tmp_path / "crmkit.toml").write_text(content)
    with pytest.raises(ValidationError, match=message):
        load_settings({}, cwd=tmp_path)


def test_required_steps_must_name_profile_categories(tmp_path, isolated_env):
    (isolated_env / "crmkit.toml").write_text('[services.required_steps]\nrepair = ["action"]\n')
    pm = make_plugin_manager(entrypoints=False, extra=[crmkit_services])
    with pytest.raises(ValidationError, match="repair"):
        crmkit.open("memory://", "services", pm=pm)


def test_next_business_day_end_skips_weekends_and_holidays():
    hours = BusinessHours.weekdays("08:00", "17:00", holidays=[date(2026, 3, 9)])
    friday = datetime(2026, 3, 6, 16, 30, tzinfo=UTC)
    assert next_business_day_end(hours, friday) == datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
    tuesday_night = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)
    assert next_business_day_end(hours, tuesday_night) == datetime(2026, 3, 11, 17, 0, tzinfo=UTC)


def test_next_business_day_end_in_the_desk_time_zone():
    hours = BusinessHours.weekdays("08:00", "16:00", timezone="Europe/Oslo")
    # 23:30 UTC on Monday is already Tuesday in Oslo: the next working day is Wednesday.
    late = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    assert next_business_day_end(hours, late) == datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def test_the_configured_calendar_sets_due_times(monkeypatch, clock):
    monkeypatch.setenv("CRMKIT_SERVICES_HOURS", "mon-fri 09:00-17:00")
    monkeypatch.setenv("CRMKIT_SERVICES_HOLIDAYS", "2026-03-09")
    clock.set("2026-03-06T16:00:00")   # a Friday
    pm = make_plugin_manager(entrypoints=False, extra=[crmkit_services])
    with crmkit.open("memory://", "services", pm=pm, clock=clock) as crm:
        gold = crm.customers.add("Gold Ltd", fields={"service_level": "gold"})
        ticket = crm.tickets.open(gold.id, "Server down", priority="normal")   # gold normal: 2h / 16h
    assert ticket.response_due_at == datetime(2026, 3, 10, 10, 0, tzinfo=UTC)   # 1h Fri, Mon is a holiday
    assert ticket.resolution_due_at == datetime(2026, 3, 11, 16, 0, tzinfo=UTC)


def test_the_calendar_example_in_the_docs_is_valid(tmp_path):
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parents[3] / "docs" / "plugins" / "services.md"
    if not page.is_file():
        pytest.skip("the docs are not next to this plugin")
    blocks = re.findall(r"```toml\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    for number, block in enumerate(blocks):
        folder = tmp_path / str(number)
        folder.mkdir()
        (folder / "crmkit.toml").write_text(block)
        settings = load_settings({}, cwd=folder)
        assert settings.hours.week
    example = load_settings({}, cwd=tmp_path / "0")
    assert describe_week(example.hours) == "mon-thu 08:00-12:00,12:30-17:00; fri 08:00-15:00"
    assert example.hours.timezone == "Europe/Oslo"
