"""The test code in docs/plugins/testing.md passes, run as a plugin author would run it.

The page tests a plugin module ``crmkit_bikeshop`` holding the bike-shop
profile of docs/plugins/index.md. This test writes that module, the page's
``conftest.py`` and ``test_plugin.py`` (the blocks marked ``test-file: NAME``)
into a folder and runs pytest there in a subprocess.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTING_PAGE = ROOT / "docs" / "plugins" / "testing.md"
PLUGINS_PAGE = ROOT / "docs" / "plugins" / "index.md"


def _bikeshop_module(code_blocks) -> str:
    """The profile from docs/plugins/index.md, as the module-level plugin the testing page imports."""
    (profile_block,) = [code for _line, _marker, code in code_blocks(PLUGINS_PAGE, "python") if "BIKE_SHOP =" in code]
    definition = profile_block.split("\n\nclass BikeShopPlugin", 1)[0]
    return "import crmkit\n" + definition + "\n\n@crmkit.hookimpl\ndef crmkit_profiles():\n    return [BIKE_SHOP]\n"


def test_testing_page_runs_as_a_pytest_session(code_blocks, tmp_path: Path) -> None:
    files: dict[str, list[str]] = {}
    for _line, marker, code in code_blocks(TESTING_PAGE, "python"):
        match = re.fullmatch(r"test-file: (\S+)", marker)
        if match:
            files.setdefault(match.group(1), []).append(code)
    assert set(files) == {"conftest.py", "test_plugin.py"}
    project = tmp_path / "crmkit-bikeshop"
    project.mkdir()
    for name, parts in files.items():
        (project / name).write_text("\n\n".join(parts), encoding="utf-8")
    (project / "crmkit_bikeshop.py").write_text(_bikeshop_module(code_blocks), encoding="utf-8")

    env = {**os.environ, "PYTHONPATH": str(project)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(project), str(project)],
        cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b6 passed\b", result.stdout), result.stdout
