"""The sample business: Linden & Co, a home and lifestyle shop with two branches and a web shop.

``build_sample(crm)`` fills an empty retail store through the public services,
deterministically (a seeded random generator, times relative to
``crm.now()``): 42 customers whose purchase patterns span every RFM segment,
about 190 orders over the last 15 months from the product list in
``data/products.csv`` (two returned, one cancelled), lifecycle moves made by
the lifecycle rule month by month, service tickets in the retail categories,
interactions, and a planned win-back email campaign. ``crmkit demo --profile
retail`` uses it, and so do the tests.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

import attrs

from crmkit import ValidationError
from crmkit.demo import DemoSummary

from .analysis import run_lifecycle
from .profile import DEMO_TOUR
from .rules import CONSENT_SOURCES


STAFF = ("lena", "tobias", "aylin", "jonas")
STORES = ("Berlin Mitte", "Hamburg Altona")
CURRENCY = "EUR"


@attrs.frozen
class Persona:
    """How a sample customer buys: number of orders, days since the last one, days since the first one."""

    kind: str
    orders: tuple[int, int]
    last: tuple[int, int]
    first: tuple[int, int] = (300, 450)


#: Patterns aimed at each RFM segment (the quintiles decide the final segment), and prospects.
PERSONAS = {
    "champion": Persona("champion", (9, 14), (0.5, 6)),
    "loyal": Persona("loyal", (5, 8), (15, 40)),
    "potential": Persona("potential", (2, 3), (3, 30), (40, 150)),
    "new": Persona("new", (1, 1), (3, 14), (3, 14)),
    "promising": Persona("promising", (1, 1), (20, 45), (20, 45)),
    "attention": Persona("attention", (3, 4), (50, 80), (200, 400)),
    "sleepy": Persona("sleepy", (1, 2), (60, 100), (60, 250)),
    "at_risk": Persona("at_risk", (3, 5), (120, 230)),
    "cannot_lose": Persona("cannot_lose", (8, 12), (150, 260), (400, 450)),
    "hibernating": Persona("hibernating", (1, 2), (150, 250), (150, 350)),
    "lost": Persona("lost", (1, 1), (300, 420), (300, 420)),
    "subscriber": Persona("subscriber", (0, 0), (0, 0)),
    "visitor": Persona("visitor", (0, 0), (0, 0)),
}

#: (name, persona); the first is the featured customer.
CUSTOMERS = (
    ("Mara Schulz", "champion"), ("Jonas Weber", "champion"), ("Sofia Rossi", "champion"),
    ("Emil Hartmann", "champion"), ("Leonie Brandt", "champion"),
    ("Paul Becker", "loyal"), ("Hanna Vogel", "loyal"), ("Amir Haddad", "loyal"), ("Clara Winter", "loyal"),
    ("Felix Neumann", "loyal"),
    ("Ida Krüger", "potential"), ("Noah Fischer", "potential"), ("Lina Bauer", "potential"),
    ("Mateo García", "potential"), ("Greta Lange", "potential"),
    ("Yusuf Demir", "new"), ("Ella Schröder", "new"), ("Ben Koch", "new"), ("Nora Jansen", "new"),
    ("Theo Wolf", "promising"), ("Mila Horn", "promising"), ("Oskar Pohl", "promising"),
    ("Frieda Kaiser", "attention"), ("Anton Lorenz", "attention"), ("Zoe Martin", "attention"),
    ("Karl Huber", "sleepy"), ("Luisa Franke", "sleepy"), ("Jan Peters", "sleepy"),
    ("Marta Nowak", "at_risk"), ("Elias Roth", "at_risk"), ("Helena Berg", "at_risk"),
    ("Viktor Engel", "cannot_lose"), ("Agnes Sommer", "cannot_lose"),
    ("Tilda Ernst", "hibernating"), ("Moritz Busch", "hibernating"),
    ("Rosa Scholz", "lost"), ("Erik Dahl", "lost"),
    ("Anna Lindqvist", "subscriber"), ("Samuel Ott", "subscriber"), ("Pia Kuhn", "subscriber"),
    ("Lukas Frey", "visitor"), ("Irma Seidel", "visitor"),
)
#: Customers with no marketing consent at all, and one who agreed in store but left no email address.
NO_CONSENT = frozenset({"Elias Roth", "Agnes Sommer", "Karl Huber", "Rosa Scholz", "Lukas Frey"})
NO_EMAIL = frozenset({"Helena Berg"})

TICKETS = (
    # (customer number, subject, category, priority, plan)
    (1, "Casserole lid cracked on arrival", "complaint", "high", "closed"),
    (1, "Can I exchange the bed set for 200x220?", "exchange", "normal", "assigned"),
    (3, "Parcel shows delivered but never arrived", "delivery", "urgent", "escalated"),
    (6, "Return of the table lamp", "return", "normal", "resolved"),
    (8, "Is the wool throw machine washable?", "product question", "low", "closed"),
    (12, "Delivery slot for the garden set", "delivery", "normal", "new"),
    (17, "Wrong colour of cushion covers", "exchange", "normal", "pending"),
    (24, "Refund for the returned towels not received", "complaint", "high", "new"),
    (29, "Knife handle came loose", "return", "normal", "closed"),
    (32, "Which lamp shade fits the pendant?", "product question", "low", "resolved"),
)

INTERACTION_TEXTS = {
    "visit": ("Visited the {store} branch, browsed {category}", "Picked up an order in {store}"),
    "email": ("Asked about {category} restock", "Replied to the newsletter about {category}"),
    "chat": ("Web chat: sizes and materials in {category}", "Web chat about delivery times"),
    "phone": ("Called about an order", "Called to reserve an item in {category}"),
}


def load_products() -> list[dict[str, Any]]:
    """The sample catalogue: sku, product, category, price (EUR)."""
    text = resources.files("crmkit_retail").joinpath("data/products.csv").read_text(encoding="utf-8")
    return [{**row, "price": float(row["price"])} for row in csv.DictReader(text.splitlines())]


def build_sample(crm: Any, *, seed: int = 7) -> DemoSummary:
    """Fill an empty retail store with Linden & Co and describe what was made (``crmkit.demo.DemoSummary``)."""
    if crm.customers.count():
        raise ValidationError("store", crm.customers.count(), "already holds customers; the sample needs an empty store")
    builder = _Builder(crm, random.Random(seed))
    with crm.transaction():
        builder.customers()
        builder.orders()
        builder.lifecycle()
        builder.tickets()
        builder.interactions()
        builder.campaign()
    return DemoSummary(customers=crm.customers.count(), interactions=crm.interactions.count(),
                       tickets=crm.tickets.count(), overdue=len(crm.tickets.overdue()), featured="C-1")


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return ".".join(part.lower() for part in ascii_name.split())


class _Builder:
    def __init__(self, crm: Any, rng: random.Random) -> None:
        self.crm = crm
        self.rng = rng
        self.now = crm.now().replace(microsecond=0)
        self.products = load_products()
        self.plans: dict[str, tuple[Persona, list[datetime], str]] = {}  # id -> persona, order times, channel
        self.arrived: dict[str, datetime] = {}

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    # -- customers ----------------------------------------------------------------------------

    def customers(self) -> None:
        rng, rows = self.rng, []
        for number, (name, kind) in enumerate(CUSTOMERS, start=1):
            persona = PERSONAS[kind]
            times = self._order_times(persona)
            arrived = (times[0] if times else self.ago(rng.uniform(5, 200))) - timedelta(days=rng.uniform(0, 20))
            channel = rng.choice(("store", "store", "web", "web", "app"))
            cid = f"C-{number}"
            self.plans[cid] = (persona, times, channel)
            self.arrived[cid] = arrived
            stage = "visitor" if kind == "visitor" or name in NO_CONSENT else "subscriber"
            consent = {} if name in NO_CONSENT else {"email": True, "sms": rng.random() < 0.3}
            fields: dict[str, Any] = {
                "preferred_channel": channel,
                "preferred_categories": sorted(rng.sample(("kitchen", "textiles", "decor", "lighting", "garden",
                                                           "stationery"), rng.randint(1, 3))),
                "birthday": f"{rng.randint(1955, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            }
            if channel == "store":
                fields["home_store"] = rng.choice(STORES)
            if times or rng.random() < 0.5:
                fields["membership_number"] = f"LC-{100200 + number * 7}"
            if consent:
                fields["consent_date"] = arrived.date().isoformat()
                fields["consent_source"] = rng.choice(CONSENT_SOURCES[:5])
            row = {
                "id": cid, "name": name, "created_at": arrived, "stage": stage,
                "stage_history": [{"to_stage": stage, "at": arrived, "by": rng.choice(STAFF), "reason": "created"}],
                "emails": [] if name in NO_EMAIL else [f"{_slug(name)}@example.org"],
                "phones": [f"+49 30 5550{number:04d}"],
                "address": {"street": f"{rng.choice(('Lindenstraße', 'Gartenweg', 'Hafenstraße', 'Marktplatz'))} "
                                      f"{rng.randint(1, 90)}",
                            "postal_code": f"{rng.randint(10115, 22769)}",
                            "city": rng.choice(("Berlin", "Hamburg", "Potsdam", "Lübeck")), "country": "DE"},
                "consent": consent, "fields": fields, "source": rng.choice(("web shop", "store", "newsletter", "app")),
                "tags": ["staff pick"] if kind == "champion" and number == 1 else [],
            }
            rows.append(row)
        self.crm.customers.add_many(rows, keep_ids=True)

    def _order_times(self, persona: Persona) -> list[datetime]:
        rng = self.rng
        count = rng.randint(*persona.orders)
        if not count:
            return []
        last = rng.uniform(*persona.last)
        first = max(rng.uniform(*persona.first), last)
        if count == 1:
            return [self.ago(last).replace(microsecond=0)]
        days = sorted((rng.uniform(last, first) for _ in range(count - 2)), reverse=True)
        return [self.ago(d).replace(microsecond=0) for d in (first, *days, last)]

    # -- orders ---------------------------------------------------------------------------------

    def orders(self) -> None:
        rng, rows, number = self.rng, [], 10_001
        for cid, (_persona, times, channel) in self.plans.items():
            for at in times:
                lines = rng.sample(self.products, rng.choice((1, 1, 2, 2, 3, 4)))
                items = [{"product": p["product"], "sku": p["sku"], "quantity": rng.choice((1, 1, 1, 2)),
                          "unit_price": p["price"]} for p in lines]
                rows.append({"customer_id": cid, "number": f"LC-{number}", "at": at, "items": items,
                             "currency": CURRENCY, "channel": channel, "status": "paid"})
                number += 1
        rows.sort(key=lambda row: row["at"])
        orders = self.crm.orders.add_many(rows)
        # A few orders went back: two returns and one cancellation.
        by_customer = {o.customer_id: o for o in orders}
        for cid, reason in (("C-4", "too small for the sofa"), ("C-13", "colour differs from the photo")):
            order = by_customer[cid]
            self.crm.orders.return_(order.id, at=min(self.now, order.ordered_at + timedelta(days=6)), reason=reason)
        order = by_customer["C-26"]
        self.crm.orders.cancel(order.id, at=min(self.now, order.ordered_at + timedelta(hours=3)),
                               reason="ordered twice by mistake")
        self._points()

    def _points(self) -> None:
        """One point per euro spent, minus what was redeemed (500-point vouchers)."""
        for cid, summary in self.crm.orders.summaries().items():
            spent = int(summary.spend.get(CURRENCY, 0))
            points = spent - 500 * (spent // 800)
            self.crm.customers.update(cid, fields={"loyalty_points": points})

    # -- lifecycle ---------------------------------------------------------------------------------

    def lifecycle(self) -> None:
        """Run the lifecycle rule at the end of every month of the last 15, then today, as a shop would."""
        for months_back in range(15, 0, -1):
            run_lifecycle(self.crm, as_of=self.ago(30 * months_back))
        run_lifecycle(self.crm)

    # -- service ---------------------------------------------------------------------------------------

    def tickets(self) -> None:
        rng, tickets = self.rng, self.crm.tickets
        for number, subject, category, priority, plan in TICKETS:
            cid = f"C-{number}"
            opened = self.ago(rng.uniform(2, 20)) if plan not in ("new", "pending") else self.ago(rng.uniform(0.1, 3))
            opened = max(opened, self.arrived[cid] + timedelta(hours=1))
            staff = rng.choice(STAFF)
            ticket = tickets.open(cid, subject, category=category, priority=priority, at=opened,
                                  channel=rng.choice(("email", "phone", "chat")),
                                  assignee=None if plan == "new" else staff)
            if plan == "new":
                continue
            when = opened + timedelta(hours=rng.uniform(0.5, 3))
            tickets.step(ticket.id, "Checked the order and asked for photos", staff=staff, at=when)
            if plan == "pending":
                tickets.pend(ticket.id, reason="waiting for the customer's photos", at=when)
                continue
            if plan == "assigned":
                continue
            when += timedelta(hours=rng.uniform(2, 20))
            if plan == "escalated":
                tickets.escalate(ticket.id, reason="carrier claim needs the shop manager", to="lena", at=when)
                continue
            tickets.resolve(ticket.id, rng.choice(("Sent a replacement", "Refunded the item",
                                                   "Explained the care instructions", "Booked a new delivery slot")),
                            resolved_by=staff, at=when)
            if plan == "closed":
                when += timedelta(hours=rng.uniform(1, 24))
                tickets.rate(ticket.id, rng.choice((4, 5, 5)), comment="friendly and quick", at=when)
                tickets.close(ticket.id, at=when + timedelta(hours=1))

    def interactions(self) -> None:
        rng, rows = self.rng, []
        ids = list(self.plans)
        for n in range(36):
            cid = "C-1" if n % 9 == 0 else rng.choice(ids)
            channel = rng.choice(tuple(INTERACTION_TEXTS))
            text = rng.choice(INTERACTION_TEXTS[channel]).format(
                store=rng.choice(STORES), category=rng.choice(("kitchen", "textiles", "decor", "lighting")))
            at = self.ago(rng.uniform(0.5, 90))
            at = max(at, self.arrived[cid] + timedelta(hours=2))
            rows.append({"customer_id": cid, "channel": channel, "at": at.replace(microsecond=0), "summary": text,
                         "direction": "inbound" if channel != "email" or rng.random() < 0.5 else "outbound",
                         "staff": rng.choice(STAFF)})
        self.crm.interactions.log_many(sorted(rows, key=lambda r: r["at"]))

    def campaign(self) -> None:
        self.crm.campaigns.create("Come back: 15% on your favourites", "email",
                                  starts_on=(self.now + timedelta(days=7)).date(),
                                  ends_on=(self.now + timedelta(days=28)).date(), budget=400, currency=CURRENCY,
                                  description="Win-back mailing for at-risk and cannot-lose customers.")


__all__ = ["CUSTOMERS", "DEMO_TOUR", "PERSONAS", "build_sample", "load_products"]
