"""A made-up wealth manager's book for ``crmkit demo --profile finance`` and the tests: ``build_sample(crm)``.

Fjordvik Kapital, an Oslo bank and wealth manager: 40 customers from
applicants to closed relationships, with KYC approvals spread over four
years (so some periodic reviews are overdue), PEPs, customers in FATF-listed
countries, open complaints of every age, account inquiries and transaction
disputes, review meetings, and a few advice deals. Every name, id and
number is invented; national ids use the ranges kept for test data
(Norwegian synthetic numbers with month + 80, Finnish individual numbers
900-999, the UK "QQ" prefix), so none can belong to a real person.
Deterministic (a seeded generator) and dated back from ``crm.now()``.
"""

from __future__ import annotations

import random
import unicodedata
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crmkit import ValidationError
from crmkit.demo import DemoSummary

from . import finance, rules

FIRST = ("Ingrid", "Lars", "Sigrid", "Ola", "Kari", "Magnus", "Nora", "Henrik", "Emma", "Jonas", "Astrid",
         "Tobias", "Maja", "Erik", "Sofie", "Anders", "Linnea", "Oskar", "Freya", "Aksel", "Hedda", "Viktor")
LAST = ("Solberg", "Nygaard", "Haugen", "Berntsen", "Lie", "Strand", "Dahl", "Eriksen", "Moen", "Lunde",
        "Aasen", "Bakke", "Holm", "Vik", "Sandvik", "Karlsen", "Lindqvist", "Virtanen", "Jensen", "Fraser")
ADVISORS = ("ingrid.k", "henrik.m", "sofia.r", "amir.h")
CITIES = {"NO": ("Oslo", "Bergen", "Trondheim", "Stavanger", "Tromsø"), "SE": ("Stockholm", "Göteborg"),
          "DK": ("København", "Aarhus"), "FI": ("Helsinki",), "GB": ("London", "Edinburgh"),
          "US": ("New York", "Boston"), "ZA": ("Cape Town",), "VN": ("Ho Chi Minh City",), "MC": ("Monaco",)}
COUNTRY_WEIGHTS = (("NO", 58), ("SE", 8), ("DK", 5), ("FI", 5), ("GB", 9), ("US", 5), ("ZA", 4), ("VN", 2),
                   ("MC", 2))
FUNDS_WEIGHTS = (("salary", 34), ("pension", 10), ("savings", 14), ("investment income", 10),
                 ("business income", 14), ("inheritance", 8), ("property sale", 6), ("gift", 2), ("other", 2))
PRODUCT_WEIGHTS = (("current account", 30), ("savings account", 25), ("mortgage", 12), ("pension", 10),
                   ("investment fund", 20), ("brokerage", 10), ("private banking", 6), ("international payments", 5))
STAGE_PLAN = ("active",) * 24 + ("dormant",) * 4 + ("kyc-pending",) * 4 + ("applicant",) * 3 + ("closed",) * 3

