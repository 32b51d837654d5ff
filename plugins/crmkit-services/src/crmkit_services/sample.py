"""The sample business: Northbridge Managed IT, a small IT and facilities service provider.

``build_demo(crm)`` fills an empty services store through the public services:
34 customers from ``data/customers.csv`` (plans, levels, account managers,
contract and renewal dates), their signed contracts with monthly payments,
lifecycle moves, service reviews, a few renewal deals, and about 70 tickets over
the last five weeks that follow the desk's rules (steps written as
``kind: what was done``, resolved within or past their SLA, rated on close
or through a CSAT survey). Times count back from ``crm.now()`` and fall in
the desk's business hours, so the store always looks current; a seeded
generator makes it the same every time for the same moment.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from typing import Any

from crmkit import ValidationError
from crmkit.demo import DemoSummary

from .profile import DEMO_TOUR

AGENTS = ("sam", "lee", "noor", "jonas")
LEADS = ("maria",)
SUBJECTS = {
    "incident": ("Email not syncing on phones", "File server unreachable", "Printer offline on floor 2",
                 "VPN drops every few minutes", "Laptop will not boot", "Wi-Fi slow in the meeting room",
                 "Accounts package crashes on start", "Phishing email clicked by a user",
                 "Card terminal cannot reach the network", "Backup job failed overnight"),
    "service request": ("New starter: laptop and accounts", "Add a shared mailbox", "Reset MFA for a user",
                        "Install design software", "Leaver: remove access", "Order two monitors"),
    "maintenance": ("Quarterly server patching", "Replace UPS batteries", "Firewall firmware update",
                    "Annual printer service"),
    "change request": ("Move the office to a new broadband line", "Add a guest Wi-Fi network",
                       "Migrate file shares to SharePoint"),
    "complaint": ("Engineer arrived late", "Same printer fault for the third time", "Invoice does not match plan"),
    "question": ("Is our antivirus covering home laptops?", "What does the plan include for phones?",
                 "Can we add another site to the contract?"),
}
CATEGORY_WEIGHTS = (("incident", 40), ("service request", 22), ("maintenance", 10), ("change request", 8),
                    ("complaint", 8), ("question", 12))
STEP_TEXTS = {
    "diagnosis": ("diagnosis: remote session, found the cause in the event log", "diagnosis: reproduced the fault",
                  "diagnosis: checked monitoring, a failed update", "diagnosis: spoke to the user, narrowed it down"),
    "action": ("action: applied the fix and tested with the user", "action: replaced the faulty part on site",
               "action: reconfigured and restarted the service", "action: set up as requested"),
    "check": ("check: verified with monitoring for a day", "check: user confirmed all works",
              "check: test restore succeeded"),
    "approval": ("approval: change approved by the customer's office manager",
                 "approval: signed off in the change meeting"),
}
SOLUTIONS = ("Fixed and confirmed with the user", "Replaced the part; working", "Done as requested",
             "Configuration corrected", "Explained and documented in the customer's wiki")
REVIEWS = ("Quarterly service review: SLA figures and open issues", "Renewal conversation",
           "Onboarding kick-off meeting", "Called to check on recent incidents", "Sent the monthly service report")


def sample_customers() -> list[dict[str, str]]:
    """The rows of ``data/customers.csv``."""
    with resources.files("crmkit_services").joinpath("data/customers.csv").open(encoding="utf-8") as fp:
        return list(csv.DictReader(fp))


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


class _Builder:
    def __init__(self, crm: Any, rng: random.Random) -> None:
        self.crm = crm
        self.rng = rng
        self.now = crm.now().astimezone(timezone.utc).replace(microsecond=0)
        self.today = self.now.date()
        self.hours = crm.profile.business_hours
        self.created: dict[str, datetime] = {}
        self.served: list[str] = []

    def work_time(self, not_before: datetime, days_back: float) -> datetime:
        """A random moment in business hours, at most ``days_back`` days ago and after ``not_before``."""
        start = max(not_before, self.now - timedelta(days=days_back))
        for _ in range(200):
            moment = start + timedelta(seconds=self.rng.randint(0, max(int((self.now - start).total_seconds()), 60)))
            moment = moment.replace(second=0)
            if self.hours is None or self.hours.is_open(moment):
                return min(moment, self.now)
        return start

    def later(self, start: datetime, working_hours: float) -> datetime:
        """``working_hours`` of business time after ``start``."""
        return self.hours.add(start, working_hours) if self.hours else start + timedelta(hours=working_hours)

    # -- customers, contracts, lifecycle ------------------------------------------------

    def customers(self) -> None:
        rows = []
        for number, row in enumerate(sample_customers(), start=1):
            cid = f"C-{number}"
            months = int(row["start_months_ago"]) if row["start_months_ago"] else None
            start = self.today - timedelta(days=30 * months) if months else None
            created = datetime.combine(start - timedelta(days=21) if start else
                                       self.today - timedelta(days=self.rng.randint(8, 40)),
                                       datetime.min.time(), timezone.utc) + timedelta(hours=10)
            self.created[cid] = created
            fields: dict[str, Any] = {"account_manager": row["account_manager"],
                                      "auto_renew": row["auto_renew"] == "yes"}
            if row["level"]:
                fields.update(service_level=row["level"], service_plan=row["plan"])
            if start:
                fields["contract_start"] = start.isoformat()
                fields["renewal_date"] = (self.today + timedelta(days=int(row["renews_in_days"]))).isoformat()
            if row["contract"] == "yes":
                fields["contract_number"] = f"NB-{start.year}-{number:03d}"
            company = row["kind"] == "company"
            domain = f"{'-'.join(_slug(word) for word in row['name'].split()[:2] if _slug(word))}.example.com"
            person = row["name"].split()[0].lower()
            rows.append({
                "id": cid, "name": row["name"], "kind": row["kind"], "created_at": created,
                "industry": row["industry"] or None, "owner": row["account_manager"],
                "emails": [f"it@{domain}" if company else f"{person}@example.org"],
                "phones": [f"+44 20 7946 {number:04d}"],
                "address": {"city": row["city"], "country": row["country"]},
                "tags": ["key account"] if row["level"] == "gold" else [],
                "stage": self.crm.profile.initial_stage,
                "stage_history": [{"to_stage": self.crm.profile.initial_stage, "at": created,
                                   "by": row["account_manager"], "reason": "created"}],
                "fields": fields,
                "contacts": [{"name": f"{self.rng.choice(('Alex', 'Jo', 'Chris', 'Sam', 'Robin'))} "
                                      f"{self.rng.choice(('Hart', 'Moss', 'Reid', 'Shaw', 'Lowe'))}",
                              "title": "Office manager", "email": f"office@{domain}", "primary": True}]
                            if company else [],
            })
        self.crm.customers.add_many(rows, keep_ids=True)
        for number, row in enumerate(sample_customers(), start=1):
            self._journey(f"C-{number}", row)

    def _journey(self, cid: str, row: dict[str, str]) -> None:
        move = self.crm.lifecycle.move
        fields = self.crm.customers.get(cid).fields
        manager = row["account_manager"]
        if row["stage"] in ("prospect",):
            return
        if row["stage"] == "proposal":
            move(cid, "proposal", reason="sent a service proposal", at=self.created[cid] + timedelta(days=3),
                 by=manager)
            self.crm.deals.add(cid, f"{row['name']}: managed IT", amount=self.rng.choice((6000, 9600, 14400)),
                               currency="GBP", stage="proposal", owner=manager,
                               at=self.created[cid] + timedelta(days=3))
            return
        start = datetime.combine(date.fromisoformat(fields["contract_start"]), datetime.min.time(),
                                 timezone.utc) + timedelta(hours=9)
        move(cid, "onboarding", reason="contract signed", at=start, by=manager)
        if row["contract"] == "yes":
            self._contract(cid, row, fields)
        if row["stage"] == "onboarding":
            return
        self.served.append(cid)
        move(cid, "active", reason="onboarding finished", at=min(start + timedelta(days=30), self.now), by=manager)
        if row["stage"] == "at risk":
            move(cid, "at risk", reason="unhappy with response times; renewal in doubt",
                 at=self.now - timedelta(days=self.rng.randint(3, 20)), by=manager)
            self.crm.deals.add(cid, f"{row['name']}: renewal", amount=float(row["value"] or 0) or None,
                               currency="GBP" if row["value"] else None, stage="contract review", owner=manager,
                               at=self.now - timedelta(days=2))
        elif row["stage"] == "former":
            move(cid, "former", reason="did not renew", at=datetime.combine(
                date.fromisoformat(fields["renewal_date"]), datetime.min.time(), timezone.utc), by=manager)

    def _contract(self, cid: str, row: dict[str, str], fields: dict[str, Any]) -> None:
        contracts = self.crm.contracts
        starts = date.fromisoformat(fields["contract_start"])
        ends = date.fromisoformat(fields["renewal_date"])
        months = max(1, min(12, (ends - starts).days // 30))
        contract = contracts.add(cid, number=fields["contract_number"], title=row["plan"], value=float(row["value"]),
                                 currency=row["currency"], starts_on=starts, ends_on=ends, monthly=months,
                                 first_due_on=starts)
        contracts.sign(contract.id, starts - timedelta(days=7))
        contract = contracts.activate(contract.id, on=starts)
        for instalment in contract.instalments:
            if instalment.due_on <= self.today - timedelta(days=3):
                contracts.pay(contract.id, contract.instalments.index(instalment) + 1, paid_on=instalment.due_on)
        if ends < self.today:
            contracts.expire(contract.id)

    # -- the service desk --------------------------------------------------------------

    def tickets(self) -> None:
        self._featured()
        categories = [name for name, weight in CATEGORY_WEIGHTS for _ in range(weight)]
        for n in range(68):
            cid = self.rng.choice(self.served)
            category = self.rng.choice(categories)
            recent = n % 5 == 0
            opened = self.work_time(self.created[cid], 1.5 if recent else 35)
            priority = self.rng.choice(("urgent", "high", "high", "normal", "normal", "normal", "low")
                                       if category == "incident" else ("high", "normal", "normal", "low"))
            agent = self.rng.choice(AGENTS)
            ticket = self.crm.tickets.open(
                cid, self.rng.choice(SUBJECTS[category]), category=category, priority=priority,
                channel=self.rng.choice(("email", "phone", "phone", "web", "chat")), at=opened,
                assignee=None if recent and self.rng.random() < 0.4 else agent,
                description="Reported by the customer's office manager.")
            if ticket.assignee:
                self._work(ticket, agent)

    def _featured(self) -> None:
        """C-1's open urgent incident (diagnosed, not fixed yet) and a closed, well rated one."""
        tickets = self.crm.tickets
        opened = self.work_time(self.created["C-1"], 0.4)
        first = tickets.open("C-1", "X-ray imaging PC cannot reach the server", category="incident",
                             priority="urgent", channel="phone", assignee="sam", at=opened,
                             description="Surgery 2 cannot load patient images.")
        tickets.step(first.id, "diagnosis: imaging PC lost its static IP after a Windows update", staff="sam",
                     result="workaround: images copied by USB", at=min(self.later(opened, 0.2), self.now))
        opened = self.work_time(self.created["C-1"], 20)
        second = tickets.open("C-1", "New dentist starting Monday: accounts and laptop", category="service request",
                              priority="normal", channel="email", assignee="lee", at=opened)
        self._finish(second, "lee", 0.5, rated=5)

    def _steps(self, ticket: Any, agent: str, until: datetime) -> datetime:
        """Record the category's required steps (and sometimes a note) between opening and ``until``."""
        kinds = list(self.crm.profile.steps_for(ticket.category)) or ["note"]
        when = ticket.opened_at
        share = (until - ticket.opened_at) / (len(kinds) + 1)
        for kind in kinds:
            when = min(when + share, self.now)
            text = self.rng.choice(STEP_TEXTS.get(kind, ("note: answered by email",)))
            self.crm.tickets.step(ticket.id, text, staff=agent, at=when,
                                  result=self.rng.choice(("done", "as expected", None)))
        return when

    def _work(self, ticket: Any, agent: str) -> None:
        target = self.crm.profile.sla_target(ticket.priority.value,
                                             self.crm.profile.sla_level(self.crm.customers.get(ticket.customer_id)
                                                                        .fields))
        roll = self.rng.random()
        if roll < 0.06:
            when = self.later(ticket.opened_at, target.first_response_hours * 0.5)
            if when < self.now:
                self.crm.tickets.pend(ticket.id, reason="waiting for the customer to test", at=when)
            return
        if roll < 0.12:
            when = self.later(ticket.opened_at, target.first_response_hours * 0.8)
            if when < self.now:
                self.crm.tickets.step(ticket.id, "diagnosis: needs a specialist", staff=agent, at=when)
                self.crm.tickets.escalate(ticket.id, reason="needs the network team", to=self.rng.choice(LEADS),
                                          at=when)
            return
        # Mostly within the target; about one in five late.
        share = self.rng.uniform(0.2, 0.95) if self.rng.random() < 0.8 else self.rng.uniform(1.05, 1.8)
        self._finish(ticket, agent, share)

    def _finish(self, ticket: Any, agent: str, share: float, rated: int | None = None) -> None:
        tickets = self.crm.tickets
        target = self.crm.profile.sla_target(ticket.priority.value, self.crm.profile.sla_level(
            self.crm.customers.get(ticket.customer_id).fields))
        done_at = self.later(ticket.opened_at, target.resolution_hours * share)
        if done_at >= self.now:
            # Not finished yet: the first step only, so the ticket is worked but open.
            first = self.later(ticket.opened_at, target.first_response_hours * share)
            if first < self.now:
                kind = (self.crm.profile.steps_for(ticket.category) or ("note",))[0]
                tickets.step(ticket.id, self.rng.choice(STEP_TEXTS.get(kind, ("note: replied",))), staff=agent,
                             at=first)
            return
        self._steps(ticket, agent, done_at)
        tickets.resolve(ticket.id, self.rng.choice(SOLUTIONS), resolved_by=agent, at=done_at)
        closed = self.later(done_at, self.rng.uniform(1, 12))
        if closed >= self.now:
            return
        score = rated or self.rng.choice((5, 5, 4, 4, 4, 3, 2)) if self.rng.random() < 0.75 or rated else None
        by_survey = score is not None and self.rng.random() < 0.35
        if score is not None and not by_survey:
            tickets.rate(ticket.id, score, at=min(self.later(done_at, 0.5), closed),
                         comment=self.rng.choice(("quick fix", "friendly engineer", None)))
        tickets.close(ticket.id, at=closed)
        answered = self.later(closed, self.rng.uniform(2, 20))
        if by_survey and answered < self.now:
            self.crm.feedback.survey(ticket.customer_id, csat=score, ticket_id=ticket.id, at=answered,
                                     channel="email", comment="via the satisfaction email")

    # -- conversations -------------------------------------------------------------------

    def interactions(self) -> None:
        rows = []
        for cid in self.served:
            for _ in range(self.rng.randint(1, 3)):
                at = self.work_time(self.created[cid], 80)
                rows.append({"customer_id": cid, "channel": self.rng.choice(("meeting", "phone", "email")),
                             "at": at, "summary": self.rng.choice(REVIEWS), "direction": "outbound",
                             "staff": self.crm.customers.get(cid).fields.get("account_manager"),
                             "outcome": self.rng.choice(("positive", "needs follow-up", None))})
        self.crm.interactions.log_many(sorted(rows, key=lambda r: r["at"]))

    def tidy_rating_requests(self) -> None:
        """Rating requests nobody answered for a week were given up on (cancelled)."""
        for task in self.crm.tasks.find(status="open"):
            if task.title.startswith("Ask ") and task.due_at and task.due_at < self.now - timedelta(days=7):
                self.crm.tasks.cancel(task.id, reason="no answer after two reminders")


def build_demo(crm: Any, *, seed: int = 7) -> DemoSummary:
    """Fill an empty services store with Northbridge Managed IT's customers, contracts and service desk."""
    if crm.customers.count():
        raise ValidationError("store", crm.storage.url, "already holds customers; the demo needs an empty store")
    builder = _Builder(crm, random.Random(seed))
    with crm.transaction():
        builder.customers()
        builder.tickets()
        builder.interactions()
    # Rating requests are made after the commit (crmkit_on_commit), so they are tidied afterwards.
    with crm.transaction():
        builder.tidy_rating_requests()
    return DemoSummary(customers=crm.customers.count(), interactions=crm.interactions.count(),
                       tickets=crm.tickets.count(), overdue=len(crm.tickets.overdue()), featured="C-1")


def iter_sample_names() -> Iterator[str]:
    """The sample customers' names, in id order."""
    return (row["name"] for row in sample_customers())


__all__ = ["DEMO_TOUR", "build_demo", "iter_sample_names", "sample_customers"]
