"""Normalising what people type: email addresses, phone numbers, dates and times."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from ..errors import ValidationError


def normalize_email(value: Any, field: str = "email") -> str:
    """Check an address's syntax and return it normalised (domain lowercased, IDNA handled).

    Deliverability is not checked: that would need the network.
    """
    import email_validator  # imported here: only writes need it

    text = str(value).strip()
    try:
        return email_validator.validate_email(text, check_deliverability=False).normalized
    except email_validator.EmailNotValidError as err:
        raise ValidationError(field, value, f"is not a valid email address: {err}") from None


def normalize_phone(value: Any, region: str | None, field: str = "phone") -> str:
    """Return the number in E.164 form (``+4722334455``).

    Numbers without a leading ``+`` are read as local numbers of ``region``
    (an ISO country code such as ``GB``); without a region they must be international.
    """
    import phonenumbers

    text = str(value).strip()
    if region and region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError("region", region, "is not a country code phone numbers know (like GB, NO, US)")
    try:
        number = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        hint = "" if region or text.startswith("+") else " (no default region is set: start it with + and the country code)"
        raise ValidationError(field, value, f"is not a phone number{hint}") from None
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(field, value, "is not a possible phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


#: How far ahead of this machine's clock a given time may be (two machines' clocks differ a little).
CLOCK_SKEW = timedelta(minutes=5)

_RELATIVE_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


_WHEN_HELP = "is not a date or time (use YYYY-MM-DD, YYYY-MM-DDTHH:MM, now, today or 2h ago)"
_DAY_HELP = "is not a date (use YYYY-MM-DD, today, tomorrow or +3d)"


def parse_when(value: Any, now: datetime, field: str = "at") -> datetime:
    """Read a point in time as people write it; return an aware UTC datetime.

    Accepts ISO 8601 dates and date-times (a time without an offset is local
    time), ``now``, ``today`` (local midnight), ``yesterday``, and offsets back
    in time such as ``2h ago``, ``3d ago``, ``-45m``.
    """
    try:
        return _when(value, now)
    except (ValueError, OverflowError):  # out-of-range years and offsets, as well as bad text
        raise ValidationError(field, value, _WHEN_HELP) from None


def _when(value: Any, now: datetime) -> datetime:
    if isinstance(value, datetime):
        result = value if value.tzinfo else value.astimezone()
        return result.astimezone(timezone.utc)
    text = str(value).strip().lower()
    if text == "now":
        return now
    if text in ("today", "yesterday"):
        day = now.astimezone().date() - timedelta(days=1 if text == "yesterday" else 0)
        return datetime.combine(day, datetime.min.time()).astimezone().astimezone(timezone.utc)
    relative = _parse_relative(text)
    if relative is not None:
        return now - relative
    parsed = datetime.fromisoformat(str(value).strip())
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()  # naive means the user's local time
    return parsed.astimezone(timezone.utc).replace(microsecond=0)


def parse_day(value: Any, now: datetime, field: str = "date") -> date:
    """Read a calendar day: ``YYYY-MM-DD``, ``today``, ``tomorrow`` or ``+3d`` (days from today)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value).strip().lower()
    try:
        today = now.astimezone().date()
        if text == "today":
            return today
        if text == "tomorrow":
            return today + timedelta(days=1)
        if text.startswith("+") and text.endswith("d") and _is_number(text[1:-1]):
            return today + timedelta(days=int(text[1:-1]))
        return date.fromisoformat(text)
    except (ValueError, OverflowError):
        raise ValidationError(field, value, _DAY_HELP) from None


def _is_number(text: str) -> bool:
    """ASCII digits only: ``"²".isdigit()`` is true but ``int("²")`` fails."""
    return text.isascii() and text.isdigit()


def _parse_relative(text: str) -> timedelta | None:
    body = text.removesuffix(" ago").removeprefix("-").strip()
    if body == text or not body:
        return None
    number = body.rstrip("abcdefghijklmnopqrstuvwxyz ")
    unit = body[len(number):].strip()
    if not _is_number(number) or unit not in _RELATIVE_UNITS:
        return None
    return timedelta(**{_RELATIVE_UNITS[unit]: int(number)})
