"""Export -> import into an empty store -> export gives the same bytes, in every format."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from crmkit.errors import ValidationError
from crmkit.io.transfer import RECORD_TYPES, export_all_to_dir, export_records, import_records


def export_text(crm, record_type: str, fmt: str, **kwargs) -> str:  # type: ignore[no-untyped-def]
    buf = io.StringIO(newline="")
    export_records(crm, record_type, buf, format=fmt, **kwargs)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_export_import_export_is_byte_identical(populate, open_tinydb, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    source = open_tinydb("source.json")
    populate(source)
    target = open_tinydb("target.json")
    for record_type in ("customers", "tickets", "interactions"):
        path = tmp_path / f"{record_type}.{fmt}"
        with path.open("w", encoding="utf-8", newline="") as fp:
            export_records(source, record_type, fp, format=fmt)
        report = import_records(target, path, record_type=record_type)
        assert report.created == source.stats()[record_type] and not report.problems
    # Read back through a fresh handle: what is on disk, not what is in memory.
    reopened = open_tinydb("target.json")
    for record_type in ("customers", "tickets", "interactions"):
        assert export_text(reopened, record_type, fmt) == (tmp_path / f"{record_type}.{fmt}").read_text("utf-8")


def test_csv_export_carries_everything_readably(populate, crm) -> None:  # type: ignore[no-untyped-def]
    ids = populate(crm)
    text = export_text(crm, "customers", "csv")
    header = text.splitlines()[0].split(",")
    assert header[:3] == ["id", "kind", "name"] and header[-3:] == ["created_at", "updated_at", "version"]
    assert {"fields.loyalty_points", "fields.shoe_size", "fields.vat", "external_ids.hubspot",
            "external_ids.salesforce", "consent.email", "address.city"} <= set(header)
    assert "'=HYPERLINK(\"\"http://evil\"\")" in text  # neutralised formula, CSV-quoted
    assert ",'-manager,ann@example.com; ann.lee@work.example," in text and ",'@partner; key account," in text
    assert "+4722334455" in text and "'+4722334455" not in text
    assert "Bjørn Ødegård" in text and "陈伟" in text
    tickets = export_text(crm, "tickets", "csv").splitlines()
    assert tickets[0].startswith("id,customer_id,customer_email,subject")
    assert tickets[1].startswith(f"{ids['ticket']},{ids['ann']},ann@example.com,Printer jams")


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_all_round_trip_keeps_events(populate, crm, open_tinydb, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    populate(crm)
    text = export_text(crm, "all", fmt)
    path = tmp_path / f"backup.{fmt}"
    path.write_text(text, "utf-8")
    target = open_tinydb()
    report = import_records(target, path, record_type="all")
    assert report.created == sum(crm.stats().values())
    assert target.stats() == crm.stats()
    assert export_text(target, "all", fmt) == text
    # The event log is the original one, not the creation events of the import.
    assert [e.type for e in target.events.for_customer("C-1")] == [e.type for e in crm.events.for_customer("C-1")]
    # Ids continue after the restored ones.
    assert target.customers.add("New", emails=["new@example.com"]).id == "C-4"
    assert target.customers.add_contact("C-4", "Pat").id == "P-2"  # P-1 is Bob, restored


def test_all_is_refused_for_csv(populate, crm) -> None:  # type: ignore[no-untyped-def]
    populate(crm)
    with pytest.raises(ValidationError) as info:
        export_text(crm, "all", "csv")
    assert "export_all_to_dir" in info.value.reason


def test_export_all_to_dir_and_restore_from_the_files(populate, crm, open_tinydb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    populate(crm)
    counts = export_all_to_dir(crm, tmp_path / "backup")
    assert counts == crm.stats()
    assert sorted(p.name for p in (tmp_path / "backup").iterdir()) == sorted(f"{t}.csv" for t in RECORD_TYPES)
    target = open_tinydb()
    # In dependence order (tickets before interactions: an interaction may point at a ticket).
    for record_type in RECORD_TYPES:
        import_records(target, tmp_path / "backup" / f"{record_type}.csv", record_type=record_type)
    assert target.stats() == crm.stats()
    again = export_all_to_dir(target, tmp_path / "again")
    assert again == counts
    for record_type in RECORD_TYPES:
        assert (tmp_path / "again" / f"{record_type}.csv").read_bytes() == \
            (tmp_path / "backup" / f"{record_type}.csv").read_bytes()


def test_export_selects_with_where_sort_limit_and_reports_progress(populate, crm) -> None:  # type: ignore[no-untyped-def]
    populate(crm)
    calls: list[int] = []
    buf = io.StringIO()
    n = export_records(crm, "customers", buf, format="jsonl", where="tag=vip", progress=calls.append)
    assert n == 1 and calls == [1] and '"Ann Lee"' in buf.getvalue()
    text = export_text(crm, "customers", "csv", sort="-name", limit=2)
    assert [line.split(",")[2] for line in text.splitlines()[1:]] == ["陈伟", "Bjørn Ødegård"]
    with pytest.raises(ValidationError):
        export_text(crm, "customers", "xlsx")
    with pytest.raises(ValidationError):
        export_text(crm, "widgets", "csv")
