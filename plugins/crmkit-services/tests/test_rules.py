"""The trade's rules as pure functions, at their boundaries."""

from datetime import date

import pytest

from crmkit_services.rules import (
    csat_figures, missing_steps, month_of, months_between, renewal_state, resolution_problem, step_kind,
)


@pytest.mark.parametrize(("action", "kind"), [
    ("diagnosis: disk full", "diagnosis"),
    ("Diagnosis: disk full", "diagnosis"),
    ("  ACTION:freed space", "action"),
    ("follow up: call Friday", "follow up"),
    ("change-approval: ok", "change-approval"),
    ("Called the customer", None),
    ("10:30 called back", None),
    ("a b c d: too many words", None),
    ("", None),
    (None, None),
])
def test_step_kind_is_the_words_before_the_first_colon(action, kind):
    assert step_kind(action) == kind


@pytest.mark.parametrize(("kinds", "missing"), [
    (["diagnosis", "action"], ()),
    (["note", "diagnosis", None, "action", "check"], ()),
    (["diagnosis"], ("action",)),
    ([], ("diagnosis", "action")),
    (["action", "diagnosis"], ("action",)),          # an action before the diagnosis does not count
    (["action", "diagnosis", "action"], ()),
])
def test_missing_steps_must_come_in_order(kinds, missing):
    assert missing_steps(("diagnosis", "action"), kinds) == missing


def test_nothing_is_missing_when_nothing_is_required():
    assert missing_steps((), []) == ()
    assert resolution_problem("T-1", "question", (), []) is None


def test_resolution_problem_names_what_is_missing_and_how_to_add_it():
    text = resolution_problem("T-7", "incident", ("diagnosis", "action"), ["diagnosis"])
    assert text == ('T-7 cannot be resolved yet: an incident ticket needs the steps diagnosis then action; '
                    'missing: action; record it with: crmkit ticket step T-7 --action "action: ..."')


def test_csat_figures():
    assert csat_figures([]) == {"responses": 0, "average": None, "satisfied": 0, "share_satisfied": None}
    assert csat_figures([4, 5, 3, 1]) == {"responses": 4, "average": 3.25, "satisfied": 2, "share_satisfied": 0.5}
    assert csat_figures([3]) == {"responses": 1, "average": 3.0, "satisfied": 0, "share_satisfied": 0.0}


def test_months_between_fills_the_gaps_across_a_year_end():
    assert months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months_between("2026-03", "2026-03") == ["2026-03"]
    assert month_of(date(2026, 3, 31)) == "2026-03"


@pytest.mark.parametrize(("renews", "state"), [
    (date(2026, 3, 1), "overdue"),
    (date(2026, 3, 2), "due"),        # today
    (date(2026, 4, 1), "due"),        # exactly 30 days
    (date(2026, 4, 2), None),         # 31 days
])
def test_renewal_state_window_is_inclusive(renews, state):
    assert renewal_state(renews, date(2026, 3, 2), 30) == state
