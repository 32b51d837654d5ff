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
