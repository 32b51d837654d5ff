"""crmkit filters as SQL over a ``jsonb`` column, in three-valued logic.

PostgreSQL cannot reproduce every rule of :func:`crmkit.storage.query.matches`
by itself (``=`` and ``~`` compare :meth:`str.casefold` forms; ``str()`` of a
number or a dict), so a filter is compiled into an SQL expression whose value
per row is

- ``2``: the row matches, for certain;
- ``0``: the row does not match, for certain;
- ``1``: maybe; crmkit fetches the row and asks ``matches`` in Python.

``And``/``Or``/``Not`` are ``LEAST``/``GREATEST``/``2 - x`` over those values
(Kleene logic), so a "maybe" anywhere never turns into a wrong answer: the SQL
side only ever has to be right about what it calls certain. In practice almost
every row is decided in SQL: "maybe" is reserved for strings with non-ASCII
letters (casefold is not ASCII lowercasing), for ``~`` on numbers and objects,
and for the rare documents kept in the ``raw`` column (see :mod:`.rows`).

The pieces:

- Equality on a lookup path (:data:`crmkit.storage.base.LOOKUP_KEYS`: emails,
  phones, customer_id, ...) with string values uses the ``keys`` column, a
  ``text[]`` of ``path=casefolded value`` entries computed in Python with
  exactly the semantics of ``matches``, under a GIN index: exact and indexed.
- Everything else becomes SQL/JSON path predicates (``doc @? jsonpath``) in lax
  mode, whose automatic unwrapping of arrays is the same fan-out over lists as
  ``matches`` for every document whose lists hold no lists (documents that do
  are kept in ``raw`` and always answer "maybe").

Values never reach SQL text: each jsonpath is passed as a parameter, and every
path segment is checked against :data:`SEGMENT` first; a segment that does not
fit turns its condition into "maybe" (Python decides), never into SQL.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs
from crmkit.storage.query import And, Compare, Exists, Filter, In, Not, Or, path_values

YES, MAYBE, NO = 2, 1, 0

#: Path segments that may go into a JSON path: what ``--where`` and keyword filters produce, plus "-".
SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")

#: A ``keys`` entry longer than this (or holding a control character) is stored as a hash.
_KEY_MAX = 200
_HAS_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@attrs.frozen
class SQL:
    """A fragment of SQL with ``%s`` placeholders and its parameters, in order."""

    text: str
    params: tuple[Any, ...] = ()

    def __add__(self, other: SQL) -> SQL:
        return SQL(self.text + other.text, self.params + other.params)


@attrs.frozen
class Compiled:
    """A filter in SQL.

    ``tri`` is the 0/1/2 expression described in the module docstring.
    ``exact`` says that it never yields 1, so SQL alone can count and limit.
    ``index`` is a plain boolean condition that every possible match satisfies
    (an index can serve it), or None.
    """

    tri: SQL
    exact: bool
    index: SQL | None


_CONST = {YES: Compiled(SQL("2"), True, None), NO: Compiled(SQL("0"), True, None),
          MAYBE: Compiled(SQL("1"), False, None)}


# -- lookup keys ----------------------------------------------------------------


def first_value(doc: Any, path: tuple[str, ...]) -> Any:
    """The value a sort on ``path`` uses: the first one the path reaches, or None."""
    return next(path_values(doc, path), None)


def key_entry(path: tuple[str, ...], value: str) -> str:
    """The ``keys`` entry for a string at a lookup path: ``"emails=ann@example.com"``."""
    name = ".".join(path)
    folded = value.casefold()
    if len(folded) > _KEY_MAX or _HAS_CONTROL.search(folded):
        digest = hashlib.sha256(folded.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{name}#{digest}"
    return f"{name}={folded}"


def _string_leaves(node: Any, path: tuple[str, ...], out: list[str]) -> None:
    """Append the string candidates at ``path``, as :func:`crmkit.storage.query.candidates` finds them (this runs per write)."""
    for n, step in enumerate(path):
        if isinstance(node, dict):
            if step not in node:
                return
            node = node[step]
        elif isinstance(node, list):
            rest = path[n:]
            for item in node:
                _string_leaves(item, rest, out)
            return
        else:
            return
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, list):
        out.extend(v for v in node if isinstance(v, str))


def doc_keys(paths: Iterable[tuple[str, ...]], doc: dict[str, Any]) -> list[str]:
    """The ``keys`` entries of a document: one per distinct string candidate at each lookup path."""
    entries: list[str] = []
    for path in paths:
        found: list[str] = []
        _string_leaves(doc, path, found)
        entries.extend(key_entry(path, value) for value in found)
    return sorted(set(entries)) if len(entries) > 1 else entries


# -- literals -------------------------------------------------------------------


def _jsonpath_string(text: str) -> str:
    """``text`` as a double-quoted SQL/JSON path string literal."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _ascii_ci_regex(text: str) -> str:
    """A regular expression (PostgreSQL ARE) matching ``text`` with ASCII letters in either case.

    Everything but ASCII letters and digits is written as a ``\\u``/``\\U``
    escape, so nothing in ``text`` is ever a regex operator.
    """
    out = []
    for ch in text:
        if ch.isascii() and ch.isalpha():
            out.append(f"[{ch.lower()}{ch.upper()}]")
        elif ch.isascii() and ch.isdigit():
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out)


