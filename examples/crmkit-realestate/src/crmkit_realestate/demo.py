"""Sample data for ``crmkit demo --profile realestate``: a dozen buyers of a Leeds agency.

Everything is made through crmkit's public services, dated back from
``crm.now()`` so the store always looks current, and without randomness, so
two demos made at the same moment are the same.
"""

from datetime import timedelta

from crmkit import ValidationError
from crmkit.demo import DemoSummary

#: Extra commands the demo's tour runs after crmkit's own.
DEMO_TOUR = (("realestate", "stale-viewings", "--days", "7"),)

READY = {"finance": "mortgage in principle"}
#: name, custom fields, the property they offer on (and the price), and their story:
#: (days ago, step, channel, summary). A step is a lifecycle stage, a deal stage, or None.
BUYERS = (
    ("Amelia Hart", {"position": "first-time buyer", "max_budget": 260000, "bedrooms": 2, **READY,
                     "areas": ["Headingley", "Meanwood"], "id_document": "PA 4417 2209"},
     ("14 Cardigan Road", 252000),
     ((45, "enquiry", "web", "Registered a search"), (40, "viewing", "visit", "Viewed 14 Cardigan Road"),
      (33, "offer", "phone", "Offered £245,000"), (30, "sale agreed", "phone", "Offer of £252,000 accepted"),
      (4, None, "email", "Searches back; mortgage valuation booked"))),
    ("Bilal Qureshi", {"position": "chain-free", "max_budget": 420000, "bedrooms": 4, "finance": "cash",
                       "areas": ["Roundhay"], "property_type": "house"},
     ("3 Park Avenue", 405000),
     ((58, "enquiry", "phone", "Asked about 3 Park Avenue"), (55, "viewing", "visit", "Viewed 3 Park Avenue"),
      (50, "offer", "phone", "Cash offer"), (48, "sale agreed", "phone", "Offer accepted"),
      (20, "exchanged", "email", "Contracts exchanged"), (6, "completed", "visit", "Keys handed over"))),
    ("Chloe Brennan", {"position": "selling to buy", "max_budget": 330000, "bedrooms": 3, **READY,
                       "areas": ["Chapel Allerton"]},
     ("27 Stainbeck Lane", 318000),
     ((30, "enquiry", "web", "Enquired about 27 Stainbeck Lane"), (27, "viewing", "visit", "First viewing"),
      (24, "offer", "phone", "Offered £310,000"), (22, "offer rejected", "phone", "Vendor holds out for more"),
      (12, None, "visit", "Second viewing, still keen"))),
    ("Daniel Osei", {"position": "first-time buyer", "bedrooms": 1, "areas": ["City Centre"],
                     "property_type": "flat"},
     None, ((20, "enquiry", "chat", "Asked about flats in the centre"), (18, "viewing", "visit", "Viewed two flats"))),
    ("Eleanor Finch", {"position": "investor", "max_budget": 180000, "finance": "cash", "areas": ["Hyde Park"]},
     None, ((9, "enquiry", "email", "Wants a buy-to-let near the university"),
            (3, "viewing", "visit", "Viewed 8 Brudenell Grove"))),
    ("Farah Siddiqui", {"position": "selling to buy", "max_budget": 500000, "bedrooms": 4, **READY,
                        "areas": ["Alwoodley", "Adel"]},
     None, ((35, "enquiry", "phone", "Registered a search"), (31, "viewing", "visit", "Viewed 5 Sandmoor Drive"),
            (25, None, "phone", "Waiting for her own sale"))),
    ("George Lam", {"position": "chain-free", "max_budget": 275000, "bedrooms": 3, **READY},
     None, ((14, "enquiry", "web", "Registered a search"), (2, None, "email", "Sent three new listings"))),
    ("Hannah Wood", {"position": "first-time buyer", "max_budget": 210000, "bedrooms": 2, **READY,
                     "areas": ["Kirkstall"]},
     ("11 Abbey Walk", 205000),
     ((40, "enquiry", "web", "Enquired about 11 Abbey Walk"), (37, "viewing", "visit", "Viewed 11 Abbey Walk"),
      (35, "offer", "phone", "Asking-price offer"), (33, "sale agreed", "phone", "Offer accepted"),
      (16, "fell through", "phone", "Survey found subsidence; buyer withdrew"),
      (8, None, "visit", "Viewed 2 Morris Lane"))),
    ("Isaac Turner", {"position": "investor", "max_budget": 150000, "finance": "cash"},
     None, ((50, "enquiry", "email", "Asked for rental yields"), (44, "lost", "phone", "Bought at auction"))),
    ("Jasmine Patel", {"position": "first-time buyer", "max_budget": 230000, "bedrooms": 2,
                       "areas": ["Horsforth"]},
     None, ((6, "enquiry", "web", "Registered a search"), (1, None, "phone", "Booked a viewing for Saturday"))),
)
#: Which buyer gets which ticket: (buyer number, subject, category, priority, days ago, resolved?).
TICKETS = ((1, "When will the mortgage valuation happen?", "sales progress", "normal", 5, False),
           (3, "Please book a second viewing of 27 Stainbeck Lane", "viewing request", "high", 13, True),
           (8, "Nobody called back after the survey", "complaint", "high", 15, False))


