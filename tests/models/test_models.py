from datetime import date, datetime, timezone

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit import (
    Address, Consent, Contact, Customer, Event, Interaction, Resolution, Satisfaction, StageChange, Step, Ticket,
    TicketStatus, ValidationError,
)
from crmkit.models import from_doc, to_doc

text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30).filter(lambda s: s.strip() == s and s)
opt_text = st.none() | text
# list items (tags, topics) cannot hold ';', the CSV list separator
item = text.filter(lambda s: ";" not in s)
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1),
                       timezones=st.just(timezone.utc)).map(lambda d: d.replace(microsecond=0))
ids = lambda p: st.integers(1, 10**9).map(lambda n: f"{p}-{n}")  # noqa: E731
emails = st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.(com|no|org)", fullmatch=True)
phones = st.from_regex(r"\+[1-9][0-9]{7,13}", fullmatch=True)

contacts = st.builds(Contact, id=ids("P"), name=text, title=opt_text, email=st.none() | emails, primary=st.booleans())
stage_changes = st.builds(StageChange, from_stage=opt_text, to_stage=text, at=moments, by=opt_text, reason=opt_text)
customers = st.builds(
    Customer, id=ids("C"), created_at=moments, updated_at=moments, version=st.integers(1, 1000),
    kind=st.sampled_from(["person", "company"]), name=text, company=opt_text,
    emails=st.lists(emails, max_size=3, unique=True).map(tuple), phones=st.lists(phones, max_size=2, unique=True).map(tuple),
    address=st.none() | st.builds(Address, city=opt_text, country=opt_text),
    tags=st.lists(item, max_size=4, unique=True).map(tuple), stage=text,
    stage_history=st.lists(stage_changes, max_size=3).map(tuple),
    fields=st.dictionaries(st.from_regex(r"[a-z_]{1,10}", fullmatch=True),
                           st.none() | st.integers() | text | st.booleans(), max_size=3),
    consent=st.builds(Consent, email=st.booleans(), sms=st.booleans()),
    external_ids=st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), text, max_size=2),
    contacts=st.lists(contacts, max_size=3).map(tuple),
)
SETTLED = ("resolved", "closed")
tickets = st.sampled_from(list(TicketStatus)).flatmap(lambda status: st.builds(
    Ticket, id=ids("T"), customer_id=ids("C"), subject=text, priority=st.sampled_from(["low", "normal", "high", "urgent"]),
    status=st.just(status), opened_at=moments, resolution_due_at=st.none() | moments,
    steps=st.lists(st.builds(Step, at=moments, action=text, staff=opt_text), max_size=3).map(tuple),
    # only the states the verbs can reach: settled tickets have a resolution, only they are rated
    resolution=st.builds(Resolution, solution=text) if status in SETTLED else st.none() | st.builds(Resolution, solution=text),
    satisfaction=(st.none() | st.builds(Satisfaction, score=st.integers(1, 5), comment=opt_text))
    if status in SETTLED else st.none(),
    reopen_count=st.integers(0, 5),
))
interactions = st.builds(
    Interaction, id=ids("I"), customer_id=ids("C"), channel=st.sampled_from(["phone", "email", "meeting"]),
    direction=st.sampled_from(["inbound", "outbound"]), occurred_at=moments, summary=text,
    topics=st.lists(item, max_size=3, unique=True).map(tuple), follow_up_on=st.none() | st.dates(),
    ticket_id=st.none() | ids("T"),
)


@settings(max_examples=150)
@given(st.one_of(customers, tickets, interactions))
def test_converter_round_trip(record):
    doc = to_doc(record)
    assert from_doc(type(record), doc) == record
    # stored form is plain JSON data
    import json

    assert json.loads(json.dumps(doc)) == doc


events = st.builds(
    Event, id=ids("E"), created_at=moments, updated_at=moments, version=st.integers(1, 3), at=moments, actor=text,
    type=text, record_id=ids("C"), customer_id=st.none() | ids("C"), note=opt_text, effective_at=st.none() | moments,
    changes=st.dictionaries(text, st.lists(st.none() | st.integers() | text, min_size=2, max_size=2), max_size=3),
)


@settings(max_examples=100)
@given(st.one_of(customers, tickets, interactions, events))
def test_to_doc_is_what_plain_cattrs_writes(record):
    # to_doc's converter reads optional text fields inline and lists nested records without a
    # generator; a converter with only crmkit's hooks must write the same bytes.
    import json

    import cattrs

    from crmkit.models.convert import configure

    reference = cattrs.Converter(detailed_validation=False)
    configure(reference)
    expected = reference.unstructure(record)
    assert to_doc(record) == expected
    assert json.dumps(to_doc(record)) == json.dumps(expected)  # keys in the same order too


