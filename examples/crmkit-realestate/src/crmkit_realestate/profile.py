"""The realestate profile: an estate agency's buyers, from first enquiry to completion."""

from crmkit import BusinessHours, DealStageSpec, FieldSpec, Profile, SlaTarget, StageSpec, ValidationError

from .demo import DEMO_TOUR, build_demo


def check_bedrooms(value):
    """Refuse bedroom counts no house has (the int type already refused "three")."""
    if not 0 <= value <= 20:
        raise ValidationError("fields.bedrooms", value, "must be from 0 to 20")


REALESTATE = Profile(
    name="realestate",
    title="Estate agency",
    description="Buyers from first enquiry through viewings and offers to completion.",
    stages=(
        StageSpec(name="enquiry", label="Enquiry", description="Asked about a property or registered a search."),
        StageSpec(name="viewing", label="Viewing", description="Booked or went on viewings."),
        StageSpec(name="offer", label="Offer made", description="Made an offer on a property."),
        StageSpec(name="sale agreed", label="Sale agreed", description="An offer was accepted; conveyancing."),
        StageSpec(name="completed", label="Completed", kind="customer", description="Keys handed over."),
        StageSpec(name="lost", label="Lost", kind="lost", description="Bought elsewhere or stopped looking."),
    ),
    # A rejected offer or a sale that falls through sends the buyer back to viewing.
    transitions={
        "enquiry": ("viewing", "lost"),
        "viewing": ("offer", "lost"),
        "offer": ("viewing", "sale agreed", "lost"),
        "sale agreed": ("viewing", "completed", "lost"),
        "completed": ("enquiry",),
        "lost": ("enquiry", "viewing"),
    },
    initial_stage="enquiry",
    fields=(
        FieldSpec(name="position", type="choice", required=True, label="Buyer's position",
                  choices=("first-time buyer", "chain-free", "selling to buy", "investor")),
        FieldSpec(name="max_budget", type="int", label="Maximum budget (GBP)"),
        FieldSpec(name="bedrooms", type="int", label="Bedrooms (at least)", validator=check_bedrooms),
        FieldSpec(name="property_type", type="choice", choices=("house", "flat", "bungalow", "any"), default="any"),
        FieldSpec(name="areas", type="list", help="Areas the buyer searches, separated by ;"),
        FieldSpec(name="finance", type="choice", choices=("cash", "mortgage in principle", "not arranged"),
                  default="not arranged", help="How the buyer pays; an offer needs cash or a mortgage."),
        FieldSpec(name="id_document", sensitive=True, label="ID document number",
                  help="Passport or licence number seen for the anti-money-laundering check."),
    ),
    ticket_categories=("viewing request", "offer query", "sales progress", "complaint"),
    # The office is open Monday to Saturday; SLA hours are office hours.
    business_hours=BusinessHours(
        week={day: (("09:00", "17:30"),) for day in ("mon", "tue", "wed", "thu", "fri", "sat")},
        timezone="Europe/London"),
    sla={
        "urgent": SlaTarget(first_response_hours=1, resolution_hours=8),
        "high": SlaTarget(first_response_hours=2, resolution_hours=16),
        "normal": SlaTarget(first_response_hours=4, resolution_hours=40),
        "low": SlaTarget(first_response_hours=8, resolution_hours=80),
    },
    # A deal is one purchase: the buyer, the property and the agreed price.
    deal_stages=(
        DealStageSpec(name="offer", label="Offer made", probability=30),
        DealStageSpec(name="sale agreed", label="Sale agreed", probability=60),
        DealStageSpec(name="exchanged", label="Contracts exchanged", probability=95),
        DealStageSpec(name="completed", label="Completed", probability=100, kind="won"),
        DealStageSpec(name="fell through", label="Fell through", probability=0, kind="lost"),
    ),
    won_lifecycle_stage="completed",
    lead_conversion_stage="offer",
    # crmkit demo --profile realestate: the sample agency, then the tour's extra commands.
    demo=build_demo,
    demo_tour=DEMO_TOUR,
)
