"""Flattening records into columns and back, driven by the attrs models."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from crmkit.errors import ValidationError
from crmkit.io.records import columns, flatten, unflatten, unknown_columns
from crmkit.models import Address, Consent, Customer, Event, Interaction, Resolution, StageChange, Step, Ticket, to_doc

AT = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def customer(**values) -> dict:  # type: ignore[no-untyped-def]
    base = {"id": "C-1", "name": "Ann", "created_at": AT, "updated_at": AT, "version": 1}
    return to_doc(Customer(**{**base, **values}))


def test_customer_columns_follow_the_model_with_id_first_and_bookkeeping_last() -> None:
    docs = [customer(fields={"b": 1, "a": 2}, external_ids={"salesforce": "X"}),
            customer(fields={"c": True})]
    cols = columns(Customer, docs)
    assert cols[0] == "id" and cols[-3:] == ["created_at", "updated_at", "version"]
    assert cols[1:4] == ["kind", "name", "company"]
    assert ["address.street", "address.city", "address.region", "address.postal_code", "address.country"] == \
        cols[cols.index("address.street"):cols.index("address.country") + 1]
    assert [c for c in cols if c.startswith("fields.")] == ["fields.a", "fields.b", "fields.c"]
    assert [c for c in cols if c.startswith("consent.")] == ["consent.email", "consent.sms", "consent.phone",
                                                             "consent.post"]
    assert "external_ids.salesforce" in cols and "contacts" in cols and "stage_history" in cols


def test_interactions_and_tickets_carry_customer_email_after_customer_id() -> None:
    for model in (Interaction, Ticket):
        cols = columns(model, [])
        assert cols[cols.index("customer_id") + 1] == "customer_email"
    assert "customer_email" not in columns(Event, [])
    ticket_cols = columns(Ticket, [])
    assert {"steps", "resolution.solution", "resolution.resolved_by", "satisfaction.score"} <= set(ticket_cols)
    assert "changes" in columns(Event, [])  # one JSON cell, not a column per changed field


def test_flatten_rules() -> None:
    doc = customer(
        emails=("a@example.com", "b@example.com"), tags=("x",), address=Address(city="Oslo"),
        consent=Consent(email=True), fields={"n": 3, "flag": False, "list": ["p", "q"]},
        stage_history=(StageChange(to_stage="lead", at=AT),),
    )
    row = flatten(doc, Customer)
    assert row["emails"] == "a@example.com; b@example.com"
    assert row["address.city"] == "Oslo" and row["address.street"] == ""
    assert row["consent.email"] == "true" and row["consent.sms"] == "false"
    assert row["fields.n"] == "3" and row["fields.flag"] == "false" and row["fields.list"] == "p; q"
    assert row["stage_history"] == '[{"from_stage":null,"to_stage":"lead","at":"2024-01-02T03:04:05Z",' \
                                   '"by":null,"reason":null}]'
    assert row["created_at"] == "2024-01-02T03:04:05Z" and row["version"] == "1"
    assert row["company"] == "" and row["contacts"] == ""
    assert all(isinstance(v, str) for v in row.values())


def test_unflatten_gives_typed_values_for_build() -> None:
    row = {"id": "C-1", "name": "Ann", "emails": "a@example.com; b@example.com", "address.city": "Oslo",
           "address.street": "", "consent.email": "true", "consent.sms": "", "fields.n": "3", "fields.gone": "",
           "stage_history": '[{"to_stage":"lead","at":"2024-01-02T03:04:05Z"}]', "created_at": "2024-01-02T03:04:05Z",
           "version": "4", "contacts": '[{"name":"Bob","email":"bob@example.com"}]'}
    values = unflatten(row, Customer)
    assert values["emails"] == ["a@example.com", "b@example.com"]
    assert values["address"] == Address(city="Oslo")
    assert values["consent"] == Consent(email=True, sms=False)
    assert values["fields"] == {"n": "3", "gone": None}
    assert values["stage_history"] == [StageChange(to_stage="lead", at=AT)]
    assert values["created_at"] == AT and values["version"] == 4
    assert values["contacts"] == [{"name": "Bob", "email": "bob@example.com"}]  # the service normalises these


def test_unflatten_ticket_nested_objects_and_empty_optionals() -> None:
    row = {"subject": "S", "resolution.solution": "", "resolution.effect": "", "steps": "",
           "satisfaction.score": "", "reopen_count": "", "first_response_at": ""}
    values = unflatten(row, Ticket)
    assert values["resolution"] is None and values["steps"] == [] and values["satisfaction"] is None
    assert "reopen_count" not in values and values["first_response_at"] is None
    values = unflatten({"resolution.solution": "Fixed", "steps": '[{"at":"2024-01-02T03:04:05Z","action":"x"}]'},
                       Ticket)
    assert values["resolution"] == Resolution(solution="Fixed")
    assert values["steps"] == [Step(at=AT, action="x")]


def test_unflatten_accepts_stored_form_from_json() -> None:
    doc = to_doc(Interaction(id="I-1", customer_id="C-1", channel="phone", occurred_at=AT, summary="Hi",
                             follow_up_on=date(2024, 5, 1), topics=("a",)))
    values = unflatten(doc, Interaction)
    assert values["occurred_at"] == AT and values["follow_up_on"] == date(2024, 5, 1) and values["topics"] == ["a"]


@pytest.mark.parametrize(("row", "field"), [
    ({"version": "x"}, "version"), ({"created_at": "yesterday-ish"}, "created_at"),
    ({"consent.email": "perhaps"}, "consent.email"), ({"contacts": "[{"}, "contacts"),
    ({"address.planet": "Mars"}, "address.planet"),
])
def test_unflatten_errors_name_the_column(row: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        unflatten(row, Customer)
    assert info.value.field == field


def test_unknown_columns_know_aliases_dicts_and_links() -> None:
    names = ["name", "email", "phone", "fields.anything", "external_ids.crm", "address.city", "address.planet",
             "Nickname", "customer_email"]
    assert unknown_columns(names, Customer) == ["address.planet", "Nickname", "customer_email"]
    assert unknown_columns(["customer_email", "at", "summary"], Interaction) == []


def test_alias_beside_the_column_adds_to_lists_and_is_refused_elsewhere() -> None:
    assert unflatten({"emails": "a@example.com", "email": "b@example.com"}, Customer)["emails"] == \
        ["a@example.com", "b@example.com"]
    with pytest.raises(ValidationError, match="twice"):
        unflatten({"customer": "C-1", "customer_id": "C-2"}, Interaction)
