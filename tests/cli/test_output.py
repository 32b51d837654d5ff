"""crmkit's own layout of text tables gives exactly what tabulate gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tabulate import tabulate

from crmkit.cli.output import text_table

#: Cells like those crmkit prints, and the awkward ones that must go to tabulate.
TEXT = st.one_of(
    st.sampled_from(["", " ", "C-1", "True", "False", "1,000", "  padded  ", "2024-01-05 09:30", "Bjørn Ås",
                     "a\tb", "two\nlines", "\x1b[31mred\x1b[0m", "\x01", "漢字", "x\xa0y"]),
    st.text(max_size=12),
)


def reference(rows: list[list[str]], headers: list[str]) -> str:
    return tabulate(rows, headers=headers, tablefmt="simple" if headers else "plain", disable_numparse=True)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), width=st.integers(min_value=1, max_value=4), with_headers=st.booleans())
def test_text_table_is_tabulate(data, width, with_headers):
    rows = data.draw(st.lists(st.lists(TEXT, min_size=width, max_size=width), min_size=1, max_size=5))
    headers = data.draw(st.lists(TEXT, min_size=width, max_size=width)) if with_headers else []
    assert text_table(rows, headers) == reference(rows, headers)


def test_uneven_and_empty_tables_are_tabulate():
    for rows, headers in (([], ["id"]), ([["a", "b"], ["c"]], []), ([["a"]], ["id", "name"])):
        assert text_table(rows, headers) == reference(rows, headers)


def test_a_long_list_is_laid_out_without_tabulate():
    import subprocess
    import sys

    code = ("import sys; from crmkit.cli.output import text_table\n"
            "text_table([['T-%d' % n, 'subject', ''] for n in range(500)], ['id', 'subject', 'overdue'])\n"
            "text_table([('kind', 'person'), ('emails', 'ann@example.com')])\n"
            "print('tabulate' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout == "False\n"
