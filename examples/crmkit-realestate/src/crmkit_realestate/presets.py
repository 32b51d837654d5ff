"""An import preset for buyer enquiries exported from a property portal: ``crmkit import --preset property-portal``."""

from crmkit import ImportPreset

#: The portal's words for a buyer's position -> the profile's choices.
POSITIONS = {"first time buyer": "first-time buyer", "no chain": "chain-free",
             "property to sell": "selling to buy", "investor": "investor"}


def position(text):
    """The portal's buyer position as one of the profile's choices; unknown text is kept (and refused)."""
    return POSITIONS.get(text.casefold(), text)


def price(text):
    """``"£450,000"`` -> ``"450000"``."""
    return text.replace("£", "").replace(",", "")


PROPERTY_PORTAL = ImportPreset(
    name="property-portal",
    record_type="customers",
    description="Buyer enquiries exported from a property portal (Full Name, Buyer Position, Maximum Price ...).",
    mapping={
        "Full Name": "name",
        "Email Address": "emails",
        "Phone Number": "phones",
        "Buyer Position": "fields.position",
        "Maximum Price": "fields.max_budget",
        "Minimum Bedrooms": "fields.bedrooms",
        "Search Areas": "fields.areas",
        "Message": "notes",
    },
    transforms={"Buyer Position": position, "Maximum Price": price},
    defaults={"source": "property portal"},
)