def build_demo(crm):
    """Fill an empty realestate store with the sample buyers and return what was made."""
    if crm.customers.count():
        raise ValidationError("store", crm.storage.url, "already holds customers; the demo needs an empty store")
    now = crm.now().replace(microsecond=0)
    with crm.transaction():  # one write for the whole demo
        for number, (name, fields, purchase, story) in enumerate(BUYERS, start=1):
            _buyer(crm, f"C-{number}", name, fields, purchase, story, now)
        for number, subject, category, priority, days, resolved in TICKETS:
            ticket = crm.tickets.open(f"C-{number}", subject, category=category, priority=priority,
                                      at=now - timedelta(days=days))
            if resolved:
                crm.tickets.resolve(ticket.id, "Booked and confirmed with the buyer",
                                    at=now - timedelta(days=days - 1))
    return DemoSummary(customers=crm.customers.count(), interactions=crm.interactions.count(),
                       tickets=crm.tickets.count(), overdue=len(crm.tickets.overdue()), featured="C-1",
                       deals=crm.deals.count())


def _buyer(crm, cid, name, fields, purchase, story, now):
    first = now - timedelta(days=story[0][0])
    email = name.lower().replace(" ", ".") + "@example.com"
    crm.customers.add_many([{"id": cid, "name": name, "emails": [email], "fields": fields, "created_at": first,
                             "stage": "enquiry", "source": "property portal",
                             "stage_history": [{"to_stage": "enquiry", "at": first, "reason": "created"}]}],
                           keep_ids=True)
    deal = None
    for days, step, channel, summary in story:
        at = now - timedelta(days=days)
        if step == "offer":
            crm.lifecycle.move(cid, "offer", at=at)
            deal = crm.deals.add(cid, purchase[0], amount=purchase[1], currency="GBP", at=at)
        elif step in ("sale agreed", "exchanged"):
            crm.deals.move(deal.id, step, at=at)
            if step == "sale agreed":
                crm.lifecycle.move(cid, step, at=at)
        elif step == "completed":
            crm.deals.win(deal.id, at=at)  # the profile's won_lifecycle_stage moves the buyer on
        elif step in ("offer rejected", "fell through"):
            crm.deals.lose(deal.id, summary, at=at)
            crm.lifecycle.move(cid, "viewing", at=at)
        elif step not in (None, "enquiry"):
            crm.lifecycle.move(cid, step, at=at)
        direction = "outbound" if channel == "email" else "inbound"
        crm.interactions.log(cid, channel, summary, at=at, direction=direction)
