"""maintenance.stats: records per collection, backend, profile and size on disk."""

from __future__ import annotations

import os

import pytest

import crmkit
from crmkit import maintenance
from crmkit.entities import ENTITIES


@pytest.mark.parametrize("populated", ["memory", "tinydb"], indirect=True)
def test_counts_per_collection_backend_and_profile(populated):
    info = maintenance.stats(populated)
    storage = populated.storage
    assert info.collections == {name: storage.count(name)
                                for name in ENTITIES}
    assert info.collections["customers"] == 32  # 33 added, one deleted
    assert info.total == sum(info.collections.values())
    assert info.url == storage.url and info.profile == "generic"
    assert info.backend == storage.url.split(":", 1)[0]


def test_a_file_store_reports_the_bytes_of_its_files(populated, file_backend, new_url, pm):
    url = new_url(file_backend)
    maintenance.migrate(populated, url)
    with crmkit.open(url, pm=pm) as crm:
        info = maintenance.stats(crm)
    assert info.backend == file_backend and info.files
    assert info.size_bytes == sum(os.path.getsize(f) for f in info.files) > 0


def test_a_memory_store_has_no_size_on_disk(pm):
    with crmkit.open("memory://", pm=pm) as crm:
        info = maintenance.stats(crm)
    assert info.size_bytes is None and info.files == ()
    assert info.collections == dict.fromkeys(ENTITIES, 0)
    assert info.profile == "generic"  # a new store's profile is the one it will be created with


def test_collections_of_plugins_are_counted_too(pm):
    with crmkit.open("memory://", pm=pm) as crm:
        crm.storage.insert("deals", [{"id": "D-1", "version": 1}])
        assert maintenance.stats(crm).collections["deals"] == 1
