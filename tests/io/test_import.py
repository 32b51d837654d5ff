"""import_records: validation first, skip-invalid, dry run, modes, matching, mappings."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from crmkit.entities import RECORD_TYPES
from crmkit.errors import ImportRowsError, ValidationError
from crmkit.io.transfer import export_records, import_records


def csv_file(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def snapshot(crm) -> str:  # type: ignore[no-untyped-def]
    buf = io.StringIO()
    export_records(crm, "all", buf, format="jsonl")
    return buf.getvalue()


TEN_ROWS = """name,emails,phones,tags,consent.email
Row Two,two@example.com,+4722334402,a,true
Row Three,not-an-email,,b,false
Row Four,four@example.com,,,
,five@example.com,,,
Row Six,six@example.com,+4722334406,"x; y",
Row Seven,seven@example.com,,,perhaps
Row Eight,eight@example.com,,,
Row Nine,nine@example.com,,,
Row Ten,ten@example.com,,,
Row Eleven,eleven@example.com,,,
"""


def test_bad_rows_import_nothing_and_are_all_reported(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    crm.customers.add("Existing", emails=["old@example.com"])
    before = snapshot(crm)
    with pytest.raises(ImportRowsError) as info:
        import_records(crm, csv_file(tmp_path, TEN_ROWS), record_type="customers")
    problems = info.value.problems
    assert [line for line, _msg in problems] == [3, 5, 7]
    assert problems[0][1].startswith("email: is not a valid email address")
    assert problems[1][1] == "name: is required"
    assert problems[2][1] == "consent.email: must be true or false"
    assert "nothing imported from 10 rows" in str(info.value) and str(info.value).startswith("line 3: email:")
    assert snapshot(crm) == before


def test_skip_invalid_imports_good_rows_and_writes_rejects(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rejects = io.StringIO(newline="")
    report = import_records(crm, csv_file(tmp_path, TEN_ROWS), record_type="customers", skip_invalid=True,
                            rejects=rejects)
    assert (report.created, report.skipped, report.total) == (7, 3, 10)
    assert [c.name for c in crm.customers.find()][:3] == ["Row Two", "Row Four", "Row Six"]
    assert crm.customers.find(name="Row Six")[0].tags == ("x", "y")
    rows = list(csv.DictReader(io.StringIO(rejects.getvalue())))
    assert [r["name"] for r in rows] == ["Row Three", "", "Row Seven"]
    assert list(rows[0]) == ["name", "emails", "phones", "tags", "consent.email", "error"]
    assert rows[1]["emails"] == "five@example.com" and rows[1]["error"] == "name: is required"
    assert rows[2]["error"] == "consent.email: must be true or false"


def test_dry_run_reports_and_writes_nothing(open_tinydb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    crm = open_tinydb()
    crm.customers.add("Existing", emails=["two@example.com"])
    store = tmp_path / "crm.json"
    before = store.read_bytes()
    path = csv_file(tmp_path, "name,emails\nAnn,ann@example.com\nTwo Again,two@example.com\nBo,bo@example.com\n")
    report = import_records(crm, path, record_type="customers", mode="upsert", match_on="email", dry_run=True)
    assert (report.created, report.updated, report.dry_run) == (2, 1, True)
    assert store.read_bytes() == before
    assert crm.customers.count() == 1 and crm.customers.get("C-1").name == "Existing"
    real = import_records(crm, path, record_type="customers", mode="upsert", match_on="email")
    assert (real.created, real.updated, real.dry_run) == (2, 1, False)


def test_upsert_by_email_phone_external_id_and_id(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ann = crm.customers.add("Ann", emails=["ann@example.com"], phones=["+4722334455"],
                            external_ids={"salesforce": "003A"}, tags=["old"])
    by_email = import_records(crm, csv_file(tmp_path, "emails,tags\nANN@example.com,new\n"),
                              record_type="customers", mode="upsert", match_on="email")
    assert (by_email.updated, by_email.created, by_email.problems) == (1, 0, [])
    assert crm.customers.get(ann.id).tags == ("new",)
    assert crm.customers.get(ann.id).name == "Ann"  # not in the file: left alone
    by_phone = import_records(crm, csv_file(tmp_path, "name,phones,title\nAnn Lee,+47 22 33 44 55,Boss\n"),
                              record_type="customers", mode="upsert", match_on="phone")
    assert by_phone.updated == 1 and crm.customers.get(ann.id).name == "Ann Lee"
    by_ext = import_records(crm, csv_file(tmp_path, "external_ids.salesforce,company,name\n003A,Acme,Ann Lee\n"
                                                    "004B,Other,Otto\n"),
                            record_type="customers", mode="upsert", match_on="external_id")
    assert by_ext.updated == 1 and crm.customers.get(ann.id).company == "Acme"
    assert by_ext.problems == [] and by_ext.created == 1
    assert crm.customers.find(name="Otto")[0].external_ids == {"salesforce": "004B"}
    by_id = import_records(crm, csv_file(tmp_path, f"id,notes\n{ann.id},hello\nC-99,new one\n"),
                           record_type="customers", mode="upsert", skip_invalid=True)
    assert by_id.updated == 1 and crm.customers.get(ann.id).notes == "hello"
    assert by_id.problems == [(3, "name: is required")]  # C-99 is new, and a new customer needs a name
    unchanged = import_records(crm, csv_file(tmp_path, f"id,notes\n{ann.id},hello\n"), record_type="customers",
                               mode="upsert")
    assert (unchanged.unchanged, unchanged.updated) == (1, 0)
    assert crm.customers.get(ann.id).external_ids == {"salesforce": "003A"}


def test_upsert_creates_the_rest_and_keeps_given_ids(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    crm.customers.add("Ann", emails=["ann@example.com"])
    report = import_records(crm, csv_file(tmp_path, "id,name,emails\n,Ann B,ann@example.com\nC-7,Cy,cy@example.com\n"),
                            record_type="customers", mode="upsert", match_on="email")
    assert (report.updated, report.created) == (1, 1)
    assert crm.customers.get("C-7").name == "Cy"
    assert crm.customers.add("Next").id == "C-8"


def test_update_mode_refuses_rows_that_match_nothing(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    crm.customers.add("Ann", emails=["ann@example.com"])
    path = csv_file(tmp_path, "emails,title\nann@example.com,CEO\nnobody@example.com,CTO\n")
    with pytest.raises(ImportRowsError) as info:
        import_records(crm, path, record_type="customers", mode="update", match_on="email")
    assert info.value.problems == [
        (3, "email: nobody@example.com matches no customer; update mode only changes existing records")]
    assert crm.customers.get("C-1").title is None
    report = import_records(crm, path, record_type="customers", mode="update", match_on="email", skip_invalid=True)
    assert (report.updated, report.skipped, report.created) == (1, 1, 0)
    assert crm.customers.get("C-1").title == "CEO"
    with pytest.raises(ImportRowsError) as info:
        import_records(crm, csv_file(tmp_path, "title\nCFO\n"), record_type="customers", mode="update")
    assert info.value.problems == [(2, "id: the row has no id to match; update mode only changes existing records")]


def test_create_mode_refuses_existing_ids_and_keys(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    crm.customers.add("Ann", emails=["ann@example.com"], phones=["+4722334455"])
    path = csv_file(tmp_path, "id,name,emails,phones\nC-1,Ann,x@example.com,\n,Bo,ann@example.com,\n"
                              ",Cy,cy@example.com,+4722334455\n")
    with pytest.raises(ImportRowsError) as info:
        import_records(crm, path, record_type="customers", match_on="phone")
    messages = dict(info.value.problems)
    assert messages[2].startswith("C-1: already exists (id C-1)")
    assert messages[3] == "email: ann@example.com already belongs to C-1 (Ann)"
    assert messages[4].startswith("C-1: already exists (same phone)")


def test_duplicates_inside_one_file(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = csv_file(tmp_path, "id,name,emails\n,Ann,ann@example.com\n,Ann Again,Ann@Example.com\n"
                              "C-5,Bo,bo@example.com\nC-5,Bo Again,bo2@example.com\n")
    with pytest.raises(ImportRowsError) as info:
        import_records(crm, path, record_type="customers")
    assert info.value.problems == [
        (3, "email: ann@example.com appears twice in this file (also line 2)"),
        (5, "id: C-5 appears twice in this file (also line 4)"),
    ]
    assert crm.customers.count() == 0


def test_unknown_columns_are_listed(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = csv_file(tmp_path, "name,email,Nickname,Birthday\nAnn,ann@example.com,A,1990-01-01\n")
    with pytest.raises(ValidationError) as info:
        import_records(crm, path, record_type="customers")
    assert info.value.field == "columns" and info.value.value == ["Nickname", "Birthday"]
    assert "mapping" in info.value.reason


def test_mapping_renames_and_ignores_the_rest(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = csv_file(tmp_path, "Full name,E-mail,Work mail,City,Nickname,notes\n"
                              "Ann Lee,ann@example.com,ann@work.example,Oslo,Annie,hi\n,,,,Nobody,\n")
    report = import_records(crm, path, record_type="customers", skip_invalid=True,
                            mapping={"Full name": "name", "E-mail": "emails", "Work mail": "emails",
                                     "City": "address.city"})
    ann = crm.customers.get("C-1")
    assert (ann.name, ann.emails, ann.address.city, ann.notes) == \
        ("Ann Lee", ("ann@example.com", "ann@work.example"), "Oslo", "hi")  # notes is a crmkit column: kept
    assert report.problems == [(3, "name: is required")]
    with pytest.raises(ValidationError, match="not a customers column"):
        import_records(crm, path, record_type="customers", mapping={"Full name": "full_name"})


def test_name_falls_back_to_company_then_email_with_a_mapping(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = csv_file(tmp_path, "Org,Mail\nAcme AS,post@acme.example\n,solo@example.com\n")
    import_records(crm, path, record_type="customers", mapping={"Org": "company", "Mail": "emails"})
    assert [c.name for c in crm.customers.find()] == ["Acme AS", "solo@example.com"]


def test_interactions_link_by_customer_email_when_the_id_is_unknown(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    crm.customers.add("Filler")
    ann = crm.customers.add("Ann", emails=["ann@example.com"])
    path = csv_file(tmp_path, "customer_id,customer_email,channel,summary,occurred_at\n"
                              "C-40,ann@example.com,phone,Called,2024-01-05T10:00:00Z\n"
                              f"{ann.id},other@example.com,email,Mailed,2024-01-06T10:00:00Z\n"
                              "C-41,nobody@example.com,email,Lost,\n,,email,No link,\n")
    with pytest.raises(ImportRowsError) as info:
        import_records(crm, path, record_type="interactions")
    assert info.value.problems == [(4, "customer_email: belongs to no customer"),
                                   (5, "customer_id: is required (or give customer_email)")]
    report = import_records(crm, path, record_type="interactions", skip_invalid=True)
    assert report.created == 2
    assert [(i.customer_id, i.summary) for i in crm.interactions.find()] == [(ann.id, "Called"), (ann.id, "Mailed")]


def test_ticket_rows_are_checked_by_the_service(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ann = crm.customers.add("Ann")
    path = csv_file(tmp_path, f"customer_id,subject,category,priority\n{ann.id},Broken,complaint,high\n"
                              f"{ann.id},Odd,gossip,normal\n{ann.id},,inquiry,low\n{ann.id},Late,inquiry,asap\n")
    with pytest.raises(ImportRowsError) as info:
        import_records(crm, path, record_type="tickets")
    lines = {line: msg for line, msg in info.value.problems}
    assert lines[3].startswith("category: must be one of") and lines[4] == "subject: is required"
    assert lines[5].startswith("priority: must be one of")


def test_ticket_update_only_changes_editable_fields(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ann = crm.customers.add("Ann")
    ticket = crm.tickets.open(ann.id, "Broken")
    ok = import_records(crm, csv_file(tmp_path, f"id,priority,subject\n{ticket.id},urgent,Broken badly\n"),
                        record_type="tickets", mode="update")
    assert ok.updated == 1 and crm.tickets.get(ticket.id).priority.value == "urgent"
    with pytest.raises(ImportRowsError) as info:
        import_records(crm, csv_file(tmp_path, f"id,status\n{ticket.id},escalated\n"), record_type="tickets",
                       mode="update")
    assert info.value.problems[0][1].startswith("status: cannot be changed by an import")


def test_events_cannot_be_restored_over_history(populate, crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    populate(crm)
    path = tmp_path / "events.jsonl"
    with path.open("w") as fp:
        export_records(crm, "events", fp, format="jsonl")
    with pytest.raises(ValidationError, match="without history of its own"):
        import_records(crm, path, record_type="events")
    with pytest.raises(ValidationError, match="only create"):
        import_records(crm, path, record_type="events", mode="upsert")


def test_json_rows_keep_types_and_report_their_lines(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    docs = [{"name": "Ann", "emails": ["ann@example.com"], "fields": {"points": 5, "vip": True}},
            {"name": "Bo", "emails": ["bad"]}]
    path = tmp_path / "in.json"
    path.write_text(json.dumps(docs, indent=2))
    with pytest.raises(ImportRowsError) as info:
        import_records(crm, path, record_type="customers")
    assert info.value.problems[0][0] == 12 and info.value.problems[0][1].startswith("email:")
    import_records(crm, path, record_type="customers", skip_invalid=True)
    assert crm.customers.get("C-1").fields == {"points": 5, "vip": True}


def test_format_is_guessed_or_must_be_given(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = csv_file(tmp_path, "name\nAnn\n", name="people.txt")
    with pytest.raises(ValidationError) as info:
        import_records(crm, path, record_type="customers")
    assert info.value.field == "format"
    assert import_records(crm, path, record_type="customers", format="csv").created == 1
    stream = io.StringIO("name\nBo\n")
    assert import_records(crm, stream, record_type="customers", format="csv").created == 1


def test_bad_arguments(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = csv_file(tmp_path, "name\nAnn\n")
    for kwargs in ({"mode": "merge"}, {"match_on": "name"}, {"preset": "nope"}):
        with pytest.raises(ValidationError):
            import_records(crm, path, record_type="customers", **kwargs)
    with pytest.raises(ValidationError, match="only customers"):
        import_records(crm, path, record_type="tickets", match_on="email")
    with pytest.raises(ValidationError, match="one record type"):
        import_records(crm, path, record_type="all")
    with pytest.raises(ValidationError, match="does not exist"):
        import_records(crm, tmp_path / "missing.csv", record_type="customers")


def test_progress_is_called_in_chunks(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lines = "".join(f"P{n},p{n}@example.com\n" for n in range(1203))
    calls: list[int] = []
    import_records(crm, csv_file(tmp_path, "name,emails\n" + lines), record_type="customers", progress=calls.append)
    assert calls == [500, 500, 203]


def test_stdin_is_read_as_utf8_with_bom(crm, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import sys

    fake = io.TextIOWrapper(io.BytesIO("\ufeffname;emails\nÅse;ase@example.com\n".encode()), encoding="latin-1")
    monkeypatch.setattr(sys, "stdin", fake)
    with pytest.raises(ValidationError) as info:
        import_records(crm, "-", record_type="customers")
    assert info.value.field == "format"
    assert import_records(crm, "-", record_type="customers", format="csv").created == 1
    assert crm.customers.get("C-1").name == "Åse"
    assert not fake.buffer.closed  # stdin stays usable


def test_interactions_upsert_by_id_and_relink_by_email(populate, crm, pm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import crmkit

    ids = populate(crm)
    for record_type in ("customers", "interactions"):
        with (tmp_path / f"{record_type}.csv").open("w", encoding="utf-8", newline="") as fp:
            export_records(crm, record_type, fp, format="csv")
    # Another store where the old customer ids are gone: the ids in the files mean nothing there.
    other = crmkit.open("memory://", pm=pm)
    for n in range(5):
        other.customers.delete(other.customers.add(f"Temp {n}").id)
    rows = list(csv.DictReader((tmp_path / "customers.csv").open(encoding="utf-8", newline="")))
    stripped = io.StringIO()
    writer = csv.DictWriter(stripped, [c for c in rows[0] if c not in ("id", "contacts")])
    writer.writeheader()
    writer.writerows({k: v for k, v in row.items() if k in writer.fieldnames} for row in rows)
    stripped.seek(0)
    import_records(other, stripped, record_type="customers", format="csv")
    ann = other.customers.find(email="ann@example.com")[0]
    assert ann.id == "C-6" and ids["ann"] == "C-1"
    plain = (tmp_path / "interactions.csv").read_text("utf-8").replace("T-1", "")  # no tickets in the other store
    report = import_records(other, io.StringIO(plain), record_type="interactions", format="csv")
    assert report.created == 3
    assert other.interactions.get("I-1").customer_id == ann.id  # C-1 does not exist there: linked by email
    # Upsert by id: the changed summary updates, the identical rows are unchanged.
    edited = plain.replace("Quarterly review", "Quarterly review (moved)")
    again = import_records(other, io.StringIO(edited), record_type="interactions", format="csv", mode="upsert")
    assert (again.updated, again.unchanged, again.created) == (1, 2, 0)
    assert other.interactions.find(summary="Quarterly review (moved)")


def test_rejects_of_json_rows_keep_nested_values_as_json(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "in.jsonl"
    path.write_text('{"name": "Ann", "address": {"city": "Oslo"}, "emails": ["bad"]}\nnot json\n{"name": "Bo"}\n')
    rejects = io.StringIO()
    report = import_records(crm, path, record_type="customers", skip_invalid=True, rejects=rejects)
    assert (report.created, report.skipped) == (1, 2)
    rows = list(csv.DictReader(io.StringIO(rejects.getvalue())))
    assert rows[0]["address"] == '{"city": "Oslo"}' and rows[0]["emails"] == '["bad"]'
    assert rows[1]["error"].startswith("row: is not valid JSON")


def test_all_dry_run_and_bad_rows_roll_everything_back(populate, crm, pm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import crmkit

    populate(crm)
    path = tmp_path / "all.json"
    with path.open("w") as fp:
        export_records(crm, "all", fp, format="json")
    target = crmkit.open("memory://", pm=pm)
    report = import_records(target, path, record_type="all", dry_run=True)
    assert report.created == sum(crm.stats().values()) and report.dry_run
    assert target.stats() == dict.fromkeys(RECORD_TYPES, 0)
    broken = json.loads(path.read_text())
    broken["tickets"][0]["priority"] = "whenever"
    path.write_text(json.dumps(broken, indent=2))
    with pytest.raises(ImportRowsError) as info:
        import_records(target, path, record_type="all")
    messages = [msg for _line, msg in info.value.problems]
    # The bad ticket, and the interaction and the follow-up task that point at it (tickets come first).
    assert len(messages) == 3 and "ticket_id: T-1 does not exist" in messages
    assert "ticket_id: ticket T-1 does not exist" in messages
    assert any(msg.startswith("priority: must be one of") for msg in messages)
    assert target.stats()["customers"] == 0


def test_readable_key_columns_relink_records_whose_ids_differ(tmp_path):
    import crmkit
    from crmkit.plugins import make_plugin_manager

    def store(name):
        return crmkit.open(tmp_path / f"{name}.json", pm=make_plugin_manager(entrypoints=False), actor="tester")

    source, target = store("source"), store("target")
    ann = source.customers.add("Ann Lee", emails=["ann@example.com"])
    order = source.orders.add(ann.id, total=10, currency="EUR", number="W-77")
    source.feedback.add(ann.id, "complaint", "Broken", order_id=order.id)
    out = io.StringIO()
    export_records(source, "feedback", out, format="csv")
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert (row["order_id"], row["order_number"], row["customer_email"]) == (order.id, "W-77", "ann@example.com")
    # The target store holds the same people and orders under other ids.
    target.customers.add("Someone Else")
    twin = target.customers.add("Ann Lee", emails=["ann@example.com"])
    target.orders.add(twin.id, total=5, currency="EUR", number="W-1")
    copy = target.orders.add(twin.id, total=10, currency="EUR", number="W-77")
    text = out.getvalue().replace(f"{order.id},", "O-999,").replace(f"{ann.id},", "C-999,")
    report = import_records(target, io.StringIO(text), record_type="feedback", format="csv")
    assert report.created == 1
    linked = target.feedback.find()[0]
    assert (linked.order_id, linked.customer_id) == (copy.id, twin.id)
    bad = text.replace("W-77", "W-404")
    with pytest.raises(ImportRowsError) as err:
        import_records(target, io.StringIO(bad.replace("F-1,", "F-2,")), record_type="feedback", format="csv")
    assert "order_number: matches no order" in err.value.problems[0][1]
