from decimal import Decimal

import pytest

from crmkit.errors import ValidationError
from crmkit.models.money import parse_amount, parse_currency


@pytest.mark.parametrize("value, expected", [
    ("1200.50", 1200.5), (1200, 1200.0), (Decimal("0.125"), 0.12), (0.1 + 0.2, 0.3), (" 7 ", 7.0), ("1_000", 1000.0),
])
def test_amounts_round_to_cents(value, expected):
    assert parse_amount("amount", value) == expected


def test_currencies_without_minor_unit_round_to_whole_units():
    assert parse_amount("amount", "1500.6", currency="JPY") == 1501.0


@pytest.mark.parametrize("value", ["1,200.50", "12e3", "abc", "", None, True, float("nan"), "inf", "-5", 1e20])
def test_bad_amounts_name_the_field(value):
    with pytest.raises(ValidationError) as err:
        parse_amount("amount", value)
    assert err.value.field == "amount"


def test_negative_amounts_only_when_allowed():
    assert parse_amount("amount", "-5.5", negative=True) == -5.5


@pytest.mark.parametrize("value, expected", [("eur", "EUR"), (" NOK ", "NOK")])
def test_currency_codes(value, expected):
    assert parse_currency("currency", value) == expected


@pytest.mark.parametrize("value", ["EURO", "E1R", "", 978, None])
def test_bad_currency(value):
    with pytest.raises(ValidationError) as err:
        parse_currency("currency", value)
    assert err.value.field == "currency"
