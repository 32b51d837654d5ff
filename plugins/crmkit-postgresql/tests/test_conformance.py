"""crmkit's storage conformance suite, unchanged, on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from crmkit.testing import StorageConformance, StorageFactory

from crmkit_postgresql import open_postgresql


class TestPostgresConformance(StorageConformance):
    persistent = True

    @pytest.fixture
    def make_storage(self, new_url: Callable[[], str]) -> Iterator[StorageFactory]:
        with StorageFactory(open_postgresql, new_url) as factory:
            yield factory
