"""Fixtures for the command-line tests: result checks and a seeded store.

Test modules are imported in importlib mode, so shared helpers come as the
``check`` fixture rather than an importable module.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

import crmkit


class Checks:
    """Assertions on CLI results, shared by the test modules."""

    @staticmethod
    def digest(path: Path) -> str | None:
        """The file's SHA-256, or None when it does not exist."""
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None

    @staticmethod
    def ok(result: Result) -> Result:
        """Assert the command succeeded, showing its stderr (and any exception) when it did not."""
        assert result.exit_code == 0, (result.stderr, result.exception)
        return result

    @staticmethod
    def failed(result: Result, code: int, *needles: str) -> str:
        """Assert a clean failure: exit ``code``, one ``Error:`` line naming ``needles``, no traceback."""
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr, result.exception)
        assert isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, result.stderr
        if code == 1:
            assert result.stderr.count("\n") == 1, result.stderr  # nothing but the one line
        for needle in needles:
            assert needle.lower() in errors[0].lower(), (needle, errors[0])
        return errors[0]

    @classmethod
    def parse(cls, result: Result, fmt: str) -> list[dict[str, Any]]:
        """The records a json, jsonl or csv listing printed."""
        text = cls.ok(result).stdout
        if fmt == "json":
            return json.loads(text)
        if fmt == "jsonl":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def check() -> type[Checks]:
    """The :class:`Checks`: ``check.ok(result)``, ``check.failed(result, code, *needles)``, ``check.parse``..."""
    return Checks


@pytest.fixture
def seeded(cli: Callable[..., Result], open_store: Callable[..., crmkit.CRM]) -> crmkit.CRM:
    """A store with Ann (C-1, tickets T-1 open and T-3 resolved, interaction I-1) and Bob (C-2, ticket T-2)."""
    for args in (
        ("customer", "add", "--name", "Ann Lee", "--email", "ann@example.com", "--phone", "+4722334455",
         "--tag", "vip"),
        ("customer", "add", "--name", "Bob Stone", "--kind", "company", "--email", "bob@example.org"),
        ("ticket", "open", "C-1", "--subject", "Printer jams"),
        ("ticket", "open", "C-2", "--subject", "Invoice wrong"),
        ("ticket", "open", "C-1", "--subject", "Toner"),
        ("ticket", "resolve", "T-3", "--solution", "Sent toner"),
        ("interaction", "log", "C-1", "--channel", "phone", "--summary", "Called about the printer"),
    ):
        Checks.ok(cli(*args))
    return open_store()
