"""The finance trade's rules as pure functions: risk scoring, KYC review dates, complaint deadlines.

Nothing here reads or writes a store; :mod:`crmkit_finance.finance` applies
these rules to customers and tickets. Every number a compliance officer may
want to change is a module constant, documented in ``docs/plugins/finance.md``.

>>> result = assess_risk(pep=True, country="NO", source_of_funds="salary", products=["savings account"], aum=0)
>>> result.score, result.rating
(40, 'high')
>>> next_review(date(2025, 3, 1), result.rating).isoformat()
'2026-03-01'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs

# -- risk scoring ----------------------------------------------------------------

RATINGS = ("low", "medium", "high")
#: A score of at least this is a medium rating; below it, low.
MEDIUM_FROM = 20
#: A score of at least this is a high rating.
HIGH_FROM = 40

#: A politically exposed person (or a family member or close associate of one).
PEP_POINTS = 40
#: FATF "high-risk jurisdictions subject to a call for action" (the black list), June 2025.
HIGH_RISK_COUNTRIES = frozenset({"KP", "IR", "MM"})
HIGH_RISK_COUNTRY_POINTS = 40
#: FATF "jurisdictions under increased monitoring" (the grey list), June 2025. It changes three
#: times a year: your compliance team owns the real list.
MONITORED_COUNTRIES = frozenset({
    "DZ", "AO", "BO", "BG", "BF", "CM", "CI", "HR", "CD", "HT", "KE", "LA", "LB", "MC", "MZ", "NA", "NP",
    "NG", "ZA", "SS", "SY", "VE", "VN", "VG", "YE",
})
MONITORED_COUNTRY_POINTS = 20
#: Where the customer's money comes from, and how hard that is to verify.
SOURCE_OF_FUNDS_POINTS = {
    "salary": 0, "pension": 0, "savings": 5, "investment income": 5, "business income": 10,
    "inheritance": 10, "property sale": 10, "gift": 15, "crypto assets": 20, "other": 20,
}
#: No source of funds declared yet.
UNDECLARED_FUNDS_POINTS = 25
#: Products, by how easily they move money; the riskiest product the customer holds counts.
PRODUCT_POINTS = {
    "current account": 0, "savings account": 0, "mortgage": 0, "loan": 0, "pension": 0,
    "investment fund": 5, "brokerage": 5, "private banking": 10, "international payments": 15,
    "trade finance": 15, "crypto custody": 20,
}
#: Assets under management (in the firm's reporting currency, NOK): (at least, points), largest first.
AUM_BANDS = ((50_000_000, 15), (10_000_000, 10), (2_500_000, 5))

SOURCES_OF_FUNDS = tuple(SOURCE_OF_FUNDS_POINTS)
PRODUCTS = tuple(PRODUCT_POINTS)


@attrs.frozen
class RiskFactor:
    """One reason behind a score: which factor, how many points, and why in words."""

    factor: str
    points: int
    reason: str

    def __str__(self) -> str:
        return f"+{self.points} {self.reason}"


@attrs.frozen
class Assessment:
    """A risk score, its rating, and every factor that added points (in the order of the rule)."""

    score: int
    rating: str
    factors: tuple[RiskFactor, ...] = ()

    @property
    def reasons(self) -> list[str]:
        """The factors as short sentences; ``["no risk factors"]`` when there are none."""
        return [str(f) for f in self.factors] or ["no risk factors"]


def rating_for(score: int) -> str:
    """``low`` below :data:`MEDIUM_FROM`, ``high`` from :data:`HIGH_FROM`, ``medium`` between."""
    if score >= HIGH_FROM:
        return "high"
    if score >= MEDIUM_FROM:
        return "medium"
    return "low"


def assess_risk(*, pep: bool = False, country: str | None = None, source_of_funds: str | None = None,
                products: Iterable[str] = (), aum: float | None = None) -> Assessment:
    """Score a customer's money-laundering risk from their attributes (points per factor, summed).

    - ``pep``: +40.
    - ``country`` of residence: +40 on the FATF black list, +20 on the grey list.
    - ``source_of_funds``: 0 (salary, pension) to 20 (crypto assets, other); +25 when not declared.
    - ``products``: the points of the riskiest one (0 for accounts and loans, 20 for crypto custody).
    - ``aum``: +5 from 2.5 million, +10 from 10 million, +15 from 50 million.

    The rating follows the total (:func:`rating_for`).

    >>> assess_risk(source_of_funds="salary", products=["current account"], aum=400_000).rating
    'low'
    >>> r = assess_risk(country="ZA", source_of_funds="business income", products=["brokerage"])
    >>> r.score, r.rating, r.reasons[0]
    (35, 'medium', '+20 resident in ZA (FATF grey list)')
    """
    factors = []
    if pep:
        factors.append(RiskFactor("pep", PEP_POINTS, "politically exposed person"))
    code = (country or "").strip().upper()
    if code in HIGH_RISK_COUNTRIES:
        factors.append(RiskFactor("country", HIGH_RISK_COUNTRY_POINTS, f"resident in {code} (FATF black list)"))
    elif code in MONITORED_COUNTRIES:
        factors.append(RiskFactor("country", MONITORED_COUNTRY_POINTS, f"resident in {code} (FATF grey list)"))
    if not source_of_funds:
        factors.append(RiskFactor("source of funds", UNDECLARED_FUNDS_POINTS, "source of funds not declared"))
    elif SOURCE_OF_FUNDS_POINTS.get(source_of_funds, 0):
        factors.append(RiskFactor("source of funds", SOURCE_OF_FUNDS_POINTS[source_of_funds],
                                  f"funds from {source_of_funds}"))
    riskiest = max(products, key=lambda p: PRODUCT_POINTS.get(p, 0), default=None)
    if riskiest is not None and PRODUCT_POINTS.get(riskiest, 0):
        factors.append(RiskFactor("products", PRODUCT_POINTS[riskiest], f"holds {riskiest}"))
    for floor, points in AUM_BANDS:
        if aum is not None and aum >= floor:
            factors.append(RiskFactor("assets", points, f"assets of {floor:,} or more"))
            break
    score = sum(f.points for f in factors)
    return Assessment(score=score, rating=rating_for(score), factors=tuple(factors))


def risk_inputs(fields: Mapping[str, Any], address_country: str | None = None) -> dict[str, Any]:
    """The keyword arguments of :func:`assess_risk` from a customer's custom fields.

    The country is ``residence_country``, else the country of the customer's address.
    """
    return {
        "pep": bool(fields.get("pep")),
        "country": fields.get("residence_country") or address_country,
        "source_of_funds": fields.get("source_of_funds"),
        "products": tuple(fields.get("products") or ()),
        "aum": fields.get("aum"),
    }


# -- KYC reviews -----------------------------------------------------------------

#: Years between KYC reviews, by risk rating (counted from the last approval).
REVIEW_YEARS = {"high": 1, "medium": 2, "low": 3}


def next_review(approved_on: date, rating: str) -> date:
    """When a KYC approved on ``approved_on`` must be reviewed: 1, 2 or 3 years later by rating.

    An approval on 29 February is due on 28 February of a year that has none.

    >>> next_review(date(2024, 2, 29), "low").isoformat()
    '2027-02-28'
    """
    years = approved_on.year + REVIEW_YEARS[rating]
    try:
        return approved_on.replace(year=years)
    except ValueError:
        return approved_on.replace(year=years, day=28)


# -- suitability -----------------------------------------------------------------

#: Risk tolerance (suitability) classes, most careful first.
RISK_TOLERANCES = ("conservative", "cautious", "balanced", "growth", "adventurous")
#: The lowest risk tolerance each product suits; products left out suit everyone.
PRODUCT_MIN_TOLERANCE = {"investment fund": "cautious", "brokerage": "balanced", "private banking": "balanced",
                         "crypto custody": "adventurous"}


def suitability_warnings(tolerance: str | None, products: Iterable[str]) -> list[str]:
    """Products that need a higher risk tolerance than the customer's (MiFID II suitability).

    >>> suitability_warnings("cautious", ["savings account", "brokerage"])
    ['brokerage needs a risk tolerance of balanced or higher (customer: cautious)']
    """
    if tolerance not in RISK_TOLERANCES:
        return []
    level = RISK_TOLERANCES.index(tolerance)
    return [f"{product} needs a risk tolerance of {PRODUCT_MIN_TOLERANCE[product]} or higher (customer: {tolerance})"
            for product in products
            if product in PRODUCT_MIN_TOLERANCE and RISK_TOLERANCES.index(PRODUCT_MIN_TOLERANCE[product]) > level]


# -- complaint deadlines ---------------------------------------------------------

#: Business days a firm has to answer a complaint (PSD2 art. 101 for payment services).
COMPLAINT_DEADLINE_DAYS = 15


def is_business_day(calendar: Any, day: date) -> bool:
    """Whether ``calendar`` (a :class:`crmkit.BusinessHours`) has working hours on ``day``."""
    zone = ZoneInfo(calendar.timezone)
    start = datetime.combine(day, time(), zone)
    return calendar.between(start, datetime.combine(day + timedelta(days=1), time(), zone)) > 0


def business_days_between(calendar: Any, start: date, end: date) -> int:
    """Business days after ``start`` up to and including ``end``; negative when ``end`` is before ``start``."""
    sign = 1 if end >= start else -1
    low, high = (start, end) if sign == 1 else (end, start)
    count, day = 0, low + timedelta(days=1)
    while day <= high:
        count += is_business_day(calendar, day)
        day += timedelta(days=1)
    return sign * count


def complaint_deadline(calendar: Any, received: date, days: int = COMPLAINT_DEADLINE_DAYS) -> date:
    """The last day to answer a complaint received on ``received``: the ``days``-th business day after it.

    The day of receipt does not count, and the answer is due by the end of the deadline day.
    """
    day, left = received, days
    for _ in range(days * 7 + 366):  # a calendar always has a working day within a year of holidays
        if left == 0:
            return day
        day += timedelta(days=1)
        left -= is_business_day(calendar, day)
    raise ValueError(f"no {days} business days within a year after {received}")


def local_date(calendar: Any, moment: datetime) -> date:
    """The date of ``moment`` in the calendar's time zone."""
    return moment.astimezone(ZoneInfo(calendar.timezone)).date()