#: Customers with a story, by number; the others are drawn by the generator.
SCRIPTED: dict[int, dict[str, Any]] = {
    1: {"name": "Eirik Solheim", "country": "NO", "stage": "active", "approved_days": 340, "pep": True,
        "source_of_funds": "business income", "products": ["private banking", "brokerage", "current account"],
        "aum": 18_400_000, "risk_tolerance": "balanced",
        "notes": "Former state secretary (PEP until 2027). Prefers meetings at the Oslo office."},
    2: {"name": "Amara Okonkwo", "country": "NG", "stage": "active", "approved_days": 410,
        "source_of_funds": "business income", "products": ["international payments", "current account"],
        "aum": 3_100_000, "risk_tolerance": "growth"},
    3: {"name": "Reza Tehrani", "country": "IR", "stage": "closed", "kyc": "rejected",
        "source_of_funds": "other", "products": ["international payments"], "aum": 0,
        "notes": "Onboarding declined: residence in a high-risk jurisdiction, source of funds not evidenced."},
    4: {"name": "Lars Nygaard", "country": "NO", "stage": "active", "approved_days": 920,
        "source_of_funds": "salary", "products": ["current account", "savings account", "mortgage"],
        "aum": 420_000, "risk_tolerance": "cautious"},
    5: {"name": "Mikkel Dahl", "country": "DK", "stage": "active", "approved_days": 200,
        "source_of_funds": "crypto assets", "products": ["crypto custody", "current account"],
        "aum": 1_250_000, "risk_tolerance": "balanced"},
    6: {"name": "Sigrid Haugen", "country": "NO", "stage": "kyc-pending", "source_of_funds": None,
        "products": ["savings account"], "aum": 0},
    7: {"name": "Charlotte Fraser", "country": "MC", "stage": "active", "approved_days": 700,
        "source_of_funds": "inheritance", "products": ["private banking", "investment fund"],
        "aum": 62_000_000, "risk_tolerance": "growth"},
    9: {"name": "Jonas Eriksen", "country": "NO", "stage": "active", "approved_days": 500,
        "source_of_funds": "salary", "products": ["current account", "savings account", "mortgage"],
        "aum": 800_000, "risk_tolerance": "cautious",
        "notes": "Appointed deputy minister last week: screening flagged him as a PEP after the last assessment."},
    8: {"name": "Ola Berntsen", "country": "NO", "stage": "dormant", "approved_days": 1300, "kyc": "expired",
        "source_of_funds": "pension", "products": ["savings account"], "aum": 150_000,
        "risk_tolerance": "conservative"},
}
#: Complaints: (customer number, subject, business days since received, resolved?)
COMPLAINTS = ((1, "Advisory fee charged twice in March", 12, False),
              (2, "Incoming payment from Lagos held for 9 days", 17, False),
              (4, "Mortgage rate change not announced in time", 3, False),
              (7, "Portfolio report arrived late", 8, False),
              (12, "Card blocked abroad without warning", 1, False),
              (15, "Wrong tax statement for 2024", 20, True),
              (9, "Rude treatment at the branch", 6, True))
OTHER_TICKETS = (("account inquiry", "Need a confirmation of balance for the tax office"),
                 ("account inquiry", "How do I add my spouse as a signatory?"),
                 ("account inquiry", "Change of address after moving"),
                 ("transaction dispute", "Card payment to an unknown merchant"),
                 ("transaction dispute", "Double debit for a standing order"),
                 ("transaction dispute", "Refund from an airline never arrived"),
                 ("product request", "Wants to open a share savings account (ASK)"),
                 ("product request", "Asks about a fixed-rate mortgage"),
                 ("product request", "Wants access to brokerage for US shares"),
                 ("account inquiry", "Lost online banking code device"),
                 ("transaction dispute", "ATM did not dispense cash"),
                 ("product request", "Interested in a pension savings plan (IPS)"))
REVIEW_TOPICS = ("annual review", "KYC documents", "portfolio", "pension", "mortgage", "tax statement")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text.replace("ø", "o").replace("å", "a")).encode("ascii", "ignore").decode()


def synthetic_fodselsnummer(rng: random.Random, born: date) -> str:
    """A Norwegian fødselsnummer with month + 80: the form kept for synthetic test people."""
    while True:
        base = f"{born.day:02d}{born.month + 80:02d}{born.year % 100:02d}{rng.randint(0, 499):03d}"
        check = rules.no_check_digits(base)
        if check is not None:
            return base + check


def _finnish_test_id(rng: random.Random, born: date) -> str:
    serial = rng.randint(900, 999)   # individual numbers 900-999 are for temporary and test ids
    head = f"{born.day:02d}{born.month:02d}{born.year % 100:02d}"
    return f"{head}-{serial}{rules.FI_CHECK_CHARS[int(head + str(serial)) % 31]}"


def _national_id(rng: random.Random, country: str, born: date) -> str | None:
    if country == "NO":
        return synthetic_fodselsnummer(rng, born)
    if country == "FI":
        return _finnish_test_id(rng, born)
    if country == "GB":
        return f"QQ{rng.randint(0, 999999):06d}{rng.choice('ABCD')}"
    return None   # other countries: the passport number is on file, not in the CRM


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in pairs], weights=[weight for _, weight in pairs])[0]