def test_datetimes_are_utc_iso_with_z():
    ticket = Ticket(id="T-1", customer_id="C-1", subject="x",
                    opened_at=datetime(2026, 5, 1, 12, 30, tzinfo=timezone.utc))
    doc = to_doc(ticket)
    assert doc["opened_at"] == "2026-05-01T12:30:00Z"
    assert doc["status"] == "new" and doc["priority"] == "normal"


def test_models_are_frozen():
    customer = Customer(name="Ann")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        customer.name = "Bob"  # type: ignore[misc]


@pytest.mark.parametrize(
    "build, field",
    [
        (lambda: Customer(name="  "), "name"),
        (lambda: Customer(name="A", kind="robot"), "kind"),
        (lambda: Customer(name="A", emails=["nope"]), "email"),
        (lambda: Customer(name="A", phones=["12345"]), "phone"),
        (lambda: Ticket(customer_id="C-1", subject="x", opened_at=datetime(2026, 1, 1)), "opened_at"),
        (lambda: Ticket(customer_id="X-1", subject="x", opened_at=datetime(2026, 1, 1, tzinfo=timezone.utc)), "id"),
        (lambda: Satisfaction(score=9), "score"),
        (lambda: Ticket(customer_id="C-1", subject="x", status="closed",
                        opened_at=datetime(2026, 1, 1, tzinfo=timezone.utc)), "resolution"),
        (lambda: Ticket(customer_id="C-1", subject="x", reopen_count=-3,
                        opened_at=datetime(2026, 1, 1, tzinfo=timezone.utc)), "reopen_count"),
        (lambda: Ticket(customer_id="C-1", subject="x", satisfaction=Satisfaction(score=5),
                        opened_at=datetime(2026, 1, 1, tzinfo=timezone.utc)), "satisfaction"),
        (lambda: Interaction(customer_id="C-1", channel="pigeon", summary="x",
                             occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc)), "channel"),
        (lambda: Interaction(customer_id="C-1", channel="phone", summary="x", follow_up_on="2026-01-01",
                             occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc)), "follow_up_on"),
    ],
)
def test_validators_name_the_field(build, field):
    with pytest.raises(ValidationError) as err:
        build()
    assert err.value.field == field


def test_status_knows_closed_and_sla_pause():
    assert {s.value for s in TicketStatus if s.is_closed} == {"closed", "rejected", "duplicate"}
    assert {s.value for s in TicketStatus if s.pauses_sla} == {"pending"}
    assert not TicketStatus.RESOLVED.is_open and not TicketStatus.RESOLVED.is_closed


def test_bad_stored_doc_is_a_validation_error():
    with pytest.raises(ValidationError):
        from_doc(Ticket, {"id": "T-1", "subject": "x"})
    with pytest.raises(ValidationError):
        from_doc(Event, {"id": "E-1", "at": "yesterday", "actor": "a", "type": "t", "record_id": "C-1"})


def test_follow_up_dates_round_trip():
    interaction = Interaction(customer_id="C-1", channel="phone", summary="x", follow_up_on=date(2026, 2, 3),
                              occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert to_doc(interaction)["follow_up_on"] == "2026-02-03"


@pytest.mark.parametrize("tags", [["a; b"], [{"a": 2}], [["x"]], 5])
def test_list_items_are_plain_text_without_the_csv_separator(tags):
    with pytest.raises(ValidationError):
        Customer(name="A", tags=tags)


def test_contact_primary_reads_text_as_a_bool():
    assert Contact(name="X", primary="no").primary is False
    assert Contact(name="X", primary="yes").primary is True
    with pytest.raises(ValidationError):
        Contact(name="X", primary="maybe")


bookkeeping = st.fixed_dictionaries({}, optional={
    "id": st.sampled_from(["", "C-1", "T-9", "I-3", "E-5", "X-1", "bad"]),
    "created_at": st.none() | moments | st.just(datetime(2024, 1, 1)),
    "updated_at": st.none() | moments,
    "version": st.integers(0, 5),
})


@settings(max_examples=200)
@given(st.one_of(customers, tickets, interactions), bookkeeping)
def test_restamp_is_evolve(record, changes):
    # The bulk paths stamp records with restamp: it must give what attrs.evolve gives, errors included.
    from crmkit.services.base import restamp

    try:
        expected = attrs.evolve(record, **changes)
    except ValidationError as err:
        with pytest.raises(ValidationError) as caught:
            restamp(record, **changes)
        assert (caught.value.field, caught.value.reason) == (err.field, err.reason)
        return
    stamped = restamp(record, **changes)
    assert stamped == expected and type(stamped) is type(expected)
    assert to_doc(stamped) == to_doc(expected)


def test_a_bad_choice_names_the_choices():
    from crmkit import FieldSpec

    with pytest.raises(ValidationError) as err:
        FieldSpec(name="level", type="choice", choices=("gold", "bronze")).coerce("platinum")
    assert err.value.field == "fields.level" and "gold, bronze" in err.value.reason