# -- national ids -----------------------------------------------------------------

#: What any national or tax id must look like once spaces, dashes, dots and slashes are removed.
ID_MIN, ID_MAX = 5, 20
_SEPARATORS = str.maketrans("", "", " -./")


def _digits(value: str) -> str:
    return value.translate(_SEPARATORS)


def check_id_shape(value: str) -> None:
    """The general rule for every country: 5 to 20 letters and digits (separators aside)."""
    core = _digits(value)
    if not (ID_MIN <= len(core) <= ID_MAX and core.isascii() and core.isalnum()):
        raise ValueError(f"must be {ID_MIN} to {ID_MAX} letters and digits (spaces, dashes, dots and "
                         "slashes are ignored)")


def _valid_day(day: int, month: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= (29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)


def _check_no(value: str) -> None:
    """Norwegian fødselsnummer or D-number: 11 digits, a date, and two mod-11 check digits."""
    digits = _digits(value)
    if len(digits) != 11 or not digits.isdigit():
        raise ValueError("a Norwegian fødselsnummer has 11 digits")
    d = [int(c) for c in digits]
    day, month = d[0] * 10 + d[1], d[2] * 10 + d[3]
    day -= 40 if day > 40 else 0            # D-number
    month -= 80 if month > 80 else 40 if month > 40 else 0   # synthetic (test) and H-numbers
    if not _valid_day(day, month):
        raise ValueError("does not start with a valid date (DDMMYY)")
    if no_check_digits(digits[:9]) != digits[9:]:
        raise ValueError("has wrong check digits for a Norwegian fødselsnummer")


def no_check_digits(first9: str) -> str | None:
    """The two mod-11 check digits of a Norwegian fødselsnummer's first nine digits (None: no valid pair)."""
    d = [int(c) for c in first9]
    k1 = (11 - sum(w * x for w, x in zip((3, 7, 6, 1, 8, 9, 4, 5, 2), d)) % 11) % 11
    k2 = (11 - sum(w * x for w, x in zip((5, 4, 3, 2, 7, 6, 5, 4, 3, 2), [*d, k1])) % 11) % 11
    return None if 10 in (k1, k2) else f"{k1}{k2}"


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        n = int(c) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _check_se(value: str) -> None:
    """Swedish personnummer (YYMMDD-NNNC or YYYYMMDDNNNC): a date and a Luhn check digit."""
    digits = value.replace("+", "").translate(_SEPARATORS)
    if len(digits) == 12:
        digits = digits[2:]
    if len(digits) != 10 or not digits.isdigit():
        raise ValueError("a Swedish personnummer has 10 or 12 digits")
    day = int(digits[4:6])
    if not _valid_day(day - 60 if day > 60 else day, int(digits[2:4])):   # samordningsnummer: day + 60
        raise ValueError("does not hold a valid date (YYMMDD)")
    if not _luhn_ok(digits):
        raise ValueError("has a wrong check digit for a Swedish personnummer")


FI_CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def _check_fi(value: str) -> None:
    """Finnish henkilötunnus DDMMYYCZZZQ: a date, a century sign and a mod-31 check character."""
    text = value.strip().upper()
    if len(text) != 11 or text[6] not in "+-YXWVUABCDEF" or not (text[:6] + text[7:10]).isdigit():
        raise ValueError("a Finnish henkilötunnus looks like 131052-308T")
    if not _valid_day(int(text[:2]), int(text[2:4])):
        raise ValueError("does not start with a valid date (DDMMYY)")
    if FI_CHECK_CHARS[int(text[:6] + text[7:10]) % 31] != text[10]:
        raise ValueError("has a wrong check character for a Finnish henkilötunnus")


def _check_dk(value: str) -> None:
    """Danish CPR number DDMMYY-SSSS: ten digits starting with a date (no checksum since 2007)."""
    digits = _digits(value)
    if len(digits) != 10 or not digits.isdigit():
        raise ValueError("a Danish CPR number has 10 digits")
    if not _valid_day(int(digits[:2]), int(digits[2:4])):
        raise ValueError("does not start with a valid date (DDMMYY)")


def _check_us(value: str) -> None:
    """US social security number AAA-GG-SSSS: no area 000, 666 or 900-999, no group 00, no serial 0000."""
    digits = _digits(value)
    if len(digits) != 9 or not digits.isdigit():
        raise ValueError("a US social security number has 9 digits (AAA-GG-SSSS)")
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        raise ValueError("is not a social security number the SSA issues")


_GB_BAD_PREFIXES = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})


