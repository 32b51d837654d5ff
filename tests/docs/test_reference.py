"""The generated reference pages match the code (docs/gen_reference.py --check)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "gen_reference.py"


def _check(*extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), "--check", *extra], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False)


def test_generated_pages_are_up_to_date() -> None:
    result = _check()
    assert result.returncode == 0, result.stderr + "\nrun: python docs/gen_reference.py"


def test_check_notices_a_stale_page(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs)
    assert _check("--docs-dir", str(docs)).returncode == 0
    page = docs / "plugins" / "hooks.md"
    page.write_text(page.read_text() + "\nA line the generator would not write.\n")
    result = _check("--docs-dir", str(docs))
    assert result.returncode == 1
    assert "docs/plugins/hooks.md is out of date" in result.stderr
    (docs / "cli-reference.md").unlink()
    assert "docs/cli-reference.md is out of date" in _check("--docs-dir", str(docs)).stderr


def test_every_hook_and_command_is_in_the_reference() -> None:
    from crmkit import hookspecs

    hooks_page = (ROOT / "docs" / "plugins" / "hooks.md").read_text()
    for name in vars(hookspecs):
        if name.startswith("crmkit_"):
            assert f"\n## {name}\n" in hooks_page
    cli_page = (ROOT / "docs" / "cli-reference.md").read_text()
    for heading in ("crmkit customer add", "crmkit ticket list", "crmkit import", "crmkit export", "crmkit demo"):
        assert f"\n## {heading}\n" in cli_page
