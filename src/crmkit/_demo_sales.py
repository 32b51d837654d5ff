"""The sales and marketing half of the demo: deals, contracts, orders, tasks, feedback and a campaign.

A mixin of ``crmkit.demo._Builder``: it uses the builder's seeded random
generator, its clock helpers and the customers it made.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .errors import CrmkitError

DEAL_TITLES = ("Spring restock", "Office refit", "Annual service plan", "Website relaunch", "Fleet upgrade",
               "Event catering", "Staff training", "New POS terminals", "Warehouse shelving", "Loyalty programme")
PRODUCTS = (("Linen cushion", 24.5), ("Oak side table", 189.0), ("Wool throw", 59.0), ("Desk lamp", 42.0),
            ("Gift card", 50.0), ("Ceramic vase", 35.0), ("Delivery", 9.5))
LOST_REASONS = ("went with a competitor", "no budget this year", "timing", "price too high")
FEEDBACK = (("praise", "Friendly staff and a quick delivery."), ("suggestion", "Please open on Sundays."),
            ("complaint", "The invoice arrived twice."), ("praise", "Great advice on the fabrics."))
CURRENCY = "EUR"


class SalesDemo:
    """Deals, contracts, orders, tasks, feedback and a campaign for the demo customers."""

    crm: Any
    rng: Any
    arrived: dict
    now: Any

    def sales(self) -> None:
        """Open deals across the pipeline, win and lose some, and put a contract on the biggest win."""
        rng, deals = self.rng, self.crm.deals
        open_stages = [s.name for s in self.crm.profile.deal_stages if s.kind == "open"]
        ids = list(self.arrived)
        biggest = None
        for n in range(24):
            cid = "C-1" if n < 2 else rng.choice(ids)
            opened = self.between(max(self.arrived[cid], self.ago(days=50)), self.ago(days=2))
            deal = deals.add(cid, f"{rng.choice(DEAL_TITLES)} for {self._name(cid)}",
                             amount=rng.choice((800, 1200, 2500, 4800, 9600, 15000)), currency=CURRENCY,
                             stage=open_stages[0], at=opened, owner=rng.choice(("maria", "jonas", "priya", "tom")),
                             source=rng.choice(("website", "referral", "trade show", "campaign")),
                             expected_close_on=(self.now + timedelta(days=rng.randint(5, 60))).date())
            when = opened
            for stage in open_stages[1 : rng.randint(1, len(open_stages))]:
                when = self.after(when, 72)
                deals.move(deal.id, stage, at=when)
            fate = rng.random()
            if fate < 0.3 or n == 0:
                won = self._try(deals.win, deal.id, at=self.after(when, 72))
                if won is not None and (biggest is None or won.amount > biggest.amount):
                    biggest = won
            elif fate < 0.45:
                deals.lose(deal.id, rng.choice(LOST_REASONS), at=self.after(when, 72))
        if biggest is not None:
            start = self.now.date() - timedelta(days=20)
            contract = self.crm.contracts.add(biggest.customer_id, deal_id=biggest.id, title=biggest.title,
                                              starts_on=start, ends_on=start + timedelta(days=364),
                                              monthly=12)
            self.crm.contracts.sign(contract.id, start - timedelta(days=2))
            self.crm.contracts.activate(contract.id, on=start)

    def orders(self) -> None:
        """Two months of shop orders; most paid and shipped, a few returned or cancelled."""
        rng = self.rng
        for n in range(60):
            cid = "C-1" if n % 10 == 0 else rng.choice(list(self.arrived))
            at = self.between(max(self.arrived[cid], self.ago(days=60)))
            items = [f"{name}:{rng.randint(1, 3)}:{price}" for name, price in rng.sample(PRODUCTS, rng.randint(1, 3))]
            order = self.crm.orders.add(cid, items=items, currency=CURRENCY, at=at, number=f"W-{1000 + n}",
                                        channel=rng.choice(("web", "store", "phone")))
            fate = rng.random()
            if fate < 0.08:
                self.crm.orders.cancel(order.id, reason="changed their mind", at=self.after(at, 12))
                continue
            paid = self.after(at, 24)
            self.crm.orders.pay(order.id, at=paid)
            if fate < 0.9:
                shipped = self.after(paid, 48)
                self.crm.orders.ship(order.id, at=shipped)
                if fate < 0.15:
                    self.crm.orders.return_(order.id, reason="wrong size", at=self.after(shipped, 96))

    def service(self) -> None:
        """Tasks for the team, feedback with survey answers, and a campaign to the customers who opted in."""
        rng, crm = self.rng, self.crm
        for n in range(8):
            cid = rng.choice(list(self.arrived))
            crm.tasks.add(rng.choice(("Send the price list", "Call about the renewal", "Book a showroom visit",
                                      "Chase the unpaid invoice")), customer_id=cid,
                          due=(self.now + timedelta(days=rng.randint(-3, 10))).isoformat(timespec="seconds"),
                          assignee=rng.choice(("maria", "jonas", "priya", "tom")), priority="normal")
        for n, cid in enumerate(rng.sample(list(self.arrived), 14)):
            at = self.between(max(self.arrived[cid], self.ago(days=30)))
            if n % 3 == 2:
                kind, text = FEEDBACK[n % len(FEEDBACK)]
                crm.feedback.add(cid, kind, text, at=at)
            else:
                crm.feedback.survey(cid, nps=rng.choice((3, 6, 7, 8, 9, 9, 10, 10)), at=at,
                                    comment=rng.choice((None, "Good value", "Slow reply to my email")))
        campaign = crm.campaigns.create("Spring offer", "email", starts_on=self.now.date() - timedelta(days=10),
                                        ends_on=self.now.date() + timedelta(days=20), budget=500, currency=CURRENCY,
                                        segment="tags~newsletter or tags~vip")
        added = crm.campaigns.add_members(campaign.id, at=self.ago(days=9))
        for member in added.added[: max(1, len(added.added) * 2 // 3)]:
            crm.campaigns.respond(campaign.id, member.customer_id, rng.choice(("sent", "opened", "opened", "responded",
                                                                  "converted")), at=self.ago(days=rng.randint(1, 8)))

    def _name(self, cid: str) -> str:
        return str(self.crm.storage.get("customers", cid)["name"]).split()[0]

    @staticmethod
    def _try(verb: Any, *args: Any, **kwargs: Any) -> Any:
        # A profile's rules may refuse a move the sample story makes; the demo goes on without it.
        try:
            return verb(*args, **kwargs)
        except CrmkitError:
            return None
