"""The Feedback model: survey scores per scale, and what only survey answers carry."""

from datetime import datetime, timezone

import pytest

from crmkit.errors import ValidationError
from crmkit.models import Feedback, Scale, Sentiment, from_doc, to_doc

AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_scales_have_their_bounds_and_sentiments():
    assert (Scale.CSAT.bounds, Scale.NPS.bounds) == ((1, 5), (0, 10))
    assert [Scale.NPS.sentiment(s) for s in (0, 6, 7, 8, 9, 10)] == [
        Sentiment.NEGATIVE, Sentiment.NEGATIVE, Sentiment.NEUTRAL, Sentiment.NEUTRAL, Sentiment.POSITIVE,
        Sentiment.POSITIVE]
    assert [Scale.CSAT.sentiment(s) for s in (1, 2, 3, 4, 5)] == [
        Sentiment.NEGATIVE, Sentiment.NEGATIVE, Sentiment.NEUTRAL, Sentiment.POSITIVE, Sentiment.POSITIVE]


@pytest.mark.parametrize(("scale", "score"), [("csat", 0), ("csat", 6), ("nps", -1), ("nps", 11), ("nps", 9.5),
                                              ("nps", "nine"), ("csat", None)])
def test_scores_off_the_scale_are_refused(scale, score):
    with pytest.raises(ValidationError) as err:
        Feedback(customer_id="C-1", kind="survey", scale=scale, score=score, received_at=AT)
    assert err.value.field == "score"


def test_only_survey_answers_carry_a_score_and_others_need_text():
    with pytest.raises(ValidationError, match="only survey answers"):
        Feedback(customer_id="C-1", kind="praise", text="Nice", score=5, scale="csat", received_at=AT)
    with pytest.raises(ValidationError) as err:
        Feedback(customer_id="C-1", kind="complaint", received_at=AT)
    assert err.value.field == "text"
    with pytest.raises(ValidationError):
        Feedback(customer_id="C-1", kind="survey", received_at=AT)


def test_a_survey_answer_round_trips_through_its_stored_form():
    answer = Feedback(customer_id="C-1", kind="survey", scale="nps", score="9", sentiment="positive",
                      channel="email", ticket_id="T-2", received_at=AT)
    doc = to_doc(answer)
    assert (doc["score"], doc["scale"], doc["kind"], doc["received_at"]) == (9, "nps", "survey", "2026-03-02T09:00:00Z")
    assert from_doc(Feedback, doc) == answer
