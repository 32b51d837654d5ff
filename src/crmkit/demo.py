"""A realistic sample store to explore crmkit with: ``build_demo(crm)``.

Everything is made through the public services, so the demo store is exactly
what a real team would produce. It is deterministic (a seeded random
generator) and dated relative to ``crm.now()``, so it always looks recent:
about 40 customers, 120 interactions over the last 60 days, 30 tickets in
every status (some overdue, some paused), lifecycle moves forwards,
backwards, into churn and back, deals across the pipeline (a won one under
contract), two months of shop orders, tasks, feedback and survey answers,
and an email campaign.

>>> import crmkit
>>> from crmkit.demo import build_demo
>>> crm = crmkit.open("memory://")
>>> build_demo(crm).customers
40
"""

from __future__ import annotations

import random
import unicodedata
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from ._demo_sales import SalesDemo
from .errors import ValidationError

if TYPE_CHECKING:
    from .crm import CRM

PEOPLE = (
    "Ann Lee", "Bjørn Halvorsen", "Carla Mendes", "David Okafor", "Elena Petrova", "Farid Haddad", "Grace Kim",
    "Hugo Laurent", "Ingrid Solberg", "Jamal Carter", "Keiko Tanaka", "Liam O'Brien", "Maya Patel", "Nils Berg",
    "Olivia Brown", "Pedro Alvarez", "Quinn Murphy", "Rosa Martínez", "Sven Larsen", "Tara Singh", "Umar Farouk",
    "Vera Novak",
)
COMPANIES = (
    ("Northwind Traders", "wholesale"), ("Bluefin Cafe", "hospitality"), ("Copperleaf Design", "creative"),
    ("Fjord Freight AS", "logistics"), ("Greenfield Dental", "healthcare"), ("Harbor Bikes", "retail"),
    ("Ironwood Builders", "construction"), ("Juniper Yoga Studio", "wellness"), ("Kestrel Analytics", "software"),
    ("Lumen Print Shop", "printing"), ("Maple & Co Bakery", "food"), ("Nordlys Hotel", "hospitality"),
    ("Orchid Florists", "retail"), ("Pioneer Plumbing", "trades"), ("Quayside Books", "retail"),
    ("Riverbend Vets", "healthcare"), ("Summit Outdoor Gear", "retail"), ("Tidewater Marine", "marine"),
)
CONTACT_NAMES = ("Alex Morgan", "Sam Rivera", "Jordan Blake", "Chris Evans", "Robin Holt", "Kim Sørensen",
                 "Pat Nakamura", "Lee Adams", "Noor Aziz", "Toni Weber", "Jess Hart", "Mika Virtanen")
ROLES = ("decision maker", "billing", "operations", "purchasing", "IT")
STAFF = ("maria", "jonas", "priya", "tom")
TAGS = ("vip", "newsletter", "wholesale", "referral", "trade-show", "partner", "at-risk", "events")
TIERS = ("bronze", "silver", "gold", "platinum")
SOURCES = ("website", "referral", "trade show", "cold call", "advert", "walk-in")
CITIES = (("London", "GB", "+44 20 7946 0{:03d}", "High Street"),
          ("Washington", "US", "+1 202 555 01{:02d}", "Main Street"),
          ("Oslo", "NO", "+47 22 {:02d} 41 17", "Storgata"))
#: Why a customer moved to a stage, by the stage's name (other profiles fall back to a generic reason).
REASONS = {"subscriber": "only wants the newsletter for now", "lead": "asked for a price list",
           "qualified": "has a budget and a need", "opportunity": "asked for a proposal",
           "customer": "first order placed", "repeat": "ordered again", "loyal": "orders every month"}
TOPICS = ("pricing", "delivery", "invoice", "onboarding", "renewal", "new order", "training", "feedback")
CHANNELS = ("phone", "email", "meeting", "visit", "chat", "sms", "web")
SUMMARIES = {
    "phone": ("Called about {topic}", "Follow-up call on {topic}", "Quick check-in, discussed {topic}"),
    "email": ("Emailed details on {topic}", "Replied to question about {topic}", "Sent quote covering {topic}"),
    "meeting": ("Meeting to review {topic}", "Quarterly review; {topic} came up", "Workshop on {topic}"),
    "visit": ("Site visit regarding {topic}", "Dropped by the shop about {topic}"),
    "chat": ("Chat about {topic}", "Live chat: question on {topic}"),
    "sms": ("Texted a reminder about {topic}",),
    "web": ("Web form enquiry about {topic}", "Downloaded brochure on {topic}"),
}
OUTCOMES = ("positive", "needs follow-up", "sent information", "no decision yet", "order placed", None)
TICKET_SUBJECTS = ("Invoice shows the wrong amount", "Delivery arrived damaged", "Cannot log in to the portal",
                   "Request to change the delivery address", "Question about the warranty",
                   "Order is late", "Wrong item received", "Please cancel subscription",
                   "Card payment declined", "Product stopped working", "Need a copy of the contract",
                   "Complaint about rude driver", "Feature request: export to Excel", "Refund not received yet")
