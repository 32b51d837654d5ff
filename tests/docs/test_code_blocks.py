"""Every ```python block of the user-facing pages runs, in order, one namespace per page.

A block may use what earlier blocks of the same page defined. A block after a
``<!-- skip -->`` comment is not run. A one-line ``print(...)  # expected`` is
also checked: what it prints must equal the comment, unless the comment holds
``...`` (a value that changes from run to run).
"""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["README.md", "docs/python-api.md", "docs/import-export.md", "docs/plugins/index.md"]
PRINT_WITH_EXPECTATION = re.compile(r"^(?P<indent>\s*)print\((?P<args>.*)\)\s+#\s(?P<expected>.+)$")


def _checked(code: str) -> str:
    """Rewrite ``print(args)  # expected`` lines into calls that also compare the output."""
    lines = []
    for line in code.splitlines():
        m = PRINT_WITH_EXPECTATION.match(line)
        if m and "..." not in m.group("expected"):
            line = f"{m.group('indent')}__print_expecting({m.group('expected').strip()!r}, {m.group('args')})"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _print_expecting(expected: str, *args: object) -> None:
    shown = " ".join(str(a) for a in args)
    print(shown)
    assert shown == expected, f"the docs say {expected!r}, the code prints {shown!r}"


@pytest.mark.parametrize("page", PAGES)
def test_python_blocks_run(page: str, code_blocks, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # examples are written to run from the repository root
    path = ROOT / page
    blocks = [(line, code) for line, marker, code in code_blocks(path, "python") if marker != "skip"]
    assert blocks, f"{page} has no python blocks"
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}", "__print_expecting": _print_expecting}
    for line, code in blocks:
        out = io.StringIO()
        try:
            with redirect_stdout(out):
                exec(compile(_checked(code), f"{page}:{line + 1}", "exec"), namespace)  # noqa: S102
        except Exception as err:
            raise AssertionError(f"the python block at {page}:{line + 1} failed: {err!r}\n"
                                 f"it printed:\n{out.getvalue()}") from err
    close = getattr(namespace.get("crm"), "close", None)
    if close is not None:
        close()


def test_skip_markers_are_rare(code_blocks) -> None:
    """``<!-- skip -->`` is for code that cannot run here (a real file path); keep it the exception."""
    for page in PAGES:
        blocks = code_blocks(ROOT / page, "python")
        skipped = [line for line, marker, _code in blocks if marker == "skip"]
        assert len(skipped) <= 1, f"{page}: too many skipped blocks at lines {skipped}"
