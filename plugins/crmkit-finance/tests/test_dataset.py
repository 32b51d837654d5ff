"""A real bank's customer table (UCI Bank Marketing) imported, assessed, and checked against the rule applied directly.

Reads ``shared/datasets/finance_customers/`` next to the repository, and skips when it is not there.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from crmkit_finance import finance, rules

DATASET = (Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "finance_customers"
           / "uci_bank_marketing_subset_semicolon.csv")
ROWS = 300
FUNDS = {"retired": "pension", "student": "gift", "unemployed": "other", "unknown": None,
         "entrepreneur": "business income", "self-employed": "business income"}


def finance_fields(row):
    """A bank-marketing row as finance custom fields: job -> source of funds, balance -> assets, loans -> products."""
    products = ["current account"] + ["mortgage"] * (row["housing"] == "yes") + ["loan"] * (row["loan"] == "yes")
    fields = {"residence_country": "PT", "aum": max(0, int(row["balance"])) * 10, "products": products}
    source = FUNDS.get(row["job"], "salary")
    if source:
        fields["source_of_funds"] = source
    return fields


@pytest.mark.skipif(not DATASET.exists(), reason=f"dataset not found: {DATASET}")
def test_imported_bank_customers_assess_like_the_rule(crm):
    with DATASET.open(newline="", encoding="utf-8") as fp:
        rows = [row for _, row in zip(range(ROWS), csv.DictReader(fp, delimiter=";"))]
    crm.customers.add_many([{"name": f"Bank customer {n}", "fields": finance_fields(row)}
                            for n, row in enumerate(rows, start=1)])
    results = finance.assess(crm, all_customers=True)
    assert len(results) == ROWS and all(r.changed for r in results)
    expected = Counter(rules.assess_risk(**rules.risk_inputs(finance_fields(row))).rating for row in rows)
    report = finance.risk_report(crm)
    assert report.counts == {"high": expected["high"], "medium": expected["medium"], "low": expected["low"],
                             "unassessed": 0}
    assert report.stale == 0
    assert sum(report.counts.values()) == ROWS and len(set(expected)) >= 2   # the rule separates real customers
