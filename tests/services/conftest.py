from datetime import datetime, timedelta, timezone

import pytest

import crmkit
from crmkit.plugins import make_plugin_manager


class Clock:
    """A settable clock so SLA and lifecycle tests control time."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(params=["memory", "tinydb"])
def crm(request, tmp_path, clock):
    url = "memory://" if request.param == "memory" else str(tmp_path / "crm.json")
    crm = crmkit.open(url, pm=make_plugin_manager(entrypoints=False), actor="tester", clock=clock, region="NO")
    yield crm
    crm.close()


@pytest.fixture
def ann(crm):
    return crm.customers.add("Ann Lee", emails=["ann@example.com"], phones=["+47 22 33 44 55"], tags=["vip"])
