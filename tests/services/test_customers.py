import pytest

from crmkit import Conflict, CustomerKind, NotFound, ValidationError


def test_add_normalises_emails_and_phones(crm):
    customer = crm.customers.add("Ann Lee", emails=["ann@EXAMPLE.com"], phones=["22 33 44 55", "+44 20 7946 0958"])
    assert customer.emails == ("ann@example.com",)
    assert customer.phones == ("+4722334455", "+442079460958")  # region NO from the fixture
    assert customer.id == "C-1" and customer.version == 1
    assert customer.stage == crm.profile.initial_stage
    assert crm.customers.get("1") == customer


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@b.c", "a b@c.d", "ann@@example.com"])
def test_bad_email_names_field_and_value(crm, email):
    with pytest.raises(ValidationError) as err:
        crm.customers.add("Ann", emails=[email])
    assert err.value.field == "email" and err.value.value == email
    assert crm.customers.count() == 0


@pytest.mark.parametrize("phone", ["12", "call me", "+99 1234"])
def test_bad_phone(crm, phone):
    with pytest.raises(ValidationError) as err:
        crm.customers.add("Ann", phones=[phone])
    assert err.value.field == "phone"


def test_duplicate_email_is_a_conflict_unless_allowed(crm, ann):
    with pytest.raises(Conflict, match=ann.id):
        crm.customers.add("Ann Again", emails=["ANN@example.com"])
    twin = crm.customers.add("Ann Again", emails=["ann@example.com"], allow_duplicate=True)
    assert twin.id != ann.id


def test_find_by_email_and_where(crm, ann):
    crm.customers.add("Acme AS", kind="company", emails=["post@acme.no"], tags=["b2b"], tier="A")
    assert crm.customers.find_by_email("ANN@example.com").id == ann.id
    assert crm.customers.find_by_email("nobody@example.com") is None
    assert [c.name for c in crm.customers.find("kind=company")] == ["Acme AS"]
    assert [c.name for c in crm.customers.find("tags~vip or tier in (A, B)", sort="name")] == ["Acme AS", "Ann Lee"]
    assert [c.name for c in crm.customers.find("not phone?")] == ["Acme AS"]
    assert [c.name for c in crm.customers.find(sort="-name", limit=1)] == ["Ann Lee"]


@pytest.mark.parametrize("where", ["colour=red", "address.planet=x", "name.first=x", "version=abc",
                                   "created_at>=2026-13-01"])
def test_where_is_checked_against_the_model(crm, ann, where):
    with pytest.raises(ValidationError) as err:
        crm.customers.find(where)
    assert err.value.field == "where"


def test_update_lists_fields_and_version(crm, ann):
    updated = crm.customers.update(ann.id, add_tags=["gold"], remove_tags=["vip"], add_emails=["ann@work.example"],
                                   fields={"shoe_size": "38"}, company="Lee Ltd")
    assert updated.tags == ("gold",)
    assert updated.emails == ("ann@example.com", "ann@work.example")
    assert updated.fields == {"shoe_size": "38"}
    assert updated.version == 2
    removed = crm.customers.update(ann.id, fields={"shoe_size": None})
    assert removed.fields == {}
    with pytest.raises(Conflict):
        crm.customers.update(ann.id, name="X", expected_version=1)
    with pytest.raises(ValidationError):
        crm.customers.update(ann.id, remove_tags=["never-had-it"])
    with pytest.raises(ValidationError):
        crm.customers.update(ann.id, stage="loyal")
    with pytest.raises(ValidationError):
        crm.customers.update(ann.id, favourite_colour="red")
    assert crm.customers.get(ann.id).name == "Ann Lee"


def test_update_event_records_old_and_new(crm, ann):
    crm.customers.update(ann.id, name="Ann Lee-Smith")
    event = crm.events.for_record(ann.id)[-1]
    assert event.type == "customer.updated" and event.actor == "tester"
    assert event.changes["name"] == ["Ann Lee", "Ann Lee-Smith"]
    assert set(event.changes) == {"name"}


def test_contacts_get_ids_and_one_primary(crm):
    acme = crm.customers.add("Acme AS", kind=CustomerKind.COMPANY)
    first = crm.customers.add_contact(acme.id, "Per Hansen", email="per@acme.no", primary=True)
    second = crm.customers.add_contact(acme.id, "Kari Nordmann", phone="+4791234567", primary=True)
    contacts = crm.customers.get(acme.id).contacts
    assert [c.id for c in contacts] == [first.id, second.id]
    assert [c.primary for c in contacts] == [False, True]
    crm.customers.remove_contact(acme.id, first.id)
    assert [c.name for c in crm.customers.get(acme.id).contacts] == ["Kari Nordmann"]
    with pytest.raises(ValidationError):
        crm.customers.remove_contact(acme.id, first.id)
    with pytest.raises(ValidationError):
        crm.customers.add_contact(acme.id, "Bad", email="nope")