#: Final state of each of the 30 tickets (the featured customer gets the first two).
TICKET_PLAN = ("escalated", "closed", "new", "new", "new", "assigned", "assigned", "assigned", "assigned",
               "pending", "pending", "pending", "escalated", "escalated", "resolved", "resolved", "resolved",
               "resolved", "closed", "closed", "closed", "closed", "closed", "closed", "reopened", "reopened",
               "rejected", "rejected", "duplicate", "duplicate")


@attrs.frozen
class DemoSummary:
    """What :func:`build_demo` made; ``featured`` is a customer worth a ``customer show``."""

    customers: int
    interactions: int
    tickets: int
    overdue: int
    featured: str
    deals: int = 0
    orders: int = 0
    tasks: int = 0
    feedback: int = 0


def build_demo(crm: CRM, *, seed: int = 2024) -> DemoSummary:
    """Fill an empty store with a realistic, deterministic sample business and describe it.

    Raises ValidationError if the store already holds customers (the demo
    gives its customers fixed ids, so it must start from nothing).
    """
    if crm.customers.count():
        raise ValidationError("store", crm.storage.url, "already holds customers; the demo needs an empty store")
    builder = _Builder(crm, random.Random(seed))
    # One transaction: a single write of the store instead of hundreds.
    with crm.transaction():
        builder.customers()
        builder.journeys()
        builder.tickets()
        builder.interactions()
        builder.sales()
        builder.orders()
        builder.service()
    return DemoSummary(
        customers=crm.customers.count(), interactions=crm.interactions.count(), tickets=crm.tickets.count(),
        overdue=len(crm.tickets.overdue()), featured="C-1", deals=crm.deals.count(), orders=crm.orders.count(),
        tasks=crm.tasks.count(), feedback=crm.feedback.count(),
    )


def _ascii(text: str) -> str:
    text = text.replace("ø", "o").replace("Ø", "O").replace("æ", "ae").replace("å", "a").replace("&", "and")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _slug(text: str, sep: str = "") -> str:
    return sep.join("".join(ch for ch in word if ch.isalnum()) for word in _ascii(text).lower().split())


