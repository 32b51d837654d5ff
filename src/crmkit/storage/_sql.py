"""Compile crmkit's filter AST and sort keys to SQLite SQL over JSON documents.

The reference semantics are :func:`crmkit.storage.query.matches` and
:func:`~crmkit.storage.query.sort_docs`; this module reproduces them in SQL
where it can do so exactly, and says so where it cannot.

Every filter compiles to two SQL conditions over a row ``t`` (``t.doc`` the
JSON text, ``t.seq`` the insertion rank):

- ``maybe`` holds for every row that matches, and perhaps for a few more
  (a *superset*); it is the ``WHERE`` clause and the one that uses indexes.
- ``sure`` implies a match; it is only evaluated where ``maybe`` holds.

When the two are the same (:attr:`Plan.exact`, the usual case) SQL alone
decides, ``count(*)`` and ``LIMIT`` run in SQL. Otherwise the rows where
``maybe`` holds but ``sure`` does not are decided in Python by ``matches``.
``Not`` swaps them (``sure(not x) = not maybe(x)``), which is why both are
kept all the way up the tree. What lands on the Python side:

- ``~`` against a float, a list or an object (``str()`` of those is Python's
  repr, which SQL cannot reproduce), ``=``/``in`` against a list or object value;
- *odd* documents, which the store flags in a column when it writes them: a
  string holding a NUL character (SQLite's JSON functions cut it short there)
  or a list directly inside a list (``matches`` fans out over it again);
- path steps that are not identifiers, and filters too large for one statement.

Paths are validated against ``[A-Za-z_][A-Za-z0-9_]*`` before they become a
JSON path literal; every value travels as a bound parameter, never as SQL text.
String equality uses the ``crmkit_fold`` SQL function (Python's ``casefold``),
registered on each connection by :func:`register_functions`, for text that is
not ASCII (ASCII text is folded by SQLite's ``lower()``, which agrees); it is
used in queries only, never in the schema, so other SQLite tools can read the file.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import orjson

from .query import And, Compare, Exists, Filter, In, Not, Or, SortKey

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INT64 = (-(2**63), 2**63 - 1)
#: A filter with more leaves than this is evaluated in Python (SQLite caps expression depth and size).
MAX_LEAVES = 200
#: Lists of more values than this are passed as one JSON array parameter.
_INLINE_VALUES = 8

TRUE, FALSE = "1", "0"


def fold(value: Any) -> Any:
    """The ``crmkit_fold`` SQL function: ``str.casefold`` for text, anything else unchanged."""
    return value.casefold() if isinstance(value, str) else value


def _folded(v: str) -> str:
    """SQL for ``crmkit_fold(v)`` of a text value: ASCII text (as many characters as bytes) is folded
    by SQLite's own ``lower()``, which for ASCII is ``casefold``; a call into Python per row
    cost more than the rest of a filtered scan."""
    return f"(CASE WHEN length({v}) = length(CAST({v} AS BLOB)) THEN lower({v}) ELSE crmkit_fold({v}) END)"


def register_functions(conn: Any) -> None:
    """Register the SQL functions compiled queries use on a ``sqlite3`` connection."""
    conn.create_function("crmkit_fold", 1, fold, deterministic=True)


def json_path(path: Sequence[str]) -> str | None:
    """``("address", "city")`` -> ``"$.address.city"``; None when a step is not an identifier."""
    if not path or not all(isinstance(step, str) and _IDENT.fullmatch(step) for step in path):
        return None
    return "$." + ".".join(path)


def quote_identifier(name: str) -> str:
    """Quote a table or index name for SQL (names are generated, this is a second fence)."""
    return '"' + name.replace('"', '""') + '"'


# --- lookup keys ----------------------------------------------------------------


def _leaves(value: Any, path: tuple[str, ...]) -> Iterator[Any]:
    """The values at ``path``, flattening every list on the way (a superset of what ``matches`` tests).

    Reads the document as it will be stored: tuples become lists and enum members their values.
    """
    if isinstance(value, enum.Enum) and not isinstance(value, str):
        value = value.value
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item, path)
    elif not path:
        yield value
    elif isinstance(value, dict) and path[0] in value:
        yield from _leaves(value[path[0]], path[1:])


def lookup_keys(doc: dict[str, Any], paths: Iterable[tuple[str, tuple[str, ...]]]) -> set[tuple[str, str]]:
    """``(dotted path, casefolded string)`` for every string leaf of ``doc`` at ``paths``.

    ``paths`` pairs each path with its dotted name (``("contacts.email", ("contacts", "email"))``).
    ``matches`` compares a string only with strings, casefolded, so a document
    can satisfy ``path=value`` only if one of these pairs equals
    ``(path, value.casefold())``: an index of them finds a superset of the matches.
    """
    return {(dotted, value) for dotted, value, _ in bulk_lookup_keys([doc], paths, 0)}


def bulk_lookup_keys(docs: Sequence[dict[str, Any]], paths: Iterable[tuple[str, tuple[str, ...]]],
                     start: int) -> list[tuple[str, str, int]]:
    """``(dotted path, casefolded string, start + n)`` for the n-th document (from 1) of ``docs``.

    May repeat a row (two emails that fold alike): insert with ``INSERT OR IGNORE``.
    """
    rows: list[tuple[str, str, int]] = []
    add = rows.append
    for dotted, path in paths:
        first, rest = path[0], path[1:]
        for n, doc in enumerate(docs, start + 1):
            node = doc.get(first)
            if node is None or node == []:
                continue
            if not rest:  # the usual shapes, without a generator: a string or a list of strings
                if type(node) is str:
                    add((dotted, node.casefold(), n))
                    continue
                if type(node) is list:
                    for item in node:
                        if type(item) is str:
                            add((dotted, item.casefold(), n))
                        else:
                            rows.extend((dotted, leaf.casefold(), n) for leaf in _leaves(item, ())
                                        if isinstance(leaf, str))
                    continue
            rows.extend((dotted, leaf.casefold(), n) for leaf in _leaves(node, rest) if isinstance(leaf, str))
    return rows


def is_odd(text: str) -> bool:
    """Whether a document's JSON text (as orjson writes it, no spaces) may be odd for SQL.

    True when a string holds a NUL (written ``\\u0000``) or a list sits directly
    inside a list (``[[`` or ``,[``: in JSON a ``,`` followed by ``[`` only occurs
    inside a list). The same characters inside a string give a harmless false
    positive: that document is merely decided in Python.
    """
    return "\\u0000" in text or "[[" in text or ",[" in text


# --- filters --------------------------------------------------------------------


class Plan(NamedTuple):
    """A compiled filter: ``maybe`` (superset, the WHERE clause), ``sure`` (implies a match), parameters."""

    maybe: str
    sure: str
    params: dict[str, Any]
    exact: bool


class _Node(NamedTuple):
    sure: str
    maybe: str
    exact: bool


_NEVER = _Node(FALSE, FALSE, True)
_UNKNOWN = _Node(FALSE, TRUE, False)  # decided in Python


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _sql_number(value: Any) -> int | float | None:
    """An int or float SQLite can bind and compare exactly, or None."""
    if isinstance(value, int):
        return int(value) if _INT64[0] <= value <= _INT64[1] else None
    return float(value)


def _has_nul(text: Any) -> bool:
    # SQLite's JSON functions cut strings at NUL: filters on such values are left to Python.
    return isinstance(text, str) and "\x00" in text


def _big(v: str, t: str) -> str:
    """An integer beyond 64 bits: JSON type 'integer', but SQLite holds it as a rounded float."""
    return f"({t} = 'integer' AND typeof({v}) = 'real')"


def _text(value: str) -> str:
    # A str subclass (an enum member) as a plain str, which sqlite3 binds.
    return value if type(value) is str else str.__str__(value)


class _Compiler:
    def __init__(self, doc: str, seq: str, odd: str | None, keys: KeyIndex | None) -> None:
        self.doc, self.seq, self.odd, self.keys = doc, seq, odd, keys
        self.params: dict[str, Any] = {}
        self.aliases = 0

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return ":" + name

    def values_param(self, values: Sequence[Any]) -> str:
        """``(:p1, :p2)`` for a few values, ``(SELECT value FROM json_each(:p))`` for many."""
        if len(values) <= _INLINE_VALUES:
            return "(" + ", ".join(self.param(v) for v in values) + ")"
        return f"(SELECT value FROM json_each({self.param(orjson.dumps(list(values)).decode())}))"

    def alias(self) -> str:
        self.aliases += 1
        return f"j{self.aliases}"

    # -- tree ----------------------------------------------------------------

    def node(self, f: Filter) -> _Node:
        if isinstance(f, (And, Or)):
            items = [self.node(i) for i in f.items]
            if not items:  # all() of nothing is true, any() of nothing is false
                return _Node(TRUE, TRUE, True) if isinstance(f, And) else _NEVER
            glue = " AND " if isinstance(f, And) else " OR "
            sure = "(" + glue.join(i.sure for i in items) + ")"
            maybe = "(" + glue.join(i.maybe for i in items) + ")"
            return _Node(sure, maybe, all(i.exact for i in items))
        if isinstance(f, Not):
            item = self.node(f.item)
            return _Node(f"(NOT {item.maybe})", f"(NOT {item.sure})", item.exact)
        if isinstance(f, (Compare, In, Exists)):
            return self.leaf(f)
        raise TypeError(f"not a filter: {f!r}")

    def leaf(self, f: Compare | In | Exists) -> _Node:
        path = json_path(f.path)
        if path is None:
            return _UNKNOWN
        steps = tuple(f.path)
        if isinstance(f, Exists):
            return self.with_odd(self.reach(self.doc, "$", steps, self.present))
        keyed = self.with_key(f)
        if keyed is not None:
            return keyed
        if isinstance(f, In):
            node = self.reach(self.doc, "$", steps, self.candidates(lambda v, t: self.test_in(f.values, v, t)))
        else:
            negate = f.op in ("!=", "!~")
            op = f.op[1:] if negate else f.op
            if op not in ("=", "<", "<=", ">", ">=", "~"):
                raise TypeError(f"unknown operator {f.op!r}")
            node = self.reach(self.doc, "$", steps, self.candidates(lambda v, t: self.test(op, f.value, v, t)))
            if negate:
                node = _Node(f"(NOT {node.maybe})", f"(NOT {node.sure})", node.exact)
        return self.with_odd(node)

    def with_odd(self, node: _Node) -> _Node:
        """Rows flagged ``odd`` (see the module docstring) are decided in Python."""
        if self.odd is None or node is _NEVER:
            return node
        return _Node(f"({node.sure} AND NOT {self.odd})", f"({node.maybe} OR {self.odd})", False)

    def with_key(self, f: Compare | In) -> _Node | None:
        """``path=text`` / ``path in (texts)`` on an indexed path, through the lookup-key table.

        The keys hold the casefolded strings :func:`lookup_keys` finds, flattening every
        list. ``matches`` flattens the same lists except a list directly inside a list,
        which only odd documents hold: for the others, "a key equals the value" *is* the
        match, and no JSON needs reading.
        """
        if self.keys is None or f.path not in self.keys.paths:
            return None
        if isinstance(f, Compare):
            if f.op != "=" or not isinstance(f.value, str):
                return None
            values = [f.value.casefold()]
        else:
            if not f.values or not all(isinstance(v, str) for v in f.values):
                return None
            values = sorted({v.casefold() for v in f.values})
        if any("\x00" in v for v in values):
            return None
        lookup = (f"{self.seq} IN (SELECT k.seq FROM {quote_identifier(self.keys.table)} AS k "
                  f"WHERE k.path = {self.param('.'.join(f.path))} AND k.value IN {self.values_param(values)})")
        if self.odd is None:
            return _Node(lookup, lookup, True)
        return _Node(f"({lookup} AND NOT {self.odd})", lookup, False)

    # -- paths ---------------------------------------------------------------

    def reach(self, src: str, base: str, steps: tuple[str, ...], final: Any) -> _Node:
        """Apply ``final`` to every node ``steps`` reach from ``src`` at ``base``, fanning out over lists."""
        path = f"{base}.{steps[0]}"
        if len(steps) == 1:
            result: _Node = final(src, path)
            return result
        rest = steps[1:]
        inside_object = self.reach(src, path, rest, final)
        a = self.alias()
        inside_item = self.reach(f"{a}.value", "$", rest, final)
        kind = f"json_type({src}, '{path}')"

        def build(obj: str, item: str) -> str:
            return (f"(CASE {kind} WHEN 'object' THEN {obj} WHEN 'array' THEN EXISTS (SELECT 1 FROM "
                    f"json_each({src}, '{path}') AS {a} WHERE {a}.type = 'object' AND {item}) ELSE 0 END)")

        # A list directly inside a list fans out again in matches(); documents holding one are
        # flagged "odd" by the store and decided in Python, so only objects are followed here.
        return _Node(build(inside_object.sure, inside_item.sure), build(inside_object.maybe, inside_item.maybe),
                     inside_object.exact and inside_item.exact)

    def candidates(self, test: Any) -> Any:
        """A ``final`` that tests each candidate: the elements of a list, else the value itself."""

        def final(src: str, path: str) -> _Node:
            kind, value = f"json_type({src}, '{path}')", f"json_extract({src}, '{path}')"
            a = self.alias()
            each = test(f"{a}.value", f"{a}.type")
            one = test(value, kind)
            if each is _NEVER:
                return _NEVER

            def build(e: str, o: str) -> str:
                return (f"(CASE {kind} WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each({src}, '{path}') AS {a} "
                        f"WHERE {e}) ELSE coalesce({o}, 0) END)")

            return _Node(build(each.sure, one.sure), build(each.maybe, one.maybe), each.exact and one.exact)

        return final

    def present(self, src: str, path: str) -> _Node:
        """``Exists``: the node is there and not null, "", [] or {}."""
        kind = f"json_type({src}, '{path}')"
        sql = (f"(CASE {kind} WHEN 'text' THEN json_extract({src}, '{path}') <> '' "
               f"WHEN 'array' THEN json_array_length({src}, '{path}') > 0 "
               f"WHEN 'object' THEN json_extract({src}, '{path}') <> '{{}}' "
               f"WHEN 'null' THEN 0 ELSE {kind} IS NOT NULL END)")
        return _Node(sql, sql, True)

    # -- one candidate -------------------------------------------------------

    def test(self, op: str, value: Any, v: str, t: str) -> _Node:
        """Whether one candidate (SQL value ``v`` of JSON type ``t``) satisfies a positive operator."""
        if op == "=":
            return self.test_in((value,), v, t)
        if _has_nul(str(value) if op == "~" else value):
            return _UNKNOWN
        if op == "~":
            needle = self.param(str(value).casefold())
            sure = (f"(CASE {t} WHEN 'text' THEN instr(crmkit_fold({v}), {needle}) > 0 "
                    f"WHEN 'integer' THEN typeof({v}) = 'integer' AND instr(CAST({v} AS TEXT), {needle}) > 0 "
                    f"WHEN 'true' THEN instr('true', {needle}) > 0 WHEN 'false' THEN instr('false', {needle}) > 0 "
                    f"ELSE 0 END)")
            # str() of a float, list or dict is Python's repr, and SQLite holds an integer beyond
            # 64 bits as a float: those candidates are decided in Python.
            maybe = f"({sure} OR {t} IN ('real', 'array', 'object') OR {_big(v, t)})"
            return _Node(sure, maybe, False)
        if isinstance(value, str):
            sql = f"({t} = 'text' AND {v} {op} {self.param(_text(value))})"
            return _Node(sql, sql, True)
        if _is_number(value):
            number = _sql_number(value)
            if number is None:  # beyond 64 bits: SQLite would round it
                return _Node(FALSE, f"({t} IN ('integer', 'real'))", False)
            sql = f"({t} IN ('integer', 'real') AND {v} {op} {self.param(number)})"
            if isinstance(number, int):  # exact even against a rounded huge integer (it is >= 2**63)
                return _Node(sql, sql, True)
            return _Node(f"({sql} AND NOT {_big(v, t)})", f"({sql} OR {_big(v, t)})", False)
        return _NEVER  # ordering only pairs numbers with numbers and strings with strings

    def test_in(self, values: Sequence[Any], v: str, t: str) -> _Node:
        """Whether one candidate equals (``matches``' ``=``) any of ``values``."""
        texts: list[str] = []
        numbers: list[int] = []
        floats: list[float] = []
        exact: list[str] = []
        maybe: list[str] = []
        for value in values:
            if _has_nul(value):
                return _UNKNOWN
            if isinstance(value, str):
                texts.append(value.casefold())
            elif isinstance(value, bool):
                exact.append(f"{t} = '{'true' if value else 'false'}'")
            elif value is None:
                exact.append(f"{t} = 'null'")
            elif _is_number(value) and _sql_number(value) is not None:
                number = _sql_number(value)
                (numbers if isinstance(number, int) else floats).append(number)  # type: ignore[arg-type]
            elif isinstance(value, (list, dict)) or _is_number(value):
                maybe.append(f"{t} IN ('integer', 'real', 'array', 'object')")
            else:  # an unusual type (Decimal...) may still compare equal: Python decides
                return _UNKNOWN
        if texts:
            exact.append(f"({t} = 'text' AND {_folded(v)} IN {self.values_param(sorted(set(texts)))})")
        if numbers:
            exact.append(f"({t} IN ('integer', 'real') AND {v} IN {self.values_param(numbers)})")
        if floats:  # a float may equal an integer beyond 64 bits that SQLite rounded: Python decides
            exact.append(f"({t} IN ('integer', 'real') AND NOT {_big(v, t)} AND {v} IN {self.values_param(floats)})")
            maybe.append(_big(v, t))
        if not exact and not maybe:
            return _NEVER
        sure = "(" + " OR ".join(exact) + ")" if exact else FALSE
        if not maybe:
            return _Node(sure, sure, True)
        return _Node(sure, "(" + " OR ".join(exact + maybe) + ")", False)


class KeyIndex(NamedTuple):
    """The lookup-key table of a collection: ``(path, value, seq)`` rows for these paths."""

    table: str
    paths: frozenset[tuple[str, ...]]


def _leaf_count(f: Filter) -> int:
    if isinstance(f, (And, Or)):
        return sum(_leaf_count(i) for i in f.items)
    if isinstance(f, Not):
        return _leaf_count(f.item)
    return 1


def compile_filter(
    f: Filter | None, *, doc: str = "t.doc", seq: str = "t.seq", odd: str | None = None,
    keys: KeyIndex | None = None,
) -> Plan:
    """Compile ``f`` for rows whose JSON is ``doc`` and rank is ``seq``.

    ``odd`` names the column flagging odd documents (None when the collection
    has none); ``keys`` the lookup-key table to narrow ``=``
    and ``in`` on its paths.
    """
    if f is None:
        return Plan(TRUE, TRUE, {}, True)
    if _leaf_count(f) > MAX_LEAVES:
        return Plan(TRUE, FALSE, {}, False)
    compiler = _Compiler(doc, seq, odd, keys)
    node = compiler.node(f)
    return Plan(node.maybe, node.sure, compiler.params, node.exact)


# --- sorting --------------------------------------------------------------------


class Order(NamedTuple):
    """A compiled sort: ``ORDER BY`` terms (ending with ``seq``) and a flag for rows SQL cannot place."""

    terms: str
    irregular: str


def compile_order(order: Sequence[SortKey], *, doc: str = "t.doc", seq: str = "t.seq",
                  odd: str | None = None) -> Order | None:
    """Compile sort keys, or return None when a path cannot be put in SQL.

    Reproduces :func:`~crmkit.storage.query.sort_docs` for values that are
    numbers, strings (casefolded), booleans (as ``str()``: "False" < "True"),
    missing or null (last either way), with ties kept in insertion order. A row
    whose value is a list or object (ordered by Python's ``str()``), or whose
    path crosses a list, is flagged ``irregular``: such rows sort as one block in
    SQL, and the caller sorts in Python when one of them is among the results.
    """
    terms: list[str] = []
    irregular: list[str] = []
    for key in order:
        path = json_path(key.path)
        if path is None:
            return None
        kind, value = f"json_type({doc}, '{path}')", f"json_extract({doc}, '{path}')"
        direction = "DESC" if key.descending else "ASC"
        terms.append(f"coalesce({kind}, 'null') = 'null'")
        terms.append(f"CASE {kind} WHEN 'integer' THEN 0 WHEN 'real' THEN 0 WHEN 'text' THEN 1 "
                     f"WHEN 'true' THEN 2 WHEN 'false' THEN 2 ELSE 3 END {direction}")
        terms.append(f"CASE {kind} WHEN 'integer' THEN {value} WHEN 'real' THEN {value} "
                     f"WHEN 'text' THEN crmkit_fold({value}) WHEN 'true' THEN 'True' WHEN 'false' THEN 'False' "
                     f"END {direction}")
        irregular.append(f"{kind} IN ('array', 'object') OR ({kind} = 'integer' AND typeof({value}) = 'real')")
        for n in range(1, len(key.path)):
            irregular.append(f"json_type({doc}, '$.{'.'.join(key.path[:n])}') = 'array'")
    if odd is not None:
        irregular.append(odd)
    terms.append(f"{seq} ASC")
    return Order(", ".join(terms), "(" + " OR ".join(irregular) + ")")
