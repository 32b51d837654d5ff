"""RFM analysis as pure functions: quintile scores, the standard segments and value tiers.

**Scores.** Recency (days since the last purchase, fewer is better),
frequency (number of purchases) and monetary value (total spend) are each
scored 1 to 5 over the customers who bought, by quintile of their *rank*:

    score = min(5, 1 + floor(5 x worse / (n - 1)))

where ``n`` is the number of customers scored and ``worse`` the number of
them with a strictly worse value. So the best customers score 5 and the
worst 1 (even when only a few bought), each fifth of the ranks in between
one score, and **ties always share a score**: customers with equal values
get the score of the lowest place their group occupies, whatever order they
come in. With ten customers who bought 1, 1, 1, 1, 1, 1, 2, 2, 3 and 8
times, the six one-time buyers score F=1 (nobody is worse), the two with 2
purchases F=4 (six are worse: 1 + floor(30 / 9)), the 3 and the 8 F=5.
Large ties (most shops' one-time buyers) therefore never get spread over
several scores by accident of sorting. When everybody has the same value
(or only one customer bought) there is nothing to rank, and all score 3.

**Segments** come from the R and F scores (rows R, columns F):

    R\\F   1                2                   3                   4            5
    5     new              potential_loyalist  potential_loyalist  champions    champions
    4     promising        potential_loyalist  potential_loyalist  loyal        loyal
    3     about_to_sleep   about_to_sleep      needs_attention     loyal        loyal
    2     hibernating      hibernating         at_risk             at_risk      cannot_lose
    1     lost             lost                at_risk             at_risk      cannot_lose

This is the widely used R/F segment map, with its low-low corner split into
*hibernating* (R=2) and *lost* (R=1).

**Value tiers** come from the M score: 5 platinum, 4 gold, 3 silver, 1-2
bronze (the top fifth of spenders is platinum).

>>> [s.segment for s in score_customers([Purchaser(customer_id="C-1", recency_days=3, frequency=9, monetary=900.0),
...                                       Purchaser(customer_id="C-2", recency_days=300, frequency=1, monetary=20.0)])]
['champions', 'lost']
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

from crmkit import ValidationError

SEGMENTS = ("champions", "loyal", "potential_loyalist", "new", "promising", "needs_attention", "about_to_sleep",
            "at_risk", "cannot_lose", "hibernating", "lost")
#: What each segment means and what a shop usually does about it.
SEGMENT_ADVICE = {
    "champions": "bought recently, buy often and spend the most: reward them, ask for reviews",
    "loyal": "buy regularly: offer the loyalty programme's next level, upsell",
    "potential_loyalist": "recent customers with a few purchases: membership and recommendations",
    "new": "bought for the first time, recently: onboarding, a second-purchase offer",
    "promising": "recent one-time buyers: build the relationship, no discounts yet",
    "needs_attention": "above average but slipping: limited-time offers based on past purchases",
    "about_to_sleep": "below average and fading: share popular products, reconnect",
    "at_risk": "bought often, but long ago: personal win-back messages",
    "cannot_lose": "were the best customers, gone quiet: win them back, ask what went wrong",
    "hibernating": "few purchases, long ago: relevant offers only",
    "lost": "lowest recency and frequency: leave out of regular campaigns",
}
#: (R score, F score) -> segment; see the module documentation for the table.
SEGMENT_MAP: dict[tuple[int, int], str] = {}
for _r, _row in {
    5: ("new", "potential_loyalist", "potential_loyalist", "champions", "champions"),
    4: ("promising", "potential_loyalist", "potential_loyalist", "loyal", "loyal"),
    3: ("about_to_sleep", "about_to_sleep", "needs_attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"),
    1: ("lost", "lost", "at_risk", "at_risk", "cannot_lose"),
}.items():
    for _f, _segment in enumerate(_row, start=1):
        SEGMENT_MAP[(_r, _f)] = _segment

TIERS = ("platinum", "gold", "silver", "bronze")
#: M score -> value tier.
TIER_MAP = {5: "platinum", 4: "gold", 3: "silver", 2: "bronze", 1: "bronze"}


def quintile_scores(values: Sequence[float], *, higher_is_better: bool = True) -> list[int]:
    """Score each value 1-5 by quintile of its rank; equal values share a score (see the module docs).

    >>> quintile_scores([1, 1, 1, 1, 1, 1, 2, 2, 3, 8])
    [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    >>> quintile_scores([40, 10, 200, 5, 90], higher_is_better=False)
    [3, 4, 1, 5, 2]
    """
    n = len(values)
    ordered = sorted(values)
    if not ordered or ordered[0] == ordered[-1]:
        return [3] * n
    scores = []
    for value in values:
        worse = bisect_left(ordered, value) if higher_is_better else n - bisect_right(ordered, value)
        scores.append(min(5, 1 + (5 * worse) // (n - 1)))
    return scores


def segment_for(r: int, f: int) -> str:
    """The segment of an R and F score (1-5 each)."""
    try:
        return SEGMENT_MAP[(r, f)]
    except KeyError:
        raise ValidationError("score", (r, f), "R and F scores must be whole numbers from 1 to 5") from None


def tier_for(m: int) -> str:
    """The value tier of an M score (1-5)."""
    try:
        return TIER_MAP[m]
    except KeyError:
        raise ValidationError("score", m, "an M score must be a whole number from 1 to 5") from None


def check_segment(name: str) -> str:
    """The segment called ``name`` (case, spaces and dashes aside); ValidationError listing the segments."""
    wanted = str(name).strip().casefold().replace(" ", "_").replace("-", "_")
    aliases = {"need_attention": "needs_attention", "cant_lose": "cannot_lose", "potential_loyalists": "potential_loyalist",
               "new_customers": "new", "loyal_customers": "loyal"}
    wanted = aliases.get(wanted, wanted)
    if wanted in SEGMENTS:
        return wanted
    raise ValidationError("segment", name, f"must be one of {', '.join(SEGMENTS)}")


def check_tier(name: str) -> str:
    """The tier called ``name`` (any case); ValidationError listing the tiers."""
    wanted = str(name).strip().casefold()
    if wanted in TIERS:
        return wanted
    raise ValidationError("tier", name, f"must be one of {', '.join(TIERS)}")


@attrs.frozen(kw_only=True)
class Purchaser:
    """One customer's RFM inputs: days since the last purchase, number of purchases, total spend."""

    customer_id: str
    recency_days: int
    frequency: int
    monetary: float
    last_purchase_at: datetime | None = None


@attrs.frozen(kw_only=True)
class RfmScore:
    """A customer's scores, segment and tier, with the inputs they came from."""

    customer_id: str
    recency_days: int
    frequency: int
    monetary: float
    r: int
    f: int
    m: int
    segment: str
    tier: str
    last_purchase_at: datetime | None = None

    @property
    def code(self) -> str:
        """The scores as the usual three digits, R then F then M (``"545"``)."""
        return f"{self.r}{self.f}{self.m}"


def score_customers(purchasers: Sequence[Purchaser]) -> list[RfmScore]:
    """Score every purchaser against the others; the result keeps their order."""
    if not purchasers:
        return []
    rs = quintile_scores([p.recency_days for p in purchasers], higher_is_better=False)
    fs = quintile_scores([p.frequency for p in purchasers])
    ms = quintile_scores([p.monetary for p in purchasers])
    return [
        RfmScore(customer_id=p.customer_id, recency_days=p.recency_days, frequency=p.frequency, monetary=p.monetary,
                 r=r, f=f, m=m, segment=segment_for(r, f), tier=tier_for(m), last_purchase_at=p.last_purchase_at)
        for p, r, f, m in zip(purchasers, rs, fs, ms, strict=True)
    ]


@attrs.frozen(kw_only=True)
class GroupSummary:
    """One segment (or tier): how many customers, what they spent, and their average R, F and M inputs.

    ``share`` and ``revenue_share`` are fractions (0-1) of all scored customers
    and of their total spend; the averages are None for an empty group.
    """

    name: str
    customers: int
    share: float
    revenue: float
    revenue_share: float
    avg_recency_days: float | None
    avg_frequency: float | None
    avg_monetary: float | None


def summarize(scores: Iterable[RfmScore], *, by: str = "segment") -> list[GroupSummary]:
    """Counts and revenue per segment (``by="segment"``, in :data:`SEGMENTS` order) or per tier (``by="tier"``).

    Every segment or tier is listed, empty ones too, so reports over time line up.
    """
    if by not in ("segment", "tier"):
        raise ValidationError("by", by, "must be segment or tier")
    names = SEGMENTS if by == "segment" else TIERS
    groups: dict[str, list[RfmScore]] = {name: [] for name in names}
    for score in scores:
        groups[getattr(score, by)].append(score)
    total_customers = sum(len(g) for g in groups.values())
    total_revenue = math.fsum(s.monetary for g in groups.values() for s in g)
    result = []
    for name, members in groups.items():
        revenue = round(math.fsum(s.monetary for s in members), 2)
        count = len(members)
        result.append(GroupSummary(
            name=name, customers=count,
            share=round(count / total_customers, 4) if total_customers else 0.0,
            revenue=revenue,
            revenue_share=round(revenue / total_revenue, 4) if total_revenue else 0.0,
            avg_recency_days=round(sum(s.recency_days for s in members) / count, 1) if count else None,
            avg_frequency=round(sum(s.frequency for s in members) / count, 2) if count else None,
            avg_monetary=round(revenue / count, 2) if count else None,
        ))
    return result


__all__ = [
    "GroupSummary", "Purchaser", "RfmScore", "SEGMENTS", "SEGMENT_ADVICE", "SEGMENT_MAP", "TIERS", "TIER_MAP",
    "check_segment", "check_tier", "quintile_scores", "score_customers", "segment_for", "summarize", "tier_for",
]
