"""examples/crmkit-realestate: installed with pip, found through its entry point, used through the CLI.

The example is installed for real (pip builds it and writes its dist-info
into a folder of its own; no network, no build isolation), and every
command runs as ``python -m crmkit`` in a subprocess with that folder on
``PYTHONPATH``, as a user's ``crmkit`` would after ``pip install``. The
example's own tests run too, against that installed copy. And the code on
docs/plugins/writing.md must be the example's code.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "crmkit-realestate"
GUIDE = ROOT / "docs" / "plugins" / "writing.md"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example installed with pip into a folder of its own; returns that folder."""
    tmp = tmp_path_factory.mktemp("realestate")
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    source = tmp / "source"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    target = tmp / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-compile",
         "--disable-pip-version-check", "--no-index", "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    # Without bdist_wheel (setuptools < 70.1 and no wheel) pip cannot build offline: install crmkit's test extra.
    assert result.returncode == 0, result.stdout + result.stderr
    assert (target / "crmkit_realestate-0.1.0.dist-info" / "entry_points.txt").is_file()
    return target


@pytest.fixture
def env(site: Path, tmp_path: Path) -> dict[str, str]:
    """The environment of a user who installed the plugin: it on the path, no crmkit settings, a fresh home."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CRMKIT_") and k != "PYTHONPATH"}
    return {**clean, "PYTHONPATH": str(site), "HOME": str(tmp_path / "home"), "CRMKIT_USER": "agent",
            "XDG_DATA_HOME": str(tmp_path / "home" / "data"), "PYTHONIOENCODING": "utf-8",
            "PYTHONDONTWRITEBYTECODE": "1"}


@pytest.fixture
def cli(env: dict[str, str], tmp_path: Path):
    """Run ``python -m crmkit ARGS`` in ``tmp_path/agency``; return the finished process."""
    folder = tmp_path / "agency"
    folder.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "crmkit", *args], cwd=folder, env=env, capture_output=True,
                              text=True, encoding="utf-8", timeout=120, check=False)

    return run


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def test_plugins_and_profiles_show_the_installed_plugin(cli) -> None:
    plugins = {row["name"]: row for row in json.loads(_ok(cli("plugins", "--format", "json")))}
    assert plugins["realestate"]["version"] == "0.1.0"
    assert not plugins["realestate"]["builtin"]
    hooks = plugins["realestate"]["hooks"]
    hooks = hooks.split(", ") if isinstance(hooks, str) else hooks
    assert set(hooks) == {"crmkit_profiles", "crmkit_validate_record", "crmkit_customer_sections",
                          "crmkit_register_commands", "crmkit_import_presets"}

    # The guide shows the plugin's row of `crmkit plugins` and its stages in `crmkit profiles`.
    guide = GUIDE.read_text(encoding="utf-8")
    (row,) = re.findall(r"^realestate +0\.1\.0 .*$", guide, re.MULTILINE)
    assert _squeeze(row) in _squeeze(_ok(cli("plugins")))
    profiles = _ok(cli("profiles"))
    assert "realestate: Estate agency" in profiles
    stages = guide.split("Stages (in order)\n-----------------\n", 1)[1].split("\n...", 1)[0]
    assert _squeeze(stages) in _squeeze(profiles)


def test_a_store_with_the_profile_works_as_the_guide_says(cli) -> None:
    _ok(cli("init", "--profile", "realestate"))
    assert _ok(cli("customer", "add", "--name", "Ann Lee", "--field", "position=first-time buyer",
                   "--field", "max_budget=250000")) == "C-1\n"
    _ok(cli("lifecycle", "move", "C-1", "viewing"))

    refused = cli("lifecycle", "move", "C-1", "offer")
    assert refused.returncode == 1
    assert refused.stderr == ("Error: stage: Ann Lee needs cash or a mortgage in principle before an offer "
                              "(got 'offer')\n")
    assert refused.stderr.strip() in GUIDE.read_text(encoding="utf-8")
    _ok(cli("customer", "edit", "C-1", "--field", "finance=cash"))
    assert _ok(cli("lifecycle", "move", "C-1", "offer")) == "C-1 offer\n"

    shown = json.loads(_ok(cli("customer", "show", "C-1", "--format", "json")))
    assert shown["customer"]["stage"] == "offer"
    (section,) = [s for s in shown["sections"] if s["title"] == "Buyer's search"]
    assert dict(section["fields"])["budget"] == "up to £250,000"
    assert dict(section["fields"])["ready to offer"] == "yes"

    # The preset maps the portal's columns; the example's own tests check the values.
    assert _ok(cli("import", str(EXAMPLE / "portal_enquiries.csv"), "--preset", "property-portal")) == \
        "created 3, updated 0, skipped 0\n"


def test_demo_with_the_profile(cli, tmp_path: Path) -> None:
    out = _ok(cli("demo", "--profile", "realestate", "--dir", str(tmp_path / "demo")))
    assert out.startswith(f"Built a demo store at {tmp_path / 'demo' / 'crm.json'}:\n10 customers,")
    # The tour ends with the plugin's command: the four buyers left waiting, longest first.
    tour = out.split("realestate stale-viewings --days 7\n", 1)[1].split("\n\n", 1)[0]
    assert re.findall(r"^(C-\d+) ", tour, re.MULTILINE) == ["C-6", "C-4", "C-3", "C-8"]


def test_the_examples_own_tests_pass_against_the_installed_copy(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(EXAMPLE),
         str(EXAMPLE / "tests")],
        cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b\d+ passed\b", result.stdout) and "failed" not in result.stdout, result.stdout


def _quoted(kind: str) -> list[tuple[Path, str]]:
    """(example file, code) for every block of the guide marked ``<!-- kind: crmkit-realestate/PATH -->``."""
    text = GUIDE.read_text(encoding="utf-8")
    pattern = re.compile(rf"<!-- {kind}: (crmkit-realestate/\S+) -->\n```\w+\n(.*?)```", re.DOTALL)
    return [(ROOT / "examples" / path, code) for path, code in pattern.findall(text)]


def test_the_guide_shows_the_examples_files_as_they_are() -> None:
    files = _quoted("file")
    quoted = {path.relative_to(EXAMPLE).as_posix() for path, _code in files}
    package = {p.relative_to(EXAMPLE).as_posix() for p in (EXAMPLE / "src").rglob("*.py")}
    # Every module but the demo data is shown whole; the demo in excerpts.
    assert quoted >= {"pyproject.toml", "tests/conftest.py"} | (package - {"src/crmkit_realestate/demo.py"})
    for path, code in files:
        assert code == path.read_text(encoding="utf-8"), f"docs/plugins/writing.md shows an old {path.name}"
    excerpts = _quoted("excerpt")
    assert len(excerpts) >= 3
    for path, code in excerpts:
        assert code in path.read_text(encoding="utf-8"), f"docs/plugins/writing.md shows code not in {path.name}"
