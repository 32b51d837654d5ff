"""maintenance.check: every kind of damage is found, named by collection and record, and nothing is changed."""

from __future__ import annotations

from pathlib import Path

import pytest

import crmkit
from crmkit import maintenance
from crmkit.storage.memory import MemoryStore
from crmkit.storage.query import In


@pytest.mark.parametrize("populated", ["memory", "tinydb"], indirect=True)
def test_a_store_used_through_the_library_has_no_problems(populated):
    assert maintenance.check(populated) == []


def test_a_migrated_store_has_no_problems(populated, file_backend, new_url, pm):
    url = new_url(file_backend)
    maintenance.migrate(populated, url)
    with crmkit.open(url, pm=pm) as copy:
        assert maintenance.check(copy) == []


def _problems(crm) -> list[tuple[str, str, str]]:
    return [(p.collection, p.record_id, p.message) for p in maintenance.check(crm)]


def _raw(crm, collection: str, **doc) -> None:
    """Write a document behind the services' back, the way a damaged or hand-edited store would hold it."""
    base = {"version": 1, "created_at": "2026-03-02T09:00:00Z", "updated_at": "2026-03-02T09:00:00Z"}
    crm.storage.insert(collection, [{**base, **doc}])


def test_references_to_missing_records_are_found(crm):
    ann = crm.customers.add("Ann", emails=["ann@example.com"])
    bob = crm.customers.add("Bob")
    ticket = crm.tickets.open(bob.id, "Bob's ticket")
    crm.storage.bump_id("I", 10)
    crm.storage.bump_id("T", 10)
    _raw(crm, "interactions", id="I-5", customer_id="C-99", channel="phone", direction="inbound",
         occurred_at="2026-03-02T09:00:00Z", summary="orphan")
    _raw(crm, "interactions", id="I-6", customer_id=ann.id, channel="phone", direction="inbound",
         occurred_at="2026-03-02T09:00:00Z", summary="links a missing ticket", ticket_id="T-9")
    _raw(crm, "interactions", id="I-7", customer_id=ann.id, channel="phone", direction="inbound",
         occurred_at="2026-03-02T09:00:00Z", summary="links Bob's ticket", ticket_id=ticket.id)
    _raw(crm, "tickets", id="T-8", customer_id="C-98", subject="orphan", opened_at="2026-03-02T09:00:00Z")
    problems = _problems(crm)
    assert ("interactions", "I-5", "refers to customer C-99, which does not exist") in problems
    assert ("interactions", "I-6", "refers to ticket T-9, which does not exist") in problems
    assert ("interactions", "I-7", f"refers to ticket {ticket.id} of {bob.id}, not of {ann.id}") in problems
    assert ("tickets", "T-8", "refers to customer C-98, which does not exist") in problems
    assert len(problems) == 4


def test_events_about_unknown_records_are_found_but_deletions_are_fine(crm):
    gone = crm.customers.add("Gone")
    crm.tickets.open(gone.id, "with it")
    crm.customers.delete(gone.id, cascade=True)
    assert maintenance.check(crm) == []  # events about deleted records are history, not damage
    crm.storage.bump_id("E", 100)
    _raw(crm, "events", id="E-50", at="2026-03-02T09:00:00Z", actor="x", type="customer.updated",
         record_id="C-77", customer_id="C-77", changes={})
    assert _problems(crm) == [
        ("events", "E-50", "customer.updated is about C-77, which does not exist and was never deleted"),
        ("events", "E-50", "names customer C-77, which does not exist and was never deleted"),
    ]


def test_unreadable_documents_bad_ids_and_versions_are_found(crm):
    crm.customers.add("Fine")
    crm.storage.bump_id("C", 20)
    crm.storage.bump_id("X", 20)
    _raw(crm, "customers", id="C-5", name="Alien", kind="alien")
    _raw(crm, "customers", id="C-6", name="Zero", version=0)
    _raw(crm, "customers", id="X-7", name="Wrong prefix")
    problems = _problems(crm)
    assert ("customers", "C-6", "version is 0; it must be a whole number from 1") in problems
    assert ("customers", "X-7", "the id does not start with C-, the prefix of customers") in problems
    unreadable = [p for p in problems if p[1] == "C-5"]
    assert len(unreadable) == 1 and "cannot be read as a customer" in unreadable[0][2]
    assert "alien" in unreadable[0][2]


def test_a_counter_below_the_ids_in_use_is_found(crm):
    crm.customers.add("Ann")
    _raw(crm, "customers", id="C-40", name="Imported without bumping the counter")
    assert _problems(crm) == [
        ("customers", "C-40", "the id counter for C is 1, below C-40: new records would reuse ids"),
    ]


def test_contact_ids_count_too(crm):
    _raw(crm, "customers", id="C-1", name="Ann", contacts=[{"id": "P-9", "name": "Bo"}])
    crm.storage.bump_id("C", 1)
    assert _problems(crm) == [
        ("customers", "C-1", "the id counter for P is 0, below P-9: new records would reuse ids"),
    ]


def test_an_email_shared_by_two_customers_is_found(crm):
    crm.customers.add("Ann", emails=["ann@example.com"])
    twin = crm.customers.add("Ann again", emails=["ANN@example.com"], allow_duplicate=True)
    assert _problems(crm) == [("customers", twin.id, "email ANN@example.com also belongs to C-1")]


def test_a_lookup_that_disagrees_with_the_documents_is_found(pm):
    class StaleIndex(MemoryStore):
        """Answers lookups by email as an index that lost Ann would."""

        stale = False

        def scan(self, collection, where=None, order=(), limit=None):
            found = super().scan(collection, where, order, limit)
            if self.stale and collection == "customers" and isinstance(where, In) and where.path == ("emails",):
                found = [d for d in found if d["id"] != "C-1"]
            return found

    store = StaleIndex()
    crm = crmkit.CRM(store, crmkit.open("memory://", pm=pm).profile, pm)
    crm.customers.add("Ann", emails=["ann@example.com"])
    crm.customers.add("Bob", emails=["bob@example.com", "old@example.com"])
    store.stale = True
    assert _problems(crm) == [
        ("customers", "C-1", "a lookup by emails does not find it (an index is out of date)"),
    ]


def _files(folder: Path, digest) -> dict[str, object]:
    """Every file under ``folder`` with its digest (lock files aside: taking a lock is not a change)."""
    return {str(p.relative_to(folder)): digest(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")}


def test_check_writes_nothing_even_when_it_finds_problems(pm, file_backend, tmp_path, digest):
    folder = tmp_path / "store"
    folder.mkdir()
    url = f"{file_backend}://{folder / 'crm.data'}"
    with crmkit.open(url, pm=pm) as crm:
        crm.customers.add("Ann")
        _raw(crm, "tickets", id="T-3", customer_id="C-9", subject="orphan", opened_at="2026-03-02T09:00:00Z")
    before = _files(folder, digest)
    with crmkit.open(url, pm=pm) as crm:
        assert len(maintenance.check(crm)) == 2  # the orphan, and the T counter
    assert _files(folder, digest) == before


def test_looking_at_a_store_that_does_not_exist_creates_nothing(file_backend, new_url, pm, tmp_path):
    url = new_url(file_backend)
    with crmkit.open(url, pm=pm) as crm:
        assert maintenance.check(crm) == []
        assert maintenance.stats(crm).total == 0
        assert maintenance.migrate(crm, MemoryStore()).ok
        maintenance.backup(crm, tmp_path / "empty.gz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.gz", "home"]