def _check_gb(value: str) -> None:
    """UK National Insurance number: two letters, six digits, a letter A-D (like QQ 12 34 56 C)."""
    text = _digits(value).upper()
    if (len(text) != 9 or not text[:2].isalpha() or not text[2:8].isdigit() or text[8] not in "ABCD"
            or (text[:2] != "QQ" and (text[0] in "DFIQUV" or text[1] in "DFIOQUV"))
            or text[:2] in _GB_BAD_PREFIXES):
        raise ValueError("is not a UK National Insurance number (like QQ 12 34 56 C)")


#: Countries whose id format is checked beyond the general rule.
ID_CHECKS = {"NO": _check_no, "SE": _check_se, "FI": _check_fi, "DK": _check_dk, "US": _check_us, "GB": _check_gb}


def check_national_id(value: str, country: str | None) -> None:
    """Raise ValueError (with the reason) unless ``value`` is a valid id for ``country``.

    Countries in :data:`ID_CHECKS` get their own format and checksum; every
    other country gets the general rule (:func:`check_id_shape`).

    >>> check_national_id("131052-308T", "FI")
    >>> check_national_id("131052-308A", "FI")
    Traceback (most recent call last):
    ValueError: has a wrong check character for a Finnish henkilötunnus
    """
    check_id_shape(value)
    checker = ID_CHECKS.get((country or "").upper())
    if checker is not None:
        checker(value)


def check_country(value: str) -> None:
    """A two-letter ISO 3166 country code in capitals."""
    if not (len(value) == 2 and value.isascii() and value.isalpha() and value.isupper()):
        raise ValueError("must be a two-letter country code in capitals, like NO or GB")


__all__ = [
    "AUM_BANDS", "COMPLAINT_DEADLINE_DAYS", "HIGH_FROM", "HIGH_RISK_COUNTRIES", "ID_CHECKS", "MEDIUM_FROM",
    "MONITORED_COUNTRIES", "PEP_POINTS", "PRODUCTS", "PRODUCT_POINTS", "RATINGS", "REVIEW_YEARS", "RISK_TOLERANCES",
    "SOURCES_OF_FUNDS", "SOURCE_OF_FUNDS_POINTS", "Assessment", "RiskFactor", "assess_risk", "business_days_between",
    "check_country", "check_id_shape", "check_national_id", "complaint_deadline", "is_business_day", "local_date",
    "next_review", "no_check_digits", "rating_for", "risk_inputs", "suitability_warnings",
]
