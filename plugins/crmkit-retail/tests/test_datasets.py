"""Checks against public retail data in ../shared/datasets (skipped when the folder is absent).

* CDNOW (real purchases of CD buyers, 1997-01 to 1998-06): the RFM computed
  through a store's orders equals the RFM computed straight from the file.
* The Online Retail RFM segments derived by a third party (R/F/M scored 1-3,
  four segments): our quintile scores and segments must agree with them in
  direction and in the broad groups.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

import pytest

import crmkit
from crmkit_retail.analysis import rfm_report
from crmkit_retail.rfm import Purchaser, score_customers

DATASETS = Path(__file__).resolve().parents[3].parent / "shared" / "datasets"
RETAIL = DATASETS / "retail_transactions"
CDNOW = RETAIL / "lifetimes_CDNOW_master.txt"
DERIVED = RETAIL / "online_retail_rfm_segments_derived.csv"
CDNOW_END = datetime(1998, 6, 30, 23, 59, 59, 999999, tzinfo=timezone.utc)


def _cdnow(limit: int) -> list[tuple[str, datetime, float]]:
    if not CDNOW.exists():
        pytest.skip(f"{CDNOW} is not here")
    rows = []
    with CDNOW.open(encoding="ascii") as fp:
        next(fp)  # the header
        for line in fp:
            number, day, _cds, dollars = line.split()
            if int(number) > limit:
                break
            when = datetime.strptime(day, "%Y%m%d").replace(hour=12, tzinfo=timezone.utc)
            rows.append((f"C-{int(number)}", when, float(dollars)))
    return rows


def test_cdnow_rfm_through_the_store_matches_the_file(pm):
    rows = _cdnow(limit=250)
    expected: dict[str, list] = defaultdict(lambda: [None, 0, 0.0])
    for cid, when, dollars in rows:
        entry = expected[cid]
        entry[0] = when if entry[0] is None or when > entry[0] else entry[0]
        entry[1] += 1
        entry[2] += dollars
    buyers = sorted(expected, key=lambda c: int(c.split("-")[1]))
    from_file = score_customers([
        Purchaser(customer_id=cid, recency_days=(CDNOW_END - expected[cid][0]).days, frequency=expected[cid][1],
                  monetary=round(expected[cid][2], 2), last_purchase_at=expected[cid][0]) for cid in buyers])

    crm = crmkit.open("memory://", profile="retail", pm=pm)
    with crm.transaction():
        crm.customers.add_many([{"id": f"C-{n}", "name": f"CDNOW customer {n}"} for n in range(1, 251)],
                               keep_ids=True)
        crm.orders.add_many([{"customer_id": cid, "at": when, "total": dollars, "currency": "USD",
                              "status": "paid"} for cid, when, dollars in rows])
    report = rfm_report(crm, as_of="1998-06-30")
    assert [c.score for c in report.customers] == from_file
    assert len(report.customers) == 250
    # The shape a CD shop shows: most buyers bought once, long ago.
    segments = Counter(c.score.segment for c in report.customers)
    assert segments.most_common(1)[0][0] in ("lost", "hibernating")
    assert report.segments[0].avg_monetary > report.segments[-1].avg_monetary  # champions spend more than lost


def test_scores_agree_with_a_published_rfm_segmentation():
    if not DERIVED.exists():
        pytest.skip(f"{DERIVED} is not here")
    with DERIVED.open(encoding="utf-8", newline="") as fp:
        rows = list(csv.DictReader(fp))
    scores = score_customers([Purchaser(customer_id=r["CustomerID"], recency_days=int(r["Recency"]),
                                        frequency=int(r["Frequency"]), monetary=float(r["Monetary"])) for r in rows])
    # Direction: their 1-3 scores and our 1-5 scores rise together on all three measures.
    for theirs, ours in (("R", "r"), ("F", "f"), ("M", "m")):
        means = {}
        for row, score in zip(rows, scores, strict=True):
            means.setdefault(row[theirs], []).append(getattr(score, ours))
        averages = [sum(v) / len(v) for _k, v in sorted(means.items())]
        assert averages == sorted(averages) and averages[-1] - averages[0] > 2.5, (theirs, averages)
    # Broad groups: their loyal customers are our champions or loyal; their at-risk (low R, low F)
    # customers are our lost, hibernating or about-to-sleep ones.
    by_theirs: dict[str, Counter] = defaultdict(Counter)
    for row, score in zip(rows, scores, strict=True):
        by_theirs[row["Segment"]][score.segment] += 1

    def share(segment, ours):
        counts = by_theirs[segment]
        return sum(counts[s] for s in ours) / sum(counts.values())

    assert share("Loyal Customers", ("champions", "loyal")) > 0.9
    assert share("At Risk", ("lost", "hibernating", "about_to_sleep")) > 0.8
    assert share("Potential Loyalist", ("potential_loyalist", "loyal", "champions")) > 0.75
