"""Shared set-up for the tests that keep the docs and examples true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FENCE = "`" * 3


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer store, no installed third-party plugins, no real home directory."""
    for name in ("CRMKIT_DB", "CRMKIT_DISABLE_PLUGINS", "CRMKIT_TRACE_PLUGINS", "CRMKIT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CRMKIT_PLUGINS", "")  # empty: load the built-ins only
    monkeypatch.setenv("CRMKIT_USER", "docs-tester")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))


def code_blocks(path: Path, language: str) -> list[tuple[int, str, str]]:
    """``(line, marker, code)`` for every fenced block in ``language``.

    ``marker`` is the HTML comment right before the block (``skip``,
    ``test-file: NAME``) or "".
    """
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"(?:<!--\s*(?P<marker>[^>]*?)\s*-->\s*\n)?{FENCE}{language}\n(?P<code>.*?){FENCE}", re.DOTALL)
    return [
        (text[: m.start("code")].count("\n"), m.group("marker") or "", m.group("code"))
        for m in pattern.finditer(text)
    ]


def section(path: Path, heading: str) -> str:
    """The text of the ``## heading`` section of a Markdown file."""
    text = path.read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


@pytest.fixture(name="code_blocks")
def code_blocks_fixture():
    """The :func:`code_blocks` helper (test modules cannot import conftest in importlib mode)."""
    return code_blocks


@pytest.fixture(name="section")
def section_fixture():
    """The :func:`section` helper."""
    return section
