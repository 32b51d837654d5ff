"""Normalising what people type: email addresses, phone numbers, dates and times."""

from __future__ import annotations

import functools
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

from ..errors import ValidationError


#: What ``email_validator`` accepts unchanged before the @-sign: RFC 5322 dot-atom text, ASCII only.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
#: A plain ASCII host name with a dot and a top-level domain ending in a letter; labels of at
#: most 63 characters that neither start nor end with "-".
_PLAIN_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                           r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z])?")
#: ``email_validator``'s own lists (a test checks that they still agree): mailbox names it
#: lowercases, and special-use domains it refuses. Addresses touching them take the full path.
CASE_INSENSITIVE_MAILBOXES = frozenset({"info", "marketing", "sales", "support", "abuse", "noc", "security",
                                        "postmaster", "hostmaster", "usenet", "news", "webmaster", "www",
                                        "uucp", "ftp"})
SPECIAL_USE_DOMAINS = ("arpa", "invalid", "local", "localhost", "onion", "test")


def plain_email(text: str) -> str | None:
    """The normalised form of a plain address (``ann.lee@Example.com``), or None if it is not plain.

    ``email_validator`` returns such an address with the domain lowercased and
    everything else as given; checking that shape directly takes ~1 us instead of
    ~35 us (and spares a command importing it, ~25 ms). Anything unusual (quotes,
    non-ASCII, ``--`` in the domain, special-use domains, lengths near a limit)
    gives None and goes through ``email_validator``.
    """
    local, at, domain = text.partition("@")
    if not at or len(text) > 254:
        return None
    plain = _DOMAINS.get(domain, _UNSEEN)
    if plain is _UNSEEN:
        plain = _plain_domain(domain)
    if plain is None or _PLAIN_LOCAL.fullmatch(local) is None or local.lower() in CASE_INSENSITIVE_MAILBOXES:
        return None
    return f"{local}@{plain}"


_UNSEEN: Any = object()
#: _plain_domain's answers: the addresses of a file share a few domains, and checking one took
#: half of plain_email.
_DOMAINS: dict[str, str | None] = {}


def _plain_domain(domain: str) -> str | None:
    """``domain`` lowercased when it is plain (see :func:`plain_email`), else None; remembered."""
    plain = None
    if len(domain) <= 253 and "--" not in domain and _PLAIN_DOMAIN.fullmatch(domain) is not None:
        plain = domain.lower()
        if any(plain == special or plain.endswith("." + special) for special in SPECIAL_USE_DOMAINS):
            plain = None
    if len(_DOMAINS) >= 1024:
        _DOMAINS.clear()
    _DOMAINS[domain] = plain
    return plain


def normalize_email(value: Any, field: str = "email") -> str:
    """Check an address's syntax and return it normalised (domain lowercased, IDNA handled).

    Deliverability is not checked: that would need the network.
    """
    text = str(value).strip()
    plain = plain_email(text)
    if plain is not None:
        return plain
    import email_validator  # imported here: only writes need it

    try:
        return email_validator.validate_email(text, check_deliverability=False).normalized
    except email_validator.EmailNotValidError as err:
        raise ValidationError(field, value, f"is not a valid email address: {err}") from None


#: A number already written in E.164 form: a plus and digits only, no leading zero.
_E164 = re.compile(r"\+[1-9][0-9]{3,19}")


def e164_phone(text: str) -> str | None:
    """``text`` itself if it is a possible number written in E.164 form, else None.

    ``phonenumbers.parse`` takes ~50 us a number, and files exported from other
    tools (and from crmkit) hold E.164 numbers already. For those the parser
    changes nothing unless the national number starts with 0 or with what the
    country's national prefix pattern matches, and whether the number is
    possible depends only on the calling code and the length, which
    :func:`_possible_length` asks ``phonenumbers`` once per pair. Anything
    else (spaces, a prefix it would strip) gives None and goes through ``phonenumbers``.
    """
    if _E164.fullmatch(text) is None:
        return None
    digits = text[1:]
    for size in (1, 2, 3):
        code = int(digits[:size])
        prefix = _national_prefix(code)
        if prefix is _NO_SUCH_CODE:
            continue
        national = digits[size:]
        if (len(national) < 2 or national[0] == "0" or (prefix is not None and prefix.match(national))
                or not _possible_length(code, len(national))):
            return None
        return text
    return None


_NO_SUCH_CODE = re.compile("")


@functools.cache
def _national_prefix(country_code: int) -> re.Pattern[str] | None:
    """The national prefix pattern the parser strips for this calling code (None: none;
    ``_NO_SUCH_CODE``: no country has this code)."""
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, region_code_for_country_code

    if country_code not in COUNTRY_CODE_TO_REGION_CODE:
        return _NO_SUCH_CODE
    region = region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    pattern = metadata.national_prefix_for_parsing if metadata is not None else None
    return re.compile(pattern) if pattern else None


@functools.cache
def _supported_regions() -> frozenset[str]:
    from phonenumbers import SUPPORTED_REGIONS

    return frozenset(SUPPORTED_REGIONS)


@functools.cache
def _possible_length(country_code: int, length: int) -> bool:
    import phonenumbers

    number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int("9" * length))
    return phonenumbers.is_possible_number(number)


def normalize_phone(value: Any, region: str | None, field: str = "phone") -> str:
    """Return the number in E.164 form (``+4722334455``).

    Numbers without a leading ``+`` are read as local numbers of ``region``
    (an ISO country code such as ``GB``); without a region they must be international.
    """
    text = str(value).strip()
    if region is None or region.upper() in _supported_regions():
        fast = e164_phone(text)
        if fast is not None:
            return fast
    import phonenumbers

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


def parse_past(value: Any, now: datetime, field: str = "at") -> datetime:
    """:func:`parse_when` for the time of something that happened: None means ``now``, and a time
    in the future (beyond :data:`CLOCK_SKEW`) is a ValidationError naming ``field``."""
    when = now if value is None else parse_when(value, now, field)
    if when > now + CLOCK_SKEW:
        raise ValidationError(field, value, "is in the future")
    return when


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