class _Sample:
    def __init__(self, crm: Any, rng: random.Random) -> None:
        self.crm, self.rng = crm, rng
        self.now = crm.now().replace(microsecond=0)
        self.zone = ZoneInfo(finance.calendar(crm).timezone)
        self.plans: dict[str, dict[str, Any]] = {}

    def at_day(self, day: date, hour: int = 10) -> datetime:
        return min(datetime.combine(day, time(hour), self.zone), self.now)

    def plan(self, number: int) -> dict[str, Any]:
        rng = self.rng
        plan = dict(SCRIPTED.get(number, {}))
        if not plan:
            country = _weighted(rng, COUNTRY_WEIGHTS)
            stage = STAGE_PLAN[(number * 7) % len(STAGE_PLAN)]
            products = sorted({_weighted(rng, PRODUCT_WEIGHTS) for _ in range(rng.randint(1, 3))})
            plan = {"name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "country": country, "stage": stage,
                    "source_of_funds": _weighted(rng, FUNDS_WEIGHTS), "products": products,
                    "aum": round(rng.lognormvariate(14, 1.4), -3),
                    "risk_tolerance": rng.choice(rules.RISK_TOLERANCES), "pep": rng.random() < 0.05}
            # Most reviews are on time; a few are a little late, and dormant customers' KYC has often lapsed.
            rating = rules.assess_risk(**rules.risk_inputs(plan, country)).rating
            term = 365 * rules.REVIEW_YEARS[rating]
            plan["approved_days"] = rng.randint(20, term + 40)
            if stage == "dormant" and rng.random() < 0.5:
                plan["approved_days"] = term + rng.randint(20, 300)
                plan["kyc"] = "expired"
            if stage == "closed":
                plan["kyc"] = "approved"
        plan.setdefault("kyc", {"applicant": "not started", "kyc-pending": "pending"}.get(plan["stage"], "approved"))
        plan["born"] = date(rng.randint(1948, 2001), rng.randint(1, 12), rng.randint(1, 28))
        return plan

    def customers(self) -> None:
        rows = []
        for number in range(1, 41):
            plan = self.plan(number)
            cid = f"C-{number}"
            approved_days = plan.get("approved_days", 30)
            created = self.at_day(self.now.date() - timedelta(days=approved_days + self.rng.randint(8, 40)))
            plan["created"] = created
            country = plan["country"]
            first, _, last = plan["name"].partition(" ")
            fields = {"kyc_status": "pending" if plan["kyc"] != "not started" else "not started",
                      "pep": plan.get("pep", False), "residence_country": country,
                      "source_of_funds": plan.get("source_of_funds"), "products": plan.get("products"),
                      "aum": plan.get("aum"), "risk_tolerance": plan.get("risk_tolerance"),
                      "national_id": _national_id(self.rng, country, plan["born"])}
            rows.append({
                "id": cid, "name": plan["name"], "kind": "person", "created_at": created, "stage": "applicant",
                "stage_history": [{"to_stage": "applicant", "at": created, "by": "web",
                                   "reason": "online application"}],
                "emails": [f"{_ascii(first).lower()}.{_ascii(last).lower()}{number}@example.com"],
                "address": {"street": f"{self.rng.choice(('Storgata', 'Kirkeveien', 'Havnegata', 'Parkveien'))} "
                                      f"{self.rng.randint(1, 120)}",
                            "city": self.rng.choice(CITIES.get(country, ("Oslo",))), "country": country},
                "owner": ADVISORS[number % len(ADVISORS)], "source": self.rng.choice(("website", "referral", "branch")),
                "notes": plan.get("notes"), "fields": {k: v for k, v in fields.items() if v not in (None, [])},
                "consent": {"email": self.rng.random() < 0.7, "post": self.rng.random() < 0.3},
            })
            self.plans[cid] = plan
        self.crm.customers.add_many(rows, keep_ids=True)

    def journeys(self) -> None:
        crm = self.crm
        for cid, plan in self.plans.items():
            if plan["kyc"] == "not started":
                continue
            by = self.crm.customers.get(cid).owner
            crm.lifecycle.move(cid, "kyc-pending", at=plan["created"] + timedelta(days=2), by=by,
                               reason="documents received")
            if plan["kyc"] == "rejected":
                crm.customers.update(cid, fields={"kyc_status": "rejected"})
                crm.lifecycle.move(cid, "closed", at=plan["created"] + timedelta(days=9), by="compliance",
                                   reason="KYC rejected")
                continue
            if plan["kyc"] == "pending":
                continue
            approved = self.now.date() - timedelta(days=plan["approved_days"])
            finance.approve_kyc(crm, cid, on=approved)
            crm.lifecycle.move(cid, "active", at=self.at_day(approved, 14), by=by, reason="KYC approved")
            if plan["stage"] in ("dormant", "closed"):
                later = self.at_day(approved + timedelta(days=self.rng.randint(5, max(6, plan["approved_days"] - 5))))
                crm.lifecycle.move(cid, plan["stage"], at=later, by=by,
                                   reason="no activity for 18 months" if plan["stage"] == "dormant"
                                   else "customer moved to another bank")
            if plan["kyc"] == "expired":
                crm.customers.update(cid, fields={"kyc_status": "expired"})

    def business_days_ago(self, days: int) -> date:
        day, left = self.now.date(), days
        hours = finance.calendar(self.crm)
        while left:
            day -= timedelta(days=1)
            left -= rules.is_business_day(hours, day)
        return day

    def tickets(self) -> None:
        rng, tickets = self.rng, self.crm.tickets
        for number, subject, age, resolved in COMPLAINTS:
            cid = f"C-{number}"
            opened = self.at_day(self.business_days_ago(age), 9 + number % 6)
            ticket = tickets.open(cid, subject, category="complaint", priority="high", channel="email", at=opened,
                                  assignee="complaints.desk", description="Written complaint received.")
            tickets.step(ticket.id, "Acknowledged in writing; explained the 15-business-day answer deadline",
                         staff="complaints.desk", at=self.at_day(opened.date(), 15))
            if resolved:
                tickets.resolve(ticket.id, "Final answer sent; fee refunded", resolved_by="complaints.desk",
                                at=self.at_day(opened.date() + timedelta(days=6), 12))
        active = [cid for cid, plan in self.plans.items() if plan["stage"] in ("active", "dormant")]
        for n, (category, subject) in enumerate(OTHER_TICKETS):
            cid = active[(n * 5) % len(active)]
            opened = self.at_day(self.now.date() - timedelta(days=rng.randint(0, 25)), 9 + n % 7)
            ticket = tickets.open(cid, subject, category=category, priority=rng.choice(("low", "normal", "high")),
                                  channel=rng.choice(("phone", "email", "chat")), at=opened,
                                  assignee=None if n % 4 == 0 else rng.choice(ADVISORS))
            if n % 3 == 1:
                tickets.resolve(ticket.id, "Answered and documented", at=min(opened + timedelta(hours=6), self.now))

    def interactions(self) -> None:
        rng, rows = self.rng, []
        for cid, plan in self.plans.items():
            if plan["kyc"] == "not started":
                continue
            for _ in range(1 + (plan["stage"] == "active") + (cid == "C-1") * 2):
                topic = rng.choice(REVIEW_TOPICS)
                when = max(self.at_day(self.now.date() - timedelta(days=rng.randint(1, 120)), rng.randint(9, 15)),
                           plan["created"])
                channel = rng.choice(("meeting", "phone", "email"))
                rows.append({"customer_id": cid, "channel": channel, "at": when, "topics": [topic],
                             "summary": f"{channel.capitalize()} about {topic}",
                             "direction": rng.choice(("inbound", "outbound")),
                             "staff": self.crm.customers.get(cid).owner})
        self.crm.interactions.log_many(sorted(rows, key=lambda r: r["at"]))

    def deals(self) -> None:
        deals = self.crm.deals
        when = self.now - timedelta(days=10)
        deals.add("C-1", "Discretionary mandate, global equities", amount=5_000_000, currency="NOK",
                  stage="proposal", at=when)
        deals.add("C-7", "Family office structure review", amount=20_000_000, currency="NOK",
                  stage="suitability check", at=when)
        deals.add("C-4", "Refinance mortgage at fixed rate", amount=2_800_000, currency="NOK",
                  stage="documentation", at=when)
        deals.add("C-5", "Move crypto holdings into an ETP portfolio", amount=900_000, currency="NOK",
                  stage="needs assessment", at=when)


def build_sample(crm: Any, *, seed: int = 4711) -> DemoSummary:
    """Fill an empty finance store with the sample book, assess every customer, and describe it.

    One customer (C-9) is found to be a PEP after the assessment, so the
    risk report shows a stale rating to re-assess.
    """
    finance.require_finance(crm)
    if crm.customers.count():
        raise ValidationError("store", crm.storage.url, "already holds customers; the sample needs an empty store")
    sample = _Sample(crm, random.Random(seed))
    with crm.transaction():
        sample.customers()
        sample.journeys()
        sample.tickets()
        sample.interactions()
        sample.deals()
        finance.assess(crm, all_customers=True)
        crm.customers.update("C-9", fields={"pep": True})   # the stale rating the risk report flags
    return DemoSummary(customers=crm.customers.count(), interactions=crm.interactions.count(),
                       tickets=crm.tickets.count(), overdue=len(crm.tickets.overdue()), featured="C-1")


__all__ = ["build_sample", "synthetic_fodselsnummer"]