class _Builder(SalesDemo):
    """Makes the sample records; every time is an offset back from ``crm.now()``."""

    def __init__(self, crm: CRM, rng: random.Random) -> None:
        self.crm = crm
        self.rng = rng
        self.now = crm.now()
        self.arrived: dict[str, datetime] = {}
        self.tickets_of: dict[str, list[tuple[str, datetime]]] = {}

    def ago(self, days: float = 0, hours: float = 0) -> datetime:
        return (self.now - timedelta(days=days, hours=hours)).replace(microsecond=0)

    def between(self, start: datetime, end: datetime | None = None) -> datetime:
        """A random whole-second time from ``start`` to ``end`` (default now), never before ``start``."""
        span = max(int(((end or self.now) - start).total_seconds()), 60)
        return start + timedelta(seconds=self.rng.randint(0, span))

    def after(self, start: datetime, hours: float) -> datetime:
        """A time up to ``hours`` after ``start``, but not in the future."""
        return self.between(start, min(self.now, start + timedelta(hours=hours)))

    # -- customers ---------------------------------------------------------------

    def customers(self) -> None:
        rows = [self._company(0, *COMPANIES[0], featured=True)]
        rows += [self._person(i, name) for i, name in enumerate(PEOPLE, start=1)]
        rows += [self._company(i, name, industry) for i, (name, industry) in
                 enumerate(COMPANIES[1:], start=len(PEOPLE) + 1)]
        profile = self.crm.profile
        for number, row in enumerate(rows, start=1):
            row["id"] = f"C-{number}"
            # Another profile may define its own fields and refuse unknown ones.
            row["fields"] = {k: v for k, v in row["fields"].items() if profile.open_fields or profile.field_spec(k)}
            self.arrived[row["id"]] = row["created_at"]
        self.crm.customers.add_many(rows, keep_ids=True)

    def _common(self, i: int, *, featured: bool = False) -> dict[str, Any]:
        rng = self.rng
        city, country, phone, street = CITIES[i % len(CITIES)]
        arrived = self.ago(days=59) if featured else self.ago(days=rng.uniform(3, 59))
        stage = self.crm.profile.initial_stage
        consent = {ch: rng.random() < 0.5 for ch in ("email", "sms", "phone", "post")}
        return {
            "created_at": arrived,
            "stage": stage,
            "stage_history": [{"to_stage": stage, "at": arrived, "by": rng.choice(STAFF), "reason": "created"}],
            "phones": [phone.format(i + 10)],
            "tags": rng.sample(TAGS, rng.randint(0, 3)) + (["vip"] if featured else []),
            "tier": rng.choice(TIERS) if rng.random() < 0.7 else None,
            "source": rng.choice(SOURCES),
            "owner": rng.choice(STAFF),
            "address": {"street": f"{rng.randint(1, 180)} {street}",
                        "city": city, "postal_code": f"{rng.randint(1000, 9999)}", "country": country},
            "consent": consent,
        }

    def _person(self, i: int, name: str) -> dict[str, Any]:
        row = self._common(i)
        row.update(kind="person", name=name, emails=[f"{_slug(name, '.')}@example.com"],
                   fields={"preferred_language": self.rng.choice(("en", "no", "es", "fr")),
                           "birthday": f"19{self.rng.randint(60, 99)}-{self.rng.randint(1, 12):02d}-"
                                       f"{self.rng.randint(1, 28):02d}"})
        if self.rng.random() < 0.3:
            row["external_ids"] = {"shop": f"S-{1000 + i}"}
        if self.rng.random() < 0.2:
            row["contacts"] = [{"name": self.rng.choice(CONTACT_NAMES), "role": "spouse"}]
        return row

    def _company(self, i: int, name: str, industry: str, *, featured: bool = False) -> dict[str, Any]:
        rng = self.rng
        row = self._common(i, featured=featured)
        domain = f"{_slug(name)}.example.com"
        picked = rng.sample(CONTACT_NAMES, 3 if featured else rng.randint(1, 3))
        row.update(
            kind="company", name=name, industry=industry, emails=[f"hello@{domain}"],
            size=rng.choice(("1-10", "11-50", "51-200")),
            fields={"employees": rng.randint(3, 180), "account_manager": row["owner"],
                    "contract_renewal": (self.now + timedelta(days=rng.randint(20, 300))).date().isoformat()},
            contacts=[{"name": person, "title": rng.choice(("Owner", "Manager", "Director", "Assistant")),
                       "email": f"{_slug(person, '.')}@{domain}", "role": rng.choice(ROLES),
                       "phone": f"+44 20 7946 1{i * 3 + n:03d}", "primary": n == 0}
                      for n, person in enumerate(picked)],
        )
        if featured:
            row.update(tier="platinum", notes="Our biggest wholesale account; prefers phone over email.",
                       external_ids={"erp": "NW-0001"})
        return row

    # -- lifecycle -----------------------------------------------------------------

    def journeys(self) -> None:
        profile = self.crm.profile
        order = profile.stage_names
        lost = {s.name for s in profile.stages if s.kind == "lost"}
        for number in range(1, len(self.arrived) + 1):
            cid = f"C-{number}"
            length = 4 if number == 1 else self.rng.choice((0, 1, 1, 2, 2, 3, 3, 4))
            # A few scripted stories so the demo always shows churn, win-back and a step back.
            story = {1: "up", 5: "churn", 6: "winback", 9: "back", 27: "winback", 33: "churn"}.get(number, "walk")
            stage, when = profile.initial_stage, self.arrived[cid]
            for step in range(length if story == "walk" or story == "up" else 3):
                moves = profile.allowed_moves(stage)
                if not moves:
                    break
                forward = [m for m in moves if order.index(m) > order.index(stage) and m not in lost]
                backward = [m for m in moves if order.index(m) < order.index(stage) and m not in lost]
                churn = [m for m in moves if m in lost]
                if churn and ((story == "churn" and step == 2) or (story == "winback" and step == 1)):
                    target = churn[0]
                elif story == "back" and step == 2 and backward:
                    target = backward[-1]
                elif stage in lost:
                    target = self.rng.choice(moves)
                elif forward and (story in ("up", "churn", "winback", "back") or self.rng.random() < 0.85):
                    target = forward[0] if story != "walk" else self.rng.choice(forward[:2])
                else:
                    target = self.rng.choice(backward or churn or forward)
                when = self.after(when, hours=12 * 24)
                reason = ("no orders for months" if target in lost else
                          "won back with a discount" if stage in lost else
                          "budget cut, revisiting next quarter" if order.index(target) < order.index(stage) else
                          REASONS.get(target, "good conversation"))
                self.crm.lifecycle.move(cid, target, reason=reason, at=when, by=self.rng.choice(STAFF))
                stage = target

    # -- tickets -------------------------------------------------------------------

    def tickets(self) -> None:
        rng, tickets = self.rng, self.crm.tickets
        categories = self.crm.profile.ticket_categories or (None,)
        for n, plan in enumerate(TICKET_PLAN):
            cid = "C-1" if n < 2 else f"C-{rng.randint(2, len(self.arrived))}"
            open_tickets = plan in ("new", "assigned", "escalated", "pending", "reopened")
            recent = n in (4, 8, 13)  # some open tickets are fresh, so not every open ticket is late
            opened = self.ago(hours=rng.uniform(1, 5)) if recent else \
                self.between(max(self.arrived[cid], self.ago(days=40)), self.ago(days=4 if open_tickets else 1))
            priority = rng.choice(("low", "normal", "normal", "high", "urgent"))
            staff = rng.choice(STAFF)
            ticket = tickets.open(
                cid, TICKET_SUBJECTS[n % len(TICKET_SUBJECTS)], priority=priority, channel=rng.choice(CHANNELS[:5]),
                category=rng.choice(categories), at=opened, description="Reported by the customer.",
                assignee=None if plan == "new" else staff,
            )
            self.tickets_of.setdefault(cid, []).append((ticket.id, opened))
            self._work(ticket.id, plan, n, opened, staff, cid)

    def _work(self, tid: str, plan: str, n: int, opened: datetime, staff: str, cid: str) -> None:
        """Take one ticket through the steps that lead to its planned status."""
        rng, tickets = self.rng, self.crm.tickets
        if plan == "new":
            return
        when = self.after(opened, 3)
        tickets.step(tid, "Acknowledged and asked for details", staff=staff, at=when, result="customer replied")
        when = self.after(when, 6)
        if plan == "pending":
            tickets.pend(tid, reason="waiting for photos from the customer", at=when)
        elif plan == "duplicate" and self.tickets_of[cid][0][0] != tid:
            tickets.mark_duplicate(tid, of=self.tickets_of[cid][0][0], at=when)
        elif plan in ("rejected", "duplicate"):
            tickets.reject(tid, reason=rng.choice(("spam", "out of scope", "sent twice by mistake")), at=when)
        elif plan == "assigned":
            return
        else:
            if n == 0 or rng.random() < 0.6:
                tickets.step(tid, "Checked the order history", staff=staff, at=when, result="found the cause")
                when = self.after(when, 12)
            if plan == "escalated":
                tickets.escalate(tid, reason="needs a manager's approval", to="maria", priority="high", at=when)
                return
            tickets.resolve(tid, rng.choice(("Issued a credit note", "Sent a replacement", "Reset the account",
                                             "Explained the terms", "Refunded the payment")),
                            effect=rng.choice(("customer satisfied", "partly fixed", None)), resolved_by=staff,
                            at=when)
            if plan in ("closed", "reopened"):
                if n == 1 or rng.random() < 0.8:
                    when = self.after(when, 4)
                    tickets.rate(tid, rng.choice((2, 3, 4, 5, 5)), comment=rng.choice(("quick help", None)),
                                 at=when)
                when = self.after(when, 24)
                tickets.close(tid, at=when)
            if plan == "reopened":
                tickets.reopen(tid, reason="the problem came back", at=self.after(when, 48))

    # -- interactions --------------------------------------------------------------

    def interactions(self) -> None:
        rng = self.rng
        rows = []
        ids = list(self.arrived)
        for n in range(120):
            cid = "C-1" if n % 12 == 0 else rng.choice(ids)
            channel = rng.choice(CHANNELS)
            topic = rng.choice(TOPICS)
            at = self.between(max(self.arrived[cid], self.ago(days=60)))
            row: dict[str, Any] = {
                "customer_id": cid, "channel": channel, "at": at, "topics": [topic],
                "summary": rng.choice(SUMMARIES[channel]).format(topic=topic),
                "direction": rng.choice(("inbound", "outbound")), "staff": rng.choice(STAFF),
                "outcome": rng.choice(OUTCOMES),
            }
            if channel in ("meeting", "visit"):
                row["location"] = "our office" if channel == "meeting" else "customer site"
                row["attendees"] = rng.sample(STAFF, 2)
            linked = [tid for tid, opened in self.tickets_of.get(cid, ()) if opened < at]
            if linked and rng.random() < 0.25:
                row["ticket_id"] = rng.choice(linked)
            if rng.random() < 0.15:
                row["follow_up_on"] = (self.now + timedelta(days=rng.randint(1, 14))).date()
            rows.append(row)
        self.crm.interactions.log_many(sorted(rows, key=lambda r: r["at"]))
