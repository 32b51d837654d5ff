"""Feedback and surveys: recording, complaints that open tickets, CSAT answers that rate tickets, reports."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone
from pathlib import Path
from statistics import mean

import attrs
import pytest

from crmkit.errors import Conflict, NotFound, ValidationError
from crmkit.models import FeedbackKind, Scale, Sentiment

DATASET = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "support_tickets" / \
    "kaggle_customer_support_tickets.csv"


def resolved_ticket(crm, customer_id, subject="Broken"):
    ticket = crm.tickets.open(customer_id, subject)
    return crm.tickets.resolve(ticket.id, "Fixed it")


# -- recording ----------------------------------------------------------------------------


def test_feedback_gets_a_default_sentiment_by_kind(crm, ann):
    praise = crm.feedback.add(ann.id, "praise", "Lovely shop", channel="visit")
    complaint = crm.feedback.add(ann.id, "complaint", "Too slow")
    idea = crm.feedback.add(ann.id, "suggestion", "Open on Sundays")
    mixed = crm.feedback.add(ann.id, "complaint", "Slow, but friendly", sentiment="neutral")
    assert (praise.sentiment, complaint.sentiment, idea.sentiment, mixed.sentiment) == \
        (Sentiment.POSITIVE, Sentiment.NEGATIVE, None, Sentiment.NEUTRAL)
    assert praise.id == "F-1" and praise.received_at == crm.now() and str(praise.channel) == "visit"
    assert crm.feedback.get(praise.id) == praise


@pytest.mark.parametrize(("scale", "score", "sentiment"), [
    ("nps", 10, "positive"), ("nps", 9, "positive"), ("nps", 8, "neutral"), ("nps", 7, "neutral"),
    ("nps", 6, "negative"), ("nps", 0, "negative"),
    ("csat", 5, "positive"), ("csat", 4, "positive"), ("csat", 3, "neutral"), ("csat", 2, "negative"),
    ("csat", 1, "negative"),
])
def test_survey_sentiment_follows_the_score(crm, ann, scale, score, sentiment):
    answer = crm.feedback.survey(ann.id, **{scale: score})
    assert (answer.kind, answer.scale, answer.score, answer.sentiment.value) == \
        (FeedbackKind.SURVEY, Scale(scale), score, sentiment)


def test_survey_scores_are_checked_per_scale(crm, ann):
    for kwargs in ({"nps": 11}, {"nps": -1}, {"csat": 0}, {"csat": 6}, {"csat": "4.5"}, {"nps": True}):
        with pytest.raises(ValidationError) as err:
            crm.feedback.survey(ann.id, **kwargs)
        assert err.value.field == "score", kwargs
    with pytest.raises(ValidationError, match="exactly one"):
        crm.feedback.survey(ann.id, nps=9, csat=4)
    with pytest.raises(ValidationError, match="exactly one"):
        crm.feedback.survey(ann.id)
    assert crm.feedback.survey(ann.id, nps="9").score == 9
    assert crm.feedback.count() == 1


def test_an_explicit_sentiment_wins_over_the_score(crm, ann):
    assert crm.feedback.add(ann.id, "survey", "ok I guess", scale="nps", score=9,
                            sentiment="neutral").sentiment is Sentiment.NEUTRAL


def test_bad_feedback_names_the_field(crm, ann):
    cases = [
        ({"kind": "rant", "text": "x"}, "kind"),
        ({"kind": "praise"}, "text"),
        ({"kind": "praise", "text": "x", "score": 5}, "score"),
        ({"kind": "survey", "score": 5}, "scale"),
        ({"kind": "praise", "text": "x", "channel": "pigeon"}, "channel"),
        ({"kind": "praise", "text": "x", "at": "2030-01-01"}, "at"),
        ({"kind": "praise", "text": "x", "ticket_id": "T-99"}, "ticket_id"),
    ]
    for values, field in cases:
        with pytest.raises(ValidationError) as err:
            crm.feedback.add(ann.id, **values)
        assert err.value.field == field, values
    with pytest.raises(ValidationError) as err:
        crm.feedback.add("C-99", "praise", "x")
    assert err.value.field == "customer_id"
    assert crm.feedback.count() == 0


def test_a_ticket_of_another_customer_is_refused(crm, ann):
    bob = crm.customers.add("Bob Stone")
    ticket = crm.tickets.open(bob.id, "Invoice")
    with pytest.raises(ValidationError) as err:
        crm.feedback.add(ann.id, "complaint", "Wrong invoice", ticket_id=ticket.id)
    assert err.value.field == "ticket_id" and bob.id in err.value.reason


# -- complaints that open tickets ----------------------------------------------------------


def test_a_complaint_opens_a_linked_ticket_in_one_transaction(crm, ann, clock):
    clock.advance(hours=1)
    complaint = crm.feedback.add(ann.id, "complaint", "Parcel arrived broken\nBox was crushed", channel="email",
                                 open_ticket=True, priority="high", at="30m ago")
    ticket = crm.tickets.get(complaint.ticket_id)
    assert (ticket.customer_id, ticket.subject, ticket.category, str(ticket.priority), str(ticket.channel)) == \
        (ann.id, "Parcel arrived broken", "complaint", "high", "email")
    assert ticket.description == "Parcel arrived broken\nBox was crushed"
    assert ticket.opened_at == complaint.received_at == clock.now - timedelta(minutes=30)
    types = [e.type for e in crm.events.for_customer(ann.id)]
    assert types[-2:] == ["ticket.opened", "feedback.received"]


def test_complain_is_add_with_open_ticket(crm, ann):
    complaint = crm.feedback.complain(ann.id, "Rude driver", subject="Driver complaint", category="inquiry")
    ticket = crm.tickets.get(complaint.ticket_id)
    assert (complaint.kind, ticket.subject, ticket.category) == (FeedbackKind.COMPLAINT, "Driver complaint", "inquiry")


def test_a_failed_complaint_leaves_neither_ticket_nor_feedback(crm, ann):
    with pytest.raises(ValidationError) as err:
        crm.feedback.add(ann.id, "complaint", "Broken", open_ticket=True, priority="whenever")
    assert err.value.field == "priority"
    with pytest.raises(ValidationError) as err:
        crm.feedback.add(ann.id, "praise", "Great", open_ticket=True)
    assert err.value.field == "open_ticket"
    with pytest.raises(ValidationError) as err:
        crm.feedback.add(ann.id, "praise", "Great", priority="high")
    assert err.value.field == "priority" and "open_ticket" in err.value.reason
    assert crm.tickets.count() == crm.feedback.count() == 0


def test_a_profile_without_a_complaint_category_opens_an_uncategorised_ticket(crm, ann):
    crm.profile = attrs.evolve(crm.profile, ticket_categories=("inquiry",))
    complaint = crm.feedback.complain(ann.id, "Too loud")
    assert crm.tickets.get(complaint.ticket_id).category is None


# -- CSAT answers and ticket ratings ----------------------------------------------------------


def test_a_csat_answer_rates_a_resolved_unrated_ticket(crm, ann, clock):
    ticket = resolved_ticket(crm, ann.id)
    clock.advance(hours=2)
    answer = crm.feedback.survey(ann.id, csat=4, ticket_id=ticket.id, comment="Quick fix")
    rated = crm.tickets.get(ticket.id)
    assert (rated.satisfaction.score, rated.satisfaction.comment, rated.satisfaction.at) == (4, "Quick fix", clock.now)
    assert answer.ticket_id == ticket.id
    assert [e.type for e in crm.events.for_customer(ann.id)][-2:] == ["feedback.received", "ticket.rated"]


def test_a_csat_answer_keeps_an_existing_rating_and_leaves_open_tickets_alone(crm, ann):
    rated = resolved_ticket(crm, ann.id)
    crm.tickets.rate(rated.id, 2)
    crm.feedback.survey(ann.id, csat=5, ticket_id=rated.id)
    assert crm.tickets.get(rated.id).satisfaction.score == 2
    still_open = crm.tickets.open(ann.id, "Other")
    crm.feedback.survey(ann.id, csat=5, ticket_id=still_open.id)
    assert crm.tickets.get(still_open.id).satisfaction is None
    assert crm.feedback.count(ticket=still_open.id) == 1


def test_nps_answers_and_rate_ticket_false_do_not_rate(crm, ann):
    ticket = resolved_ticket(crm, ann.id)
    crm.feedback.survey(ann.id, nps=10, ticket_id=ticket.id)
    crm.feedback.survey(ann.id, csat=5, ticket_id=ticket.id, rate_ticket=False)
    assert crm.tickets.get(ticket.id).satisfaction is None


def test_an_answer_dated_before_the_resolution_rates_as_of_the_resolution(crm, ann, clock):
    ticket = crm.tickets.open(ann.id, "Broken")
    clock.advance(hours=3)
    crm.tickets.resolve(ticket.id, "Fixed")
    crm.feedback.survey(ann.id, csat=3, ticket_id=ticket.id, at="2h ago")
    assert crm.tickets.get(ticket.id).satisfaction.at == clock.now


# -- corrections ------------------------------------------------------------------------------


def test_update_rederives_the_sentiment_from_a_new_score(crm, ann):
    answer = crm.feedback.survey(ann.id, nps=3)
    fixed = crm.feedback.update(answer.id, score=10, expected_version=1)
    assert (fixed.score, fixed.sentiment, fixed.version) == (10, Sentiment.POSITIVE, 2)
    kept = crm.feedback.update(answer.id, score=0, sentiment="neutral")
    assert kept.sentiment is Sentiment.NEUTRAL
    event = crm.events.for_record(answer.id)[1]
    assert event.type == "feedback.updated" and event.customer_id == ann.id
    assert event.changes["score"] == [3, 10]


def test_update_refuses_stale_versions_and_fixed_fields(crm, ann):
    note = crm.feedback.add(ann.id, "suggestion", "More parking")
    crm.feedback.update(note.id, text="More parking, please")
    with pytest.raises(Conflict):
        crm.feedback.update(note.id, text="x", expected_version=1)
    for change in ({"customer_id": "C-2"}, {"scale": "nps"}):
        with pytest.raises(ValidationError) as err:
            crm.feedback.update(note.id, **change)
        assert err.value.field == "field"
    with pytest.raises(ValidationError) as err:
        crm.feedback.update(note.id, score=7)
    assert err.value.field == "score"
    with pytest.raises(NotFound):
        crm.feedback.update("F-99", text="x")


# -- reading and reports ----------------------------------------------------------------------


def test_last_survey_is_the_newest_answer(crm, ann, clock):
    assert crm.feedback.last_survey(ann.id) is None
    crm.feedback.survey(ann.id, nps=5, at="2026-01-05")
    newest = crm.feedback.survey(ann.id, csat=4, at="2026-02-01")
    crm.feedback.add(ann.id, "praise", "Nice")  # not a survey answer
    assert crm.feedback.last_survey(ann.id).id == newest.id
    assert crm.feedback.last_survey(ann.id, scale="nps").score == 5


def test_filters_know_the_short_names(crm, ann):
    crm.feedback.survey(ann.id, nps=9, at="2026-02-01")
    crm.feedback.add(ann.id, "complaint", "Late", at="2026-02-10")
    assert [f.kind.value for f in crm.feedback.find("customer=1 and at>=2026-02-05")] == ["complaint"]
    assert crm.feedback.count("score>=9 and scale=nps") == 1


def test_nps_counts_promoters_passives_and_detractors(crm, ann):
    for score in (10, 9, 9, 8, 7, 6, 0):
        crm.feedback.survey(ann.id, nps=score)
    crm.feedback.survey(ann.id, csat=1)  # another scale: not counted
    report = crm.feedback.nps()
    assert (report.responses, report.promoters, report.passives, report.detractors) == (7, 3, 2, 2)
    assert report.score == round(100 * (3 - 2) / 7, 1) == 14.3
    assert crm.feedback.nps("score<9").score == -50.0


def test_reports_without_answers_have_no_score(crm, ann):
    nps, csat = crm.feedback.nps(), crm.feedback.csat()
    assert (nps.responses, nps.score, csat.responses, csat.average, csat.share_satisfied) == (0, None, 0, None, None)
    assert crm.feedback.nps(by="month") == []


def test_csat_average_share_and_counts(crm, ann):
    for score in (5, 4, 4, 3, 1):
        crm.feedback.survey(ann.id, csat=score)
    report = crm.feedback.csat()
    assert (report.responses, report.average, report.satisfied, report.share_satisfied) == (5, 3.4, 3, 0.6)
    assert report.counts == {"1": 1, "2": 0, "3": 1, "4": 2, "5": 1}


def test_since_and_until_bound_the_answers_and_a_date_includes_its_day(crm, ann):
    for at, score in (("2026-01-01T00:00Z", 10), ("2026-01-31T23:30Z", 0), ("2026-02-01T00:00Z", 9)):
        crm.feedback.survey(ann.id, nps=score, at=at)
    assert crm.feedback.nps(since="2026-01-01", until="2026-01-31").responses == 2
    assert crm.feedback.nps(since="2026-01-31T23:30Z").responses == 2
    assert crm.feedback.nps(until="2026-02-01T00:00Z").responses == 2  # a time is exclusive
    assert crm.feedback.nps(since="2026-02-01").score == 100.0
    with pytest.raises(ValidationError) as err:
        crm.feedback.nps(since="last tuesday")
    assert err.value.field == "since"


def test_reports_by_period_fill_the_gaps(crm, ann):
    for at, score in (("2025-11-03", 10), ("2025-11-20", 2), ("2026-01-15", 9)):
        crm.feedback.survey(ann.id, nps=score, at=f"{at}T12:00Z")
    crm.feedback.survey(ann.id, csat=5, at="2026-02-02T12:00Z")
    months = crm.feedback.nps(by="month")
    assert [(m.period, m.responses, m.score) for m in months] == \
        [("2025-11", 2, 0.0), ("2025-12", 0, None), ("2026-01", 1, 100.0)]
    assert [q.period for q in crm.feedback.csat(by="quarter")] == ["2026-Q1"]
    assert [(y.period, y.responses) for y in crm.feedback.nps(by="year")] == [("2025", 2), ("2026", 1)]
    both = crm.feedback.report(by="month")
    assert [r.period for r in both] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert (both[-1].nps.responses, both[-1].csat.responses) == (0, 1)
    with pytest.raises(ValidationError) as err:
        crm.feedback.nps(by="fortnight")
    assert err.value.field == "by"


def test_feedback_received_is_the_creation_event_for_every_kind(crm, ann):
    crm.feedback.survey(ann.id, nps=8)
    crm.feedback.add(ann.id, "praise", "Nice")
    events = crm.events.find(type="feedback.received")
    assert [crm.feedback.get(e.record_id).kind.value for e in events] == ["survey", "praise"]
    assert all(e.customer_id == ann.id and e.is_creation for e in events)


def test_cascade_deletes_feedback_and_a_ticket_with_feedback_cannot_be_deleted(crm, ann):
    complaint = crm.feedback.complain(ann.id, "Broken")
    with pytest.raises(Conflict):
        crm.tickets.delete(complaint.ticket_id)
    with pytest.raises(Conflict):
        crm.customers.delete(ann.id)
    crm.customers.delete(ann.id, cascade=True)
    assert crm.feedback.count() == crm.tickets.count() == 0
    assert crm.events.count(type="feedback.deleted") == 1


# -- the Kaggle support tickets: 2,769 CSAT ratings -----------------------------------------


def test_kaggle_csat_ratings_recorded_as_surveys_match_the_file(crm):
    if not DATASET.exists():
        pytest.skip(f"dataset not available: {DATASET}")
    with DATASET.open(encoding="utf-8", newline="") as fp:
        rated = [row for row in csv.DictReader(fp) if row["Customer Satisfaction Rating"].strip()]
    scores = [int(float(row["Customer Satisfaction Rating"])) for row in rated]
    emails = list(dict.fromkeys(row["Customer Email"].strip().lower() for row in rated))
    names = {row["Customer Email"].strip().lower(): row["Customer Name"] for row in rated}
    customers = crm.customers.add_many([{"name": names[e], "emails": [e]} for e in emails])
    by_email = {c.emails[0].lower(): c.id for c in customers}
    answers = crm.feedback.add_many([
        {"customer_id": by_email[row["Customer Email"].strip().lower()], "kind": "survey", "scale": "csat",
         "score": score, "channel": "social" if row["Ticket Channel"] == "Social media" else row["Ticket Channel"],
         "at": datetime.strptime(row["Time to Resolution"], "%d-%m-%Y %H:%M").replace(tzinfo=timezone.utc)}
        for row, score in zip(rated, scores)
    ])
    assert len(answers) == len(rated) == 2769
    report = crm.feedback.csat()
    assert report.responses == len(scores)
    assert report.average == round(mean(scores), 2)
    assert report.satisfied == sum(1 for s in scores if s >= 4)
    assert report.counts == {str(s): scores.count(s) for s in range(1, 6)}
    monthly = crm.feedback.csat(by="month")
    assert sum(m.responses for m in monthly) == len(scores)
    # customers found by email: one record per address, several answers for some
    assert crm.customers.count() == len(emails) < len(rated)
