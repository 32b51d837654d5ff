"""An import validates each new customer once, as it is stored: with its id, times and version."""

from __future__ import annotations

from pathlib import Path

import crmkit
from crmkit import hookimpl
from crmkit.errors import ValidationError
from crmkit.io.transfer import import_records
from crmkit.plugins import make_plugin_manager


def _csv(tmp_path: Path, names: list[str]) -> Path:
    path = tmp_path / "in.csv"
    path.write_text("name,emails\n" + "".join(f"{n},{n.lower()}@example.com\n" for n in names), "utf-8")
    return path


def test_each_new_customer_is_validated_once_with_its_final_id(tmp_path: Path) -> None:
    seen: list[tuple[str, bool, int]] = []

    class Check:
        @hookimpl
        def crmkit_validate_record(self, kind, record):  # type: ignore[no-untyped-def]
            seen.append((record.id, record.created_at is not None, record.version))
            if record.name == "Bad":
                raise ValidationError("name", record.name, "is not welcome")

    crm = crmkit.open("memory://", pm=make_plugin_manager(entrypoints=False, extra=[Check()]))
    crm.customers.add("Zoe")  # C-1
    seen.clear()
    report = import_records(crm, _csv(tmp_path, ["Ann", "Bad", "Bob", "Bad", "Cy"]), record_type="customers",
                            skip_invalid=True)
    assert (report.created, report.skipped) == (3, 2)
    # a refused row takes no number: the next row gets it
    assert seen == [("C-2", True, 1), ("C-3", True, 1), ("C-3", True, 1), ("C-4", True, 1), ("C-4", True, 1)]
    stored = {c.name: c for c in crm.customers.find()}
    assert [stored[n].id for n in ("Zoe", "Ann", "Bob", "Cy")] == ["C-1", "C-2", "C-3", "C-4"]
    assert stored["Ann"].stage_history[0].at == stored["Ann"].created_at
    assert crm.customers.add("Dan").id == "C-5"
    assert crm.events.count() == 5


def test_numbers_taken_while_planning_are_not_given_twice(tmp_path: Path) -> None:
    seen: list[str] = []

    class Greedy:
        # Takes a customer number whenever it checks one: the planned numbers are then taken.
        @hookimpl
        def crmkit_validate_record(self, crm, kind, record):  # type: ignore[no-untyped-def]
            seen.append(record.id)
            crm.storage.next_ids("C")

    crm = crmkit.open("memory://", pm=make_plugin_manager(entrypoints=False, extra=[Greedy()]))
    report = import_records(crm, _csv(tmp_path, ["Ann", "Bob"]), record_type="customers")
    assert report.created == 2
    ids = sorted(c.id for c in crm.customers.find())
    assert len(set(ids)) == 2 and crm.storage.counters()["C"] >= max(int(i[2:]) for i in ids)
    # validated when planned, and again with the numbers they were given
    assert seen == ["C-1", "C-2", *ids] and ids == ["C-3", "C-4"]
