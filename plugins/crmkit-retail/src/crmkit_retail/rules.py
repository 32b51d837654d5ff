"""The retail trade's rules as pure functions: field checks, consent proof and the purchase-driven lifecycle.

Nothing here reads or writes a store, so every rule can be tested (and
explained) on plain values. :mod:`crmkit_retail.analysis` feeds them from a
CRM.

The lifecycle rule, with its reasons:

* **first_buyer**: one purchase. The stage a shop works hardest on, because
  the second purchase is the best single predictor that a customer stays.
* **repeat**: 2 or more purchases.
* **loyal**: 5 or more purchases in the last 365 days: about one every ten
  weeks, more than the seasonal rhythm (spring, summer, back-to-school,
  Christmas, sales) of a typical shop's occasional buyer.
* **at_risk**: no purchase for 90 days or more: one season missed. Checked
  before loyal and repeat, so a loyal customer who stops buying is flagged.
* **lapsed**: no purchase for 180 days or more: two seasons missed; the
  customer needs a win-back offer rather than a reminder.

Customers without purchases (visitors and subscribers) are left where they
are: the rule only speaks about people who bought.

>>> from datetime import datetime, timezone
>>> as_of = datetime(2025, 6, 30, tzinfo=timezone.utc)
>>> lifecycle_stage(PurchaseHistory(purchases=3, purchases_in_window=3,
...                                 last_purchase_at=datetime(2025, 6, 1, tzinfo=timezone.utc)), as_of)
('repeat', '3 purchases, 3 in the last 365 days, last 29 days ago')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import attrs

from crmkit import ValidationError

# -- stages ------------------------------------------------------------------------------

VISITOR = "visitor"
SUBSCRIBER = "subscriber"
FIRST_BUYER = "first_buyer"
REPEAT = "repeat"
LOYAL = "loyal"
AT_RISK = "at_risk"
LAPSED = "lapsed"
#: Stages the lifecycle rule puts customers in (the ones that depend on purchases).
PURCHASE_STAGES = (FIRST_BUYER, REPEAT, LOYAL, AT_RISK, LAPSED)

# -- fields ------------------------------------------------------------------------------

#: Upper-case letters and digits, dashes inside: what loyalty cards and shop systems print.
MEMBERSHIP_PATTERN = re.compile(r"[A-Z0-9](?:[A-Z0-9-]{2,22})[A-Z0-9]")
#: The channels crmkit keeps a marketing consent flag for (``Customer.consent``).
CONSENT_CHANNELS = ("email", "sms", "phone", "post")
#: Where a marketing consent was given; recorded with it, as proof.
CONSENT_SOURCES = ("checkout", "web signup", "in store", "app", "double opt-in", "paper form",
                   "shop system import", "other")


def check_membership_number(value: str) -> None:
    """Refuse a membership number that is not 4-24 upper-case letters, digits and inner dashes."""
    if not MEMBERSHIP_PATTERN.fullmatch(value):
        raise ValidationError("fields.membership_number", value,
                              "must be 4 to 24 upper-case letters, digits and dashes, like LC-100234")


def check_points(value: int) -> None:
    """Loyalty points are a balance: zero or more."""
    if value < 0:
        raise ValidationError("fields.loyalty_points", value, "cannot be negative")


def check_past_date(field: str) -> Any:
    """A validator refusing dates after today (a birthday or a consent cannot lie in the future)."""

    def check(value: str) -> None:
        if date.fromisoformat(value) > date.today():
            raise ValidationError(f"fields.{field}", value, "is in the future")

    return check


def consented_channels(consent: Any) -> tuple[str, ...]:
    """The channels a ``crmkit.Consent`` (or a mapping) says yes to, in :data:`CONSENT_CHANNELS` order."""
    if isinstance(consent, Mapping):
        return tuple(ch for ch in CONSENT_CHANNELS if consent.get(ch))
    return tuple(ch for ch in CONSENT_CHANNELS if getattr(consent, ch, False))


def check_consent_proof(consent: Any, fields: Mapping[str, Any]) -> None:
    """Refuse marketing consent that does not say when and how it was given.

    Any channel with consent needs ``fields.consent_date`` and
    ``fields.consent_source``: a shop has to be able to show when and where a
    customer agreed (GDPR article 7(1) and its equivalents). Withdrawn consent
    (no channel) needs neither.
    """
    channels = consented_channels(consent)
    if not channels:
        return
    for field in ("consent_date", "consent_source"):
        if fields.get(field) in (None, ""):
            raise ValidationError(f"fields.{field}", None,
                                  f"is required with marketing consent ({', '.join(channels)}): "
                                  "record when and how the customer agreed")


# -- lifecycle ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class LifecycleRule:
    """The thresholds of the lifecycle rule (see the module documentation for the reasons)."""

    repeat_purchases: int = 2
    loyal_purchases: int = 5
    loyal_window_days: int = 365
    at_risk_days: int = 90
    lapsed_days: int = 180


DEFAULT_RULE = LifecycleRule()


@attrs.frozen(kw_only=True)
class PurchaseHistory:
    """What the rule needs to know about one customer, as of a moment.

    ``purchases`` counts orders up to that moment that were neither returned
    nor cancelled, ``purchases_in_window`` those of the last
    ``loyal_window_days``.
    """

    purchases: int = 0
    purchases_in_window: int = 0
    last_purchase_at: datetime | None = None


def days_since(then: datetime, as_of: datetime) -> int:
    """Whole days from ``then`` to ``as_of`` (23 hours is 0 days; never negative)."""
    return max((as_of - then).days, 0)


def lifecycle_stage(history: PurchaseHistory, as_of: datetime,
                    rule: LifecycleRule = DEFAULT_RULE) -> tuple[str | None, str]:
    """The stage a customer's purchase history puts them in as of ``as_of``, and why.

    Returns ``(None, reason)`` for a customer without purchases: the rule
    leaves visitors and subscribers alone. The checks run in this order, the
    first that holds wins: lapsed (no purchase for ``lapsed_days``), at risk
    (``at_risk_days``), loyal (``loyal_purchases`` in ``loyal_window_days``),
    repeat (``repeat_purchases``), first buyer.
    """
    if history.purchases <= 0 or history.last_purchase_at is None:
        return None, "no purchases"
    days = days_since(history.last_purchase_at, as_of)
    count = "1 purchase" if history.purchases == 1 else f"{history.purchases} purchases"
    reason = (f"{count}, {history.purchases_in_window} in the last {rule.loyal_window_days} days, "
              f"last {days} days ago")
    if days >= rule.lapsed_days:
        return LAPSED, reason
    if days >= rule.at_risk_days:
        return AT_RISK, reason
    if history.purchases_in_window >= rule.loyal_purchases:
        return LOYAL, reason
    if history.purchases >= rule.repeat_purchases:
        return REPEAT, reason
    return FIRST_BUYER, reason


__all__ = [
    "AT_RISK", "CONSENT_CHANNELS", "CONSENT_SOURCES", "DEFAULT_RULE", "FIRST_BUYER", "LAPSED", "LOYAL",
    "LifecycleRule", "MEMBERSHIP_PATTERN", "PURCHASE_STAGES", "PurchaseHistory", "REPEAT", "SUBSCRIBER", "VISITOR",
    "check_consent_proof", "check_membership_number", "check_past_date", "check_points", "consented_channels",
    "days_since", "lifecycle_stage",
]
