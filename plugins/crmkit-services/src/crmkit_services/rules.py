"""The trade's rules as pure functions: step kinds, required steps, CSAT figures and renewal windows.

Step kinds. A ticket step's kind is the word (or words) before the first colon
of its action: ``"diagnosis: disk on the file server is full"`` is a
*diagnosis*, ``"Action: freed 40 GB and added a quota"`` an *action*. Case
does not matter; an action without such a prefix has no kind.

>>> step_kind("Diagnosis: disk full"), step_kind("Called the customer")
('diagnosis', None)
>>> missing_steps(("diagnosis", "action"), ["action", "diagnosis"])
('action',)
>>> csat_figures([5, 4, 2])
{'responses': 3, 'average': 3.67, 'satisfied': 2, 'share_satisfied': 0.6667}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

#: ``kind: text`` at the start of a step's action; a kind is one to three words.
_KIND = re.compile(r"^\s*([A-Za-z][A-Za-z-]*(?: [A-Za-z][A-Za-z-]*){0,2})\s*:")


def step_kind(action: str | None) -> str | None:
    """The kind of a step from its action text (``"diagnosis: ..."`` -> ``diagnosis``), or None."""
    match = _KIND.match(action or "")
    return match.group(1).lower() if match else None


def missing_steps(required: Sequence[str], kinds: Iterable[str | None]) -> tuple[str, ...]:
    """The required kinds not found in order among ``kinds`` (the steps' kinds, oldest first).

    Each required kind must come after the one before it: with diagnosis then
    action required, an action recorded before any diagnosis does not count.
    """
    wanted = list(required)
    position = 0
    for kind in kinds:
        if position < len(wanted) and kind == wanted[position]:
            position += 1
    return tuple(wanted[position:])


def resolution_problem(ticket_id: str, category: str | None, required: Sequence[str],
                       kinds: Iterable[str | None]) -> str | None:
    """Why a ticket cannot be resolved yet (a sentence naming what is missing), or None when it can."""
    missing = missing_steps(required, kinds)
    if not missing:
        return None
    order = " then ".join(required)
    first = missing[0]
    how = f"record it with: crmkit ticket step {ticket_id} --action \"{first}: ...\""
    article = "an" if str(category)[:1].lower() in "aeiou" else "a"
    return (f"{ticket_id} cannot be resolved yet: {article} {category} ticket needs the steps {order}; "
            f"missing: {', '.join(missing)}; {how}")


def csat_figures(scores: Sequence[int]) -> dict[str, Any]:
    """Responses, average (2 decimals), satisfied (4 or 5) and their share (4 decimals) of 1-5 scores."""
    total = len(scores)
    satisfied = sum(1 for score in scores if score >= 4)
    return {
        "responses": total,
        "average": round(sum(scores) / total, 2) if total else None,
        "satisfied": satisfied,
        "share_satisfied": round(satisfied / total, 4) if total else None,
    }


def month_of(day: date) -> str:
    """``2026-03-14`` -> ``2026-03``."""
    return f"{day.year:04d}-{day.month:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` (``YYYY-MM``), so a trend shows its empty months."""
    year, month = int(first[:4]), int(first[5:7])
    result = []
    while f"{year:04d}-{month:02d}" <= last:
        result.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def renewal_state(renews_on: date, today: date, within: int) -> str | None:
    """``overdue`` (the date passed), ``due`` (within ``within`` days from today), or None (later)."""
    days = (renews_on - today).days
    if days < 0:
        return "overdue"
    return "due" if days <= within else None


__all__ = ["csat_figures", "missing_steps", "month_of", "months_between", "renewal_state",
           "resolution_problem", "step_kind"]
