"""The backend built in docs/storage.md passes the storage conformance suite, and the doc shows its real code."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

# Before the import below, so the suite's asserts show their values when they fail.
pytest.register_assert_rewrite("crmkit.testing")

import crmkit  # noqa: E402
from crmkit.plugins import make_plugin_manager  # noqa: E402
from crmkit.testing import StorageConformance, StorageFactory  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "prettyjson_backend.py"
DOC = ROOT / "docs" / "storage.md"


def _load_example():
    spec = importlib.util.spec_from_file_location("prettyjson_backend", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


backend = _load_example()


class TestPrettyJSONConformance(StorageConformance):
    persistent = True

    @pytest.fixture
    def make_storage(self, tmp_path):
        counter = iter(range(1, 1000))
        with StorageFactory(backend.open_prettyjson,
                            lambda: f"prettyjson://{tmp_path / f'store-{next(counter)}.json'}") as factory:
            yield factory


def test_the_backend_works_behind_crmkit_open(tmp_path):
    pm = make_plugin_manager(entrypoints=False, extra=[backend])
    url = f"prettyjson://{tmp_path / 'crm.json'}"
    with crmkit.open(url, pm=pm) as crm:
        ann = crm.customers.add("Ann Lee", emails=["ann@example.com"])
        crm.tickets.open(ann.id, "Printer jams")
    with crmkit.open(url, pm=pm) as crm:
        assert crm.customers.get("C-1").name == "Ann Lee"
        assert [e.type for e in crm.events.for_customer("C-1")] == ["customer.created", "ticket.opened"]
    assert '"name": "Ann Lee"' in (tmp_path / "crm.json").read_text()


def test_walkthrough_code_is_the_example_code():
    """Every python block of the walkthrough appears, line for line, in examples/prettyjson_backend.py."""
    text = DOC.read_text()
    section = text.split("## Writing a backend", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) >= 4
    source = EXAMPLE.read_text()
    for block in blocks:
        if block.lstrip().startswith("# not part of the backend"):
            continue
        assert block.rstrip() in source, f"docs/storage.md shows code that is not in the example:\n{block}"
