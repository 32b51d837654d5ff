"""maintenance.migrate: a whole store copied to another backend, verified, with the source untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

import crmkit
from crmkit import maintenance
from crmkit.errors import StorageError
from crmkit.storage.memory import MemoryStore


@pytest.mark.parametrize("populated", ["memory", "tinydb"], indirect=True)
def test_every_document_setting_and_counter_arrives_in_order(populated, file_backend, new_url, snapshot, pm):
    source = snapshot(populated.storage)
    url = new_url(file_backend)
    report = maintenance.migrate(populated, url)
    assert report.ok and report.settings_ok
    assert report.source == populated.storage.url and report.target.startswith(f"{file_backend}://")
    assert [c.name for c in report.collections] == ["customers", "tickets", "interactions", "events"]
    assert {c.name: c.count for c in report.collections} == {
        name: len(docs) for name, docs in source["docs"].items()}
    for check in report.collections:
        assert check.checksum == maintenance.collection_checksum(populated.storage, check.name)
    copy = maintenance.open_storage(url, pm)
    try:
        assert snapshot(copy) == source  # ids, versions, timestamps and order unchanged
    finally:
        copy.close()


def test_the_copy_is_a_working_store_that_never_reuses_an_id(populated, file_backend, new_url, pm):
    url = new_url(file_backend)
    maintenance.migrate(populated, url)
    with crmkit.open(url, pm=pm) as copy:
        assert copy.profile.name == "generic"
        assert copy.customers.find_by_email("ann@example.com").name == "Ann Lee"
        # C-3 was deleted in the source: its number is never handed out again.
        new = copy.customers.add("Dee", emails=["dee@example.com"], contacts=[{"name": "Ed"}])
        assert new.id == "C-34" and new.contacts[0].id == "P-3"
        assert [e.type for e in copy.events.for_record("C-3")][-1] == "customer.deleted"
        assert maintenance.check(copy) == []


def test_the_source_is_never_written(populated, new_url, digest, tmp_path):
    source_file = tmp_path / "source.json"
    before = digest(source_file)
    maintenance.migrate(populated, new_url("tinydb"))
    assert digest(source_file) == before


def test_all_documents_are_written_in_one_transaction_of_the_target(populated):
    class CountingStore(MemoryStore):
        commits = 0
        inserts = 0

        def _commit(self) -> None:
            CountingStore.commits += 1
            super()._commit()

        def insert(self, collection, docs):
            CountingStore.inserts += 1
            super().insert(collection, docs)

    target = CountingStore()
    seen = []
    report = maintenance.migrate(populated, target, progress=seen.append, batch_size=7)  # several inserts each
    assert report.ok
    assert CountingStore.commits == 1
    assert CountingStore.inserts > 4
    assert sum(seen) == report.total and max(seen) <= 7
    assert target.count("customers") == populated.storage.count("customers")


def test_a_lossy_target_is_reported_not_trusted(populated):
    class LossyStore(MemoryStore):
        """Drops the notes of every document it stores, and the last event."""

        def insert(self, collection, docs):
            docs = [{k: v for k, v in d.items() if k != "notes"} for d in docs]
            if collection == "events":
                docs = docs[:-1]
            super().insert(collection, docs)

    report = maintenance.migrate(populated, LossyStore())
    assert not report.ok
    bad = {c.name for c in report.collections if not c.ok}
    assert bad == {"customers", "events"}  # Bob's long notes, and one event short


@pytest.mark.parametrize("populated", ["memory"], indirect=True)
def test_a_store_that_holds_records_is_refused_and_left_alone(populated, new_url, pm, digest):
    url = new_url("tinydb")
    with crmkit.open(url, pm=pm) as other:
        other.customers.add("Already here")
    path = Path(url.removeprefix("tinydb://"))
    before = digest(path)
    with pytest.raises(StorageError, match="is not empty .*1 customers"):
        maintenance.migrate(populated, url)
    assert digest(path) == before


def test_an_initialised_empty_store_is_a_fine_target(populated, new_url, pm):
    url = new_url("tinydb")
    crmkit.init(url, pm=pm).close()
    assert maintenance.migrate(populated, url).ok


def test_a_target_made_for_another_profile_is_refused(populated):
    target = MemoryStore()
    target.set_meta("profile", "retail")
    with pytest.raises(StorageError, match="profile 'retail'"):
        maintenance.migrate(populated, target)
    assert target.collections() == []


def test_a_store_is_not_copied_onto_itself(populated, tmp_path):
    with pytest.raises(StorageError):
        maintenance.migrate(populated, f"tinydb://{tmp_path / 'source.json'}")


def test_an_unknown_scheme_names_the_known_ones(populated):
    with pytest.raises(crmkit.ValidationError, match="known: .*tinydb"):
        maintenance.migrate(populated, "nosuch:///x")


def test_an_empty_store_copies_to_an_empty_store(pm, new_url):
    with crmkit.open("memory://", pm=pm) as empty:
        report = maintenance.migrate(empty, new_url("tinydb"))
    assert report.ok and report.collections == () and report.total == 0


def test_a_bare_storage_can_be_the_source(populated):
    target = MemoryStore()
    report = maintenance.migrate(populated.storage, target, pm=populated.pm)
    assert report.ok and target.count("events") == populated.storage.count("events")


def test_a_batch_size_must_be_a_positive_number(populated):
    with pytest.raises(crmkit.ValidationError, match="batch_size"):
        maintenance.migrate(populated, MemoryStore(), batch_size=0)
