"""Creation events hold no changes; a record's values at any version stay recoverable from the log."""

from __future__ import annotations

from typing import Any

from crmkit.models import to_doc
from crmkit.services.base import BOOKKEEPING


def first_values(crm: Any, record_id: str, current: dict[str, Any] | None) -> dict[str, Any]:
    """Walk a record's events backwards from its current (or, if deleted, last) values."""
    events = crm.events.find(record_id=record_id, sort="-id")
    values = dict(current or {})
    for event in events:
        for field, (old, new) in event.changes.items():
            if event.type.endswith(".deleted"):
                values[field] = old
            elif old is None:
                values.pop(field, None)
            else:
                values[field] = old
    return values


def plain(doc: dict[str, Any]) -> dict[str, Any]:
    """A document without bookkeeping and empty fields (what events record)."""
    return {k: v for k, v in doc.items() if k not in BOOKKEEPING and (v or isinstance(v, (bool, int, float)))}


def test_creation_events_hold_no_changes(crm, ann):
    ticket = crm.tickets.open(ann.id, "Printer jams")
    created = {e.record_id: e for e in crm.events.find() if e.is_creation}
    assert created[ann.id].changes == {} and created[ticket.id].changes == {}
    assert created[ann.id].customer_id == ann.id and created[ticket.id].customer_id == ann.id


def test_first_values_are_recoverable_while_the_record_exists(crm, ann):
    first = plain(to_doc(ann))
    crm.customers.update(ann.id, name="Ann Lee-Smith", add_tags=["gold"])
    crm.lifecycle.move(ann.id, "qualified")
    current = crm.storage.get("customers", ann.id)
    recovered = first_values(crm, ann.id, plain(current))
    assert {k: v for k, v in recovered.items() if k != "updated_at"} == first


def test_a_deleted_record_keeps_its_values_in_the_log(crm, ann):
    first = plain(to_doc(ann))
    ticket = crm.tickets.open(ann.id, "Printer jams")
    ticket_first = plain(to_doc(ticket))
    crm.customers.update(ann.id, name="Ann Lee-Smith")
    crm.customers.delete(ann.id, cascade=True)
    assert first_values(crm, ann.id, None) == first
    assert first_values(crm, ticket.id, None) == ticket_first
    deleted = crm.events.find(record_id=ann.id, type="customer.deleted")[0]
    assert deleted.changes["name"] == ["Ann Lee-Smith", None]


def test_events_are_written_as_the_event_model_would_store_them(crm, ann):
    from datetime import timedelta

    import pytest

    from crmkit.errors import ValidationError
    from crmkit.models import Event, from_doc

    earlier = crm.now() - timedelta(hours=3)
    with crm.transaction():
        ids = crm.record_events([("customer.noted", ann.id, ann.id, {"notes": [None, "hi"]}, "a note", earlier),
                                 ("customer.touched", ann.id, None, {}, None)])
    stored = [crm.storage.get("events", event_id) for event_id in ids]
    for doc in stored:
        event = from_doc(Event, doc)  # the model reads it back and writes the very same document
        assert to_doc(event) == doc and event.actor == crm.actor and event.version == 1
    assert from_doc(Event, stored[0]).effective_at == earlier and stored[1]["effective_at"] is None
    assert [doc["id"] for doc in stored] == ids and ids[0] != ids[1]
    with pytest.raises(ValidationError), crm.transaction():
        crm.record_events([("", ann.id, None, {}, None)])
    with pytest.raises(ValidationError), crm.transaction():
        crm.record_events([("customer.noted", ann.id, None, {}, None, earlier.replace(tzinfo=None))])


def test_on_event_hooks_get_event_models_after_the_commit(tmp_path):
    import crmkit
    from crmkit import hookimpl
    from crmkit.models import Event
    from crmkit.plugins import make_plugin_manager

    seen: list[Any] = []

    class Listener:
        @hookimpl
        def crmkit_on_event(self, crm, event):
            seen.append((event, crm.storage.get("customers", event.record_id) is not None))

    pm = make_plugin_manager(entrypoints=False)
    pm.register(Listener())
    with crmkit.open(f"sqlite:///{tmp_path / 'crm.db'}", pm=pm) as crm:
        with crm.transaction():
            added = crm.customers.add_many([{"name": "Ann Lee"}, {"name": "Bo Berg"}])
            assert seen == []  # not before the commit
    assert [(type(e), e.type, e.record_id, stored) for e, stored in seen] == [
        (Event, "customer.created", added[0].id, True), (Event, "customer.created", added[1].id, True)]


def test_a_blank_actor_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    import pytest

    import crmkit
    from crmkit.errors import ValidationError
    from crmkit.plugins import make_plugin_manager

    monkeypatch.setenv("CRMKIT_USER", " ")
    with pytest.raises(ValidationError) as err:
        crmkit.open(f"sqlite:///{tmp_path / 'crm.db'}", pm=make_plugin_manager(entrypoints=False))
    assert err.value.field == "actor"
    with crmkit.open(f"sqlite:///{tmp_path / 'crm.db'}", pm=make_plugin_manager(entrypoints=False),
                     actor="eve") as crm:  # the store was left closed and usable
        crm.customers.add("Ann")
        assert crm.events.find()[0].actor == "eve"


def test_without_a_given_actor_events_name_the_os_user_asked_only_when_needed(tmp_path, monkeypatch):
    import crmkit
    from crmkit import crm as crm_module
    from crmkit.plugins import make_plugin_manager

    asked = []
    monkeypatch.delenv("CRMKIT_USER", raising=False)
    monkeypatch.setattr(crm_module, "_os_user", lambda: asked.append(1) or "os-user")
    with crmkit.open(f"sqlite:///{tmp_path / 'crm.db'}", pm=make_plugin_manager(entrypoints=False)) as crm:
        assert crm.customers.find() == []
        assert asked == []  # a read never asks the OS who is running it
        crm.customers.add("Ann")
        crm.customers.add("Bo")
        assert [event.actor for event in crm.events.find()] == ["os-user", "os-user"]
        assert asked == [1]  # asked once, then remembered