def test_delete_refuses_while_records_refer_unless_cascade(crm, ann):
    ticket = crm.tickets.open(ann.id, "x")
    crm.interactions.log(ann.id, "phone", "hello")
    with pytest.raises(Conflict, match="1 interactions, 1 tickets"):
        crm.customers.delete(ann.id)
    assert crm.customers.exists(ann.id)
    crm.customers.delete(ann.id, cascade=True)
    with pytest.raises(NotFound):
        crm.customers.get(ann.id)
    assert not crm.tickets.exists(ticket.id)
    assert crm.interactions.count() == 0


def test_failed_bulk_add_stores_nothing(crm, ann):
    before = crm.stats()
    with pytest.raises(ValidationError):
        crm.customers.add_many([{"name": "Ok"}, {"name": "Bad", "emails": ["bad"]}])
    assert crm.stats() == before


def test_ids_are_never_reused(crm, ann):
    crm.customers.delete(ann.id)
    assert crm.customers.add("Next").id == "C-2"


def test_validate_hook_can_refuse(crm):
    from crmkit import hookimpl

    class NeedsEmail:
        @hookimpl
        def crmkit_validate_record(self, crm, kind, record):
            if kind == "customer" and not record.emails:
                raise ValidationError("email", None, "is required here")

    crm.pm.register(NeedsEmail())
    with pytest.raises(ValidationError, match="is required here"):
        crm.customers.add("No Mail")
    assert crm.customers.count() == 0


def test_on_event_runs_after_commit_only(crm):
    from crmkit import hookimpl

    seen = []

    class Recorder:
        @hookimpl
        def crmkit_on_event(self, crm, event):
            seen.append((event.type, crm.customers.exists(event.record_id)))

    crm.pm.register(Recorder())
    with crm.transaction():
        crm.customers.add("A")
        crm.customers.add("B")
        assert seen == []
    assert seen == [("customer.created", True), ("customer.created", True)]
    with pytest.raises(ValidationError):
        with crm.transaction():
            crm.customers.add("C")
            crm.customers.add("D", emails=["bad"])
    assert len(seen) == 2 and crm.customers.count() == 2


@pytest.mark.parametrize("call", [
    lambda crm: crm.customers.add("A", address="Leeds"),
    lambda crm: crm.customers.add("A", consent="email"),
    lambda crm: crm.customers.add("A", contacts=["x"]),
    lambda crm: crm.customers.add("A", external_ids=["x"]),
    lambda crm: crm.customers.add_many(["x"]),
    lambda crm: crm.customers.add("A", stage=5),
    lambda crm: crm.customers.add("A", id="C-77"),
    lambda crm: crm.customers.add("A", tags=[{"a": 2}]),
    lambda crm: crm.customers.add("A", emails=["a@x.com", "A@x.com"]),
    lambda crm: crm.customers.find_by_email(None),
    lambda crm: crm.customers.find(5),
    lambda crm: crm.customers.find(b"stage=lead"),
    lambda crm: crm.customers.find(sort=5),
    lambda crm: crm.customers.find(sort="bogus"),
    lambda crm: crm.customers.find(limit="3"),
    lambda crm: crm.lifecycle.move("C-1", None),
    lambda crm: crm.customers.update("C-1", name="B", expected_version="1"),
])
def test_wrong_python_input_is_a_validation_error(crm, ann, call):
    before = crm.stats()
    with pytest.raises(ValidationError):
        call(crm)
    assert crm.stats() == before


def test_sort_errors_name_sort(crm):
    with pytest.raises(ValidationError) as err:
        crm.customers.find(sort="bogus")
    assert err.value.field == "sort"
    assert [c.name for c in crm.customers.find(sort=["-name"])] == []


def test_unknown_region_is_named(tmp_path):
    import crmkit
    from crmkit.plugins import make_plugin_manager

    with pytest.raises(ValidationError) as err:
        crmkit.open("memory://", pm=make_plugin_manager(entrypoints=False), region="Norway")
    assert err.value.field == "region"
    crm = crmkit.open("memory://", pm=make_plugin_manager(entrypoints=False), region="zz")
    assert crm.region == "ZZ"
    with pytest.raises(ValidationError) as err:
        crm.customers.add("U", phones=["0113 496 0101"])
    assert err.value.field == "region"
