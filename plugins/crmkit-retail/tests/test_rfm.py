"""RFM scoring: quintiles with ties, the segment map, tiers and the totals."""

from __future__ import annotations

import doctest
import random

import pytest

import crmkit_retail.rfm as rfm
from crmkit import ValidationError
from crmkit_retail.rfm import Purchaser, quintile_scores, score_customers, summarize


def test_module_examples():
    assert doctest.testmod(rfm).failed == 0


def test_documented_frequency_example():
    assert quintile_scores([1, 1, 1, 1, 1, 1, 2, 2, 3, 8]) == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]


def test_quintiles_are_even_without_ties():
    scores = quintile_scores(list(range(100)))
    assert [scores.count(s) for s in range(1, 6)] == [20, 20, 20, 20, 20]
    assert quintile_scores(list(range(100)), higher_is_better=False) == [6 - s for s in scores]


def test_best_is_five_and_worst_is_one_even_for_few_customers():
    assert quintile_scores([10.0, 20.0]) == [1, 5]
    assert quintile_scores([3, 1, 2]) == [5, 1, 3]


def test_all_equal_or_alone_scores_three():
    assert quintile_scores([7, 7, 7]) == [3, 3, 3]
    assert quintile_scores([4]) == [3]
    assert quintile_scores([]) == []


def test_ties_share_a_score_whatever_the_order():
    values = [1] * 30 + [2] * 10 + [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    expected = dict(zip(values, quintile_scores(values), strict=True))
    for seed in range(5):
        shuffled = values[:]
        random.Random(seed).shuffle(shuffled)
        assert dict(zip(shuffled, quintile_scores(shuffled), strict=True)) == expected
    assert expected[1] == 1  # the one-time buyers are never spread over several scores


def test_segment_map_covers_every_cell_and_every_segment():
    assert len(rfm.SEGMENT_MAP) == 25
    assert set(rfm.SEGMENT_MAP.values()) == set(rfm.SEGMENTS)
    assert rfm.segment_for(5, 5) == "champions"
    assert rfm.segment_for(5, 1) == "new"
    assert rfm.segment_for(4, 1) == "promising"
    assert rfm.segment_for(3, 3) == "needs_attention"
    assert rfm.segment_for(2, 5) == "cannot_lose"
    assert rfm.segment_for(2, 1) == "hibernating"
    assert rfm.segment_for(1, 2) == "lost"
    with pytest.raises(ValidationError):
        rfm.segment_for(0, 3)


def test_tiers_from_the_m_score():
    assert [rfm.tier_for(m) for m in (5, 4, 3, 2, 1)] == ["platinum", "gold", "silver", "bronze", "bronze"]


@pytest.mark.parametrize(("given", "name"), [("Champions", "champions"), ("at risk", "at_risk"),
                                             ("cannot-lose", "cannot_lose"), ("Need Attention", "needs_attention")])
def test_segment_names_are_read_loosely(given, name):
    assert rfm.check_segment(given) == name


def test_unknown_segment_lists_them():
    with pytest.raises(ValidationError, match="champions, loyal"):
        rfm.check_segment("whales")


def test_score_and_summarize():
    buyers = [Purchaser(customer_id=f"C-{n}", recency_days=n * 10, frequency=11 - n, monetary=100.0 * (11 - n))
              for n in range(1, 11)]
    scores = score_customers(buyers)
    assert scores[0].code == "555" and scores[0].segment == "champions" and scores[0].tier == "platinum"
    assert scores[-1].code == "111" and scores[-1].segment == "lost" and scores[-1].tier == "bronze"
    groups = summarize(scores)
    assert [g.name for g in groups] == list(rfm.SEGMENTS)
    assert sum(g.customers for g in groups) == 10
    assert sum(g.revenue for g in groups) == pytest.approx(5500.0)
    champions = groups[0]
    assert champions.customers == 2 and champions.revenue == 1900.0 and champions.avg_recency_days == 15.0
    empty = next(g for g in groups if g.customers == 0)
    assert empty.avg_monetary is None and empty.share == 0.0
    tiers = summarize(scores, by="tier")
    assert [g.name for g in tiers] == ["platinum", "gold", "silver", "bronze"]
    assert [g.customers for g in tiers] == [2, 2, 2, 4]
