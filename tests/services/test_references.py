"""Links between records, driven by the table in crmkit.entities."""

import pytest

from crmkit.entities import ENTITIES, RECORD_TYPES, by_prefix, entity, link_columns, referrers
from crmkit.errors import Conflict, ValidationError


def test_every_reference_points_at_an_earlier_record_type():
    # Copy, import and restore go in this order; a link to a later type could not be checked.
    for position, name in enumerate(RECORD_TYPES):
        for field, target in ENTITIES[name].references.items():
            assert RECORD_TYPES.index(target) < position, (name, field, target)


def test_each_record_type_knows_its_models_prefix_without_importing_it():
    for e in ENTITIES.values():
        assert e.prefix == e.model.PREFIX, e.name
        assert by_prefix(e.prefix) is e
    assert by_prefix("X") is None and by_prefix("") is None
    import subprocess
    import sys

    code = ("import sys; from crmkit.entities import by_prefix; by_prefix('E'); "
            "print(sorted(m for m in sys.modules if m.startswith('crmkit.models.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_entity_lookup_names_the_field_and_the_choices():
    with pytest.raises(ValidationError) as err:
        entity("widgets")
    assert err.value.field == "record_type" and "customers" in err.value.reason


def test_customer_references_get_the_email_column():
    assert link_columns("tickets")["customer_id"] == ("customer_email", "customers", "emails")
    assert ("interactions", "ticket_id") in [(e.name, f) for e, f in referrers("tickets")]


def test_a_ticket_with_interactions_cannot_be_deleted(crm, ann):
    ticket = crm.tickets.open(ann.id, "Broken")
    call = crm.interactions.log(ann.id, "phone", "Called back", ticket_id=ticket.id)
    with pytest.raises(Conflict) as err:
        crm.tickets.delete(ticket.id)
    assert call.id in str(err.value) and crm.tickets.exists(ticket.id)
    crm.interactions.delete(call.id)
    crm.tickets.delete(ticket.id)
    assert not crm.tickets.exists(ticket.id)


def test_cascade_deletes_referrers_before_what_they_refer_to(crm, ann):
    ticket = crm.tickets.open(ann.id, "Broken")
    crm.interactions.log(ann.id, "phone", "Called back", ticket_id=ticket.id)
    order = list(crm.dependants(ann.id))
    assert order.index("interactions") < order.index("tickets")
    crm.customers.delete(ann.id, cascade=True)
    assert crm.stats()["tickets"] == crm.stats()["interactions"] == 0
    deleted = [e.type for e in crm.events.find(type="interaction.deleted")]
    assert deleted == ["interaction.deleted"]


def test_check_reference_normalises_and_refuses_missing_or_foreign(crm, ann):
    from crmkit.services.references import check_reference

    bob = crm.customers.add("Bob Stone")
    ticket = crm.tickets.open(ann.id, "Broken")
    number = ticket.id.split("-")[1]
    assert check_reference(crm, "ticket_id", "tickets", number, customer_id=ann.id) == ticket.id
    assert check_reference(crm, "ticket_id", "tickets", "") is None
    with pytest.raises(ValidationError) as err:
        check_reference(crm, "ticket_id", "tickets", "T-999")
    assert err.value.field == "ticket_id" and "does not exist" in err.value.reason
    with pytest.raises(ValidationError) as err:
        check_reference(crm, "ticket_id", "tickets", ticket.id, customer_id=bob.id)
    assert f"belongs to {ann.id}" in err.value.reason