def _usable_text(text: str) -> bool:
    """Whether a string can travel to PostgreSQL (no NUL, no lone surrogates)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _number_literal(value: float) -> str:
    """A finite number as an SQL/JSON path numeric literal, with the value ``matches`` compares."""
    if isinstance(value, int):
        return str(value)
    # repr is the shortest text that reads back as this float: the same digits
    # orjson wrote into the stored documents, so numeric comparison agrees.
    return format(Decimal(repr(value)), "f")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# Characters that str() of a JSON number can contain (ints, floats, "1e+16").
_NUMBER_CHARS = frozenset("0123456789.-+e")
_NON_ASCII_STRING = '@ like_regex "[^\\\\u0001-\\\\u007f]"'


def _can_fold_elsewhere(folded: str) -> bool:
    """Whether a string with non-ASCII characters could casefold to something containing ``folded``.

    Non-ASCII characters casefold to letters or to non-ASCII text, so a value
    with neither needs no "maybe" for non-ASCII candidates.
    """
    return any(ch.isalpha() or not ch.isascii() for ch in folded)


# -- compiler -------------------------------------------------------------------


class Compiler:
    """Compile filters for one collection; ``lookup_paths`` are the paths its ``keys`` column holds."""

    def __init__(self, lookup_paths: Iterable[tuple[str, ...]]) -> None:
        self.lookup_paths = set(lookup_paths)

    def compile(self, f: Filter | None) -> Compiled:
        if f is None:
            return _CONST[YES]
        if isinstance(f, Compare):
            return self._compare(f)
        if isinstance(f, In):
            return self._in(f)
        if isinstance(f, Exists):
            return self._exists(f)
        if isinstance(f, And):
            return self._combine([self.compile(i) for i in f.items], "LEAST", all_need_index=False)
        if isinstance(f, Or):
            return self._combine([self.compile(i) for i in f.items], "GREATEST", all_need_index=True)
        if isinstance(f, Not):
            inner = self.compile(f.item)
            return Compiled(SQL("(2 - ") + inner.tri + SQL(")"), inner.exact, None)
        raise TypeError(f"not a filter: {f!r}")

    @staticmethod
    def _combine(parts: list[Compiled], function: str, *, all_need_index: bool) -> Compiled:
        if not parts:  # an empty And is true, an empty Or false (as all() and any())
            return _CONST[NO if all_need_index else YES]
        if len(parts) == 1:
            return parts[0]
        tri = SQL(f"{function}(")
        for n, part in enumerate(parts):
            tri = tri + (SQL(", ") if n else SQL("")) + part.tri
        tri = tri + SQL(")")
        indexes = [p.index for p in parts if p.index is not None]
        index: SQL | None = None
        if indexes and (len(indexes) == len(parts) or not all_need_index):
            joiner = " OR " if all_need_index else " AND "
            index = SQL("(")
            for n, part_index in enumerate(indexes):
                index = index + (SQL(joiner) if n else SQL("")) + part_index
            index = index + SQL(")")
        return Compiled(tri, all(p.exact for p in parts), index)

    # -- leaves --------------------------------------------------------------

    def _lookup(self, path: tuple[str, ...], values: list[str]) -> Compiled:
        entries = sorted({key_entry(path, v) for v in values})
        cond = SQL("keys && %s::text[]", (entries,))
        return Compiled(SQL("CASE WHEN ") + cond + SQL(" THEN 2 ELSE 0 END"), True, cond)

    def _compare(self, f: Compare) -> Compiled:
        op, value = f.op, f.value
        if op in ("!=", "!~"):
            positive = self._compare(Compare(f.path, op[1:], value))
            return Compiled(SQL("(2 - ") + positive.tri + SQL(")"), positive.exact, None)
        if op == "=" and f.path in self.lookup_paths and isinstance(value, str) and _usable_text(value):
            return self._lookup(f.path, [value])
        cands = json_path(f.path, unwrap=True)
        if cands is None:
            return _CONST[MAYBE]
        if op == "=":
            return self._equal(cands, value)
        if op == "~":
            return self._contains(cands, value)
        if op in ("<", "<=", ">", ">="):
            return self._order(cands, op, value)
        return _CONST[MAYBE]  # an operator matches() would reject; let it say so

    def _in(self, f: In) -> Compiled:
        parts: list[Compiled] = []
        values = list(f.values)
        if f.path in self.lookup_paths:
            strings = [v for v in values if isinstance(v, str) and _usable_text(v)]
            if strings:
                parts.append(self._lookup(f.path, strings))
                values = [v for v in values if not (isinstance(v, str) and _usable_text(v))]
        cands = json_path(f.path, unwrap=True)
        for value in values:
            parts.append(_CONST[MAYBE] if cands is None else self._equal(cands, value))
        return self._combine(parts, "GREATEST", all_need_index=True)

    def _equal(self, cands: str, value: Any) -> Compiled:
        if isinstance(value, str):
            if not _usable_text(value):
                return _CONST[MAYBE]
            # An ASCII candidate folds by ASCII lowercasing, so it matches exactly when it equals
            # value.casefold() up to ASCII case (casefold is idempotent, so non-ASCII parts agree too).
            folded = value.casefold()
            sure = f"{cands} ? (@ like_regex {_jsonpath_string('^' + _ascii_ci_regex(folded) + '$')})"
            maybe = f"{cands} ? ({_NON_ASCII_STRING})" if _can_fold_elsewhere(folded) else None
            return _json_leaf(sure, maybe)
        if isinstance(value, bool):
            return _json_leaf(f"{cands} ? (@ == {'true' if value else 'false'})", None, indexed=True)
        if value is None:
            return _json_leaf(f"{cands} ? (@ == null)", None, indexed=True)
        if _is_number(value):
            if not math.isfinite(value):
                return _json_leaf(None, None)  # stored numbers are finite: never equal
            return _json_leaf(f"{cands} ? (@ == {_number_literal(value)})", None, indexed=True)
        if isinstance(value, dict):
            return _json_leaf(None, f'{cands} ? (@.type() == "object")')
        if isinstance(value, (list, tuple)):
            return _json_leaf(None, None)  # candidates are never lists (lists of lists live in raw)
        return _CONST[MAYBE]

    def _contains(self, cands: str, value: Any) -> Compiled:
        needle = str(value).casefold()
        if not _usable_text(needle):
            return _CONST[MAYBE]
        if not needle:  # "" is in the str() of every value but None
            return _json_leaf(f'{cands} ? (@.type() != "null")', None)
        sure = [f"@ like_regex {_jsonpath_string(_ascii_ci_regex(needle))}"]
        if needle in "true":
            sure.append("@ == true")
        if needle in "false":
            sure.append("@ == false")
        maybe = ['@.type() == "object"']  # str(dict) holds its keys and reprs
        if _can_fold_elsewhere(needle):
            maybe.append(_NON_ASCII_STRING)
        if set(needle) <= _NUMBER_CHARS:
            maybe.append('@.type() == "number"')
        return _json_leaf(f"{cands} ? ({' || '.join(sure)})", f"{cands} ? ({' || '.join(maybe)})")

    def _order(self, cands: str, op: str, value: Any) -> Compiled:
        if _is_number(value):
            if math.isnan(value):
                return _json_leaf(None, None)
            if math.isinf(value):
                below = (value > 0) == (op in ("<", "<="))  # every number is below +inf
                return _json_leaf(f'{cands} ? (@.type() == "number")' if below else None, None)
            return _json_leaf(f"{cands} ? (@ {op} {_number_literal(value)})", None)
        if isinstance(value, str):
            if not _usable_text(value):
                return _CONST[MAYBE]
            # SQL/JSON path compares strings by code point in UTF-8 databases, as Python does.
            return _json_leaf(f"{cands} ? (@ {op} {_jsonpath_string(value)})", None)
        return _json_leaf(None, None)  # only number-number and string-string pairs compare

    def _exists(self, f: Exists) -> Compiled:
        values = json_path(f.path, unwrap=False)
        if values is None:
            return _CONST[MAYBE]
        # Lax-mode filters unwrap arrays, which would hide [""] or [null]: test each value in SQL.
        present = SQL(
            "EXISTS (SELECT 1 FROM jsonb_path_query(doc, %s::jsonpath) AS v "
            "WHERE v NOT IN ('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb, '{}'::jsonb))",
            (values,),
        )
        return Compiled(SQL("CASE WHEN raw IS NOT NULL THEN 1 WHEN ") + present + SQL(" THEN 2 ELSE 0 END"),
                        False, None)


def json_path(path: tuple[str, ...], *, unwrap: bool) -> str | None:
    """The lax SQL/JSON path for ``path`` (``[*]`` added to unwrap a list at the end), or None."""
    if not isinstance(path, tuple) or not path:
        return None
    if not all(isinstance(step, str) and SEGMENT.match(step) for step in path):
        return None
    return "lax $" + "".join(f'."{step}"' for step in path) + ("[*]" if unwrap else "")


def _json_leaf(sure: str | None, maybe: str | None, *, indexed: bool = False) -> Compiled:
    """A leaf from two JSON path predicates: rows matching ``sure`` give 2, then ``maybe`` 1, else 0.

    Rows kept in ``raw`` always give 1. With ``indexed``, ``sure`` is also
    offered as the index condition (a GIN ``jsonb_path_ops`` index serves
    ``@?`` with ``==`` on constants).
    """
    text, params = "CASE WHEN raw IS NOT NULL THEN 1", []
    if sure is not None:
        text += " WHEN doc @? %s::jsonpath THEN 2"
        params.append(sure)
    if maybe is not None:
        text += " WHEN doc @? %s::jsonpath THEN 1"
        params.append(maybe)
    tri = SQL(text + " ELSE 0 END", tuple(params))
    index = None
    if indexed and sure is not None:
        index = SQL("(doc @? %s::jsonpath OR raw IS NOT NULL)", (sure,))
    return Compiled(tri, False, index)


# -- clauses for the store's queries ----------------------------------------------


def where_sql(compiled: Compiled, where: Filter | None, want: str) -> SQL:
    """``WHERE ...`` keeping rows whose three-valued result is ``want`` ("= 2" or "> 0")."""
    if where is None:
        return SQL("WHERE TRUE")
    clause = SQL("WHERE ")
    if compiled.index is not None:
        clause = clause + compiled.index + SQL(" AND ")
    return clause + SQL("(") + compiled.tri + SQL(f") {want}")


# A sort value PostgreSQL orders exactly as sort_docs does: missing, null, a number, a boolean, or
# ASCII text (whose casefold is its ASCII lowercase).
SQL_SORTABLE = ("({v} IS NULL OR jsonb_typeof({v}) IN ('number', 'boolean', 'null') "
                "OR (jsonb_typeof({v}) = 'string' AND ({v} #>> '{{}}') !~ '[^\\x01-\\x7f]'))")


def order_terms(v: str, descending: bool) -> str:
    """ORDER BY terms for one sort value, as sort_docs orders it (see SQL_SORTABLE).

    Missing and null last in both directions; then numbers, text, booleans (as their str():
    False before True), each group reversed as a whole when descending, as Python's reverse sort does.
    """
    d = " DESC" if descending else ""
    return (f"({v} IS NULL OR jsonb_typeof({v}) = 'null'), "
            f"CASE jsonb_typeof({v}) WHEN 'number' THEN 0 WHEN 'string' THEN 1 ELSE 2 END{d}, "
            f"CASE WHEN jsonb_typeof({v}) = 'number' THEN ({v})::numeric END{d}, "
            f"CASE WHEN jsonb_typeof({v}) = 'string' THEN lower(({v} #>> '{{}}') COLLATE \"C\") END{d}, "
            f"CASE WHEN jsonb_typeof({v}) = 'boolean' THEN ({v})::boolean END{d}")
