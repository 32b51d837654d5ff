"""The fast paths of normalisation give exactly what the libraries give."""

from __future__ import annotations

import email_validator
import pytest
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import ValidationError
from crmkit.services.normalize import (
    CASE_INSENSITIVE_MAILBOXES,
    SPECIAL_USE_DOMAINS,
    normalize_email,
    plain_email,
)


def library(text: str) -> str | None:
    """What email_validator makes of an address (None: refused)."""
    try:
        return email_validator.validate_email(text, check_deliverability=False).normalized
    except email_validator.EmailNotValidError:
        return None


def test_the_copied_lists_match_email_validator():
    assert CASE_INSENSITIVE_MAILBOXES == frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
    assert tuple(SPECIAL_USE_DOMAINS) == tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES)


EDGE_CASES = [
    "ann.lee@example.com", "Ann.Lee@Example.COM", "a@b.co", "a@b.c9", "a@b.9c", "a@1.com", "a@b-c.d-e.fg",
    "a@b--c.com", "a@xn--bcher-kva.example", "info@x.com", "INFO@x.com", "a@localhost", "a@x.test", "a@x.TEST",
    "a@test.com", "a@x.local", "a@x.onion", "a@x.arpa", "a@home.arpa", "a..b@x.com", ".a@x.com", "a.@x.com",
    "a@-x.com", "a@x-.com", "a@x.com.", "a@.x.com", '"a"@x.com', "a@b", "a@@b.com", "a b@x.com", "a@x .com",
    "Ann <a@x.com>", "a@[1.2.3.4]", "ä@x.com", "a@bücher.de", "a@x.co\u200b", "!#$%&'*+/=?^_`{|}~-@x.com",
    "a" * 64 + "@x.com", "a" * 65 + "@x.com", "a@" + "b" * 63 + ".com", "a@" + "b" * 64 + ".com",
    "a" * 200 + "@" + "b" * 49 + ".com", "a" * 200 + "@" + "b" * 50 + ".com", "a@" + ("b" * 60 + ".") * 4 + "co",
    "", "@", "a@", "@x.com",
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_plain_addresses_match_email_validator(text):
    plain = plain_email(text)
    if plain is not None:
        assert plain == library(text)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_normalize_email_matches_email_validator(text):
    expected = library(text.strip())
    if expected is None:
        with pytest.raises(ValidationError):
            normalize_email(text)
    else:
        assert normalize_email(text) == expected


_LOCAL_CHARS = "aZ09._-+!#'`~{|}\"@ ä"
_DOMAIN_CHARS = "aZ09.-_ ä"
_TLDS = st.sampled_from(["com", "CO", "c9", "9c", "x-y", "test", "local", "arpa", "xn--p1ai", "a", ""])


@settings(max_examples=400, deadline=None)
@given(local=st.text(_LOCAL_CHARS, min_size=0, max_size=12),
       domain=st.text(_DOMAIN_CHARS, min_size=0, max_size=12), tld=_TLDS,
       mailbox=st.sampled_from(["", "info", "Sales", "postmaster"]))
def test_fast_path_agrees_with_email_validator(local, domain, tld, mailbox):
    text = f"{mailbox or local}@{domain}.{tld}" if tld else f"{mailbox or local}@{domain}"
    plain = plain_email(text)
    if plain is not None:
        assert plain == library(text)


def test_parse_past_reads_like_parse_when_and_refuses_the_future():
    from datetime import datetime, timedelta, timezone

    import pytest

    from crmkit.errors import ValidationError
    from crmkit.services.normalize import CLOCK_SKEW, parse_past, parse_when

    now = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    assert parse_past(None, now) == now
    assert parse_past("2h ago", now) == parse_when("2h ago", now) == now - timedelta(hours=2)
    assert parse_past(now + CLOCK_SKEW, now) == now + CLOCK_SKEW  # another machine's clock may run ahead
    with pytest.raises(ValidationError) as err:
        parse_past("2026-03-03", now, "closed_at")
    assert (err.value.field, err.value.reason) == ("closed_at", "is in the future")


# -- phone numbers ------------------------------------------------------------------------

import phonenumbers  # noqa: E402

from crmkit.services.normalize import e164_phone, normalize_phone  # noqa: E402


def phone_library(text: str, region: str | None = None) -> str | None:
    """What phonenumbers makes of a number, as normalize_phone's slow path does (None: refused)."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


PHONE_EDGE_CASES = [
    "+4722334455", "+47223344", "+472233445566", "+4702233445", "+441234567890", "+4401234567890",
    "+12025550123", "+112025550123", "+3906698321", "+390669832100", "+5491123456789", "+54911234567890",
    "+80012345678", "+882123456", "+999123456", "+1234", "+12", "+0123456789", "+4912345678901234567",
]


@pytest.mark.parametrize("text", PHONE_EDGE_CASES)
def test_e164_fast_path_matches_phonenumbers(text):
    fast = e164_phone(text)
    if fast is not None:
        assert fast == phone_library(text)
    expected = phone_library(text)
    if expected is None:
        with pytest.raises(ValidationError):
            normalize_phone(text, None)
    else:
        assert normalize_phone(text, "NO") == normalize_phone(text, None) == expected


def test_the_fast_path_takes_plain_e164_numbers():
    # what exports hold; a fast path that never fires would pass the agreement tests
    assert e164_phone("+4722334455") == "+4722334455"
    assert e164_phone("+12025550123") == "+12025550123"
    assert e164_phone("+47 22 33 44 55") is None  # spaces: the parser decides


_CALLING_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


@settings(max_examples=1500, deadline=None)
@given(code=st.sampled_from(_CALLING_CODES), national=st.text("0123456789", min_size=0, max_size=18))
def test_e164_fast_path_agrees_with_phonenumbers_for_every_calling_code(code, national):
    text = f"+{code}{national}"
    fast = e164_phone(text)
    if fast is not None:
        assert fast == phone_library(text)
