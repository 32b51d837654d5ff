"""The filter AST shared by every backend, its ``--where`` parser and the reference evaluator.

Filters are small frozen trees:

- ``Compare(path, op, value)`` with ``op`` one of ``= != < <= > >= ~ !~``
- ``In(path, values)``
- ``Exists(path)``: the value is present and not empty (not None, "", [] or {})
- ``And(items)``, ``Or(items)``, ``Not(item)``

``path`` is a tuple of keys into the stored document (``("address", "city")``).
When a step of the path meets a list, the filter matches if any element
matches (``contacts.email=a@b.c``); a comparison against a list value is true
when any element satisfies it (``emails=a@b.c``, ``tags~vip``).

See :func:`parse_where` for the text grammar and :func:`matches` for the
semantics that backends must reproduce.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn

import attrs

from ..errors import ValidationError

OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "~", "!~")


@attrs.frozen
class Compare:
    """``path op value``: true when any value at ``path`` satisfies ``op`` (``!=``/``!~`` negate ``=``/``~``)."""

    path: tuple[str, ...]
    op: str
    value: Any


@attrs.frozen
class In:
    """``path in (values...)``: true when any value at ``path`` equals (``=``) any of ``values``."""

    path: tuple[str, ...]
    values: tuple[Any, ...]


@attrs.frozen
class Exists:
    """``path?``: true when some value at ``path`` is present and not None, "", [] or {}."""

    path: tuple[str, ...]


@attrs.frozen
class And:
    """True when every item is true."""

    items: tuple["Filter", ...]


@attrs.frozen
class Or:
    """True when at least one item is true."""

    items: tuple["Filter", ...]


@attrs.frozen
class Not:
    """True when ``item`` is false."""

    item: "Filter"


Filter = Compare | In | Exists | And | Or | Not


@attrs.frozen
class SortKey:
    """One sort criterion: a path and a direction. Missing values sort last either way."""

    path: tuple[str, ...]
    descending: bool = False


# --- parsing -----------------------------------------------------------------

_PATH_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A field literally called "not" is a path, not the keyword, when one of these follows it.
_NOT_AS_PATH_RE = re.compile(r"\s*(?:[=!<>~?.]|in\s*\()", re.IGNORECASE)
_OP_CHARS = "=!<>~"
_OPS_LONGEST_FIRST = sorted(OPERATORS, key=len, reverse=True)  # so "<=" wins over "<"
_MAX_DEPTH = 100  # deeper nesting is surely a mistake, and would exhaust Python's stack
_QUOTED = {q: re.compile(rf"{q}((?:\\.|[^\\{q}])*){q}", re.DOTALL) for q in "\"'"}
_UNESCAPE_RE = re.compile(r"\\([\\\"'])")


def _ends_bareword(ch: str) -> bool:
    return ch.isspace() or ch in "(),\"'"


class _Parser:
    """Recursive descent over the raw text: barewords depend on context, so there is no tokenizer."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    def error(self, reason: str) -> NoReturn:
        raise ValidationError("where", self.text, reason)

    def fail(self, expected: str, pos: int | None = None, hint: str = "") -> NoReturn:
        pos = self.pos if pos is None else pos
        found = repr(self.text[pos]) if pos < len(self.text) else "end of text"
        self.error(f"expected {expected} at position {pos}, found {found}{hint}")

    def peek(self) -> str:
        """Skip whitespace and return the next character ('' at the end)."""
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1
        return self.text[self.pos : self.pos + 1]

    def word(self) -> str:
        self.peek()
        m = _WORD_RE.match(self.text, self.pos)
        return m.group() if m else ""

    def keyword(self, kw: str) -> bool:
        """Consume the whole word ``kw`` (any case) if it comes next."""
        w = self.word()
        if w.lower() == kw:
            self.pos += len(w)
            return True
        return False

    def enter(self) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            self.error(f"filter nested deeper than {_MAX_DEPTH} levels at position {self.pos}")

    def parse(self) -> Filter:
        if not self.peek():
            self.error("expected a filter, found empty text")
        f = self.or_expr()
        if self.peek():
            self.fail("'and', 'or' or the end of the filter")
        return f

    def or_expr(self) -> Filter:
        return self.chain("or", Or, self.and_expr)

    def and_expr(self) -> Filter:
        return self.chain("and", And, self.not_expr)

    def chain(self, kw: str, group: type[And] | type[Or], operand: Callable[[], Filter]) -> Filter:
        items = [operand()]
        while self.keyword(kw):
            items.append(operand())
        return items[0] if len(items) == 1 else group(tuple(items))

    def not_expr(self) -> Filter:
        if self.word().lower() == "not" and not _NOT_AS_PATH_RE.match(self.text, self.pos + 3):
            self.pos += 3
            self.enter()
            item = self.not_expr()
            self.depth -= 1
            return Not(item)
        return self.atom()

    def atom(self) -> Filter:
        if self.peek() == "(":
            self.pos += 1
            self.enter()
            f = self.or_expr()
            if self.peek() != ")":
                self.fail("'and', 'or' or ')'")
            self.pos += 1
            self.depth -= 1
            return f
        path = self.path()
        if self.peek() == "?":
            self.pos += 1
            return Exists(path)
        if self.keyword("in"):
            if self.peek() != "(":
                self.fail("'(' after 'in'")
            self.pos += 1
            values = [self.value("a value in the 'in' list")]
            while self.peek() == ",":
                self.pos += 1
                values.append(self.value("a value after ','"))
            if self.peek() != ")":
                self.fail("',' or ')' in the 'in' list")
            self.pos += 1
            return In(path, tuple(values))
        op = next((o for o in _OPS_LONGEST_FIRST if self.text.startswith(o, self.pos)), None)
        if op is None:
            self.fail("an operator (= != < <= > >= ~ !~), '?' or 'in' after the field name")
        self.pos += len(op)
        return Compare(path, op, self.value(f"a value after '{op}'"))

    def path(self) -> tuple[str, ...]:
        self.peek()
        m = _PATH_RE.match(self.text, self.pos)
        if not m:
            self.fail("a field name")
        if self.text.startswith(".", m.end()):
            self.fail("a field name after '.'", m.end() + 1)
        self.pos = m.end()
        return tuple(m.group().split("."))

    def value(self, expected: str) -> str:
        ch = self.peek()
        if ch in ("'", '"'):
            return self.quoted(ch)
        start = end = self.pos
        while end < len(self.text) and not _ends_bareword(self.text[end]):
            end += 1
        if end == start:
            self.fail(expected)
        if ch in _OP_CHARS:  # catches typos like "==" and "=>" instead of taking them as values
            self.fail(expected, hint=" (quote a value that starts with = ! < > or ~)")
        self.pos = end
        return self.text[start:end]

    def quoted(self, quote: str) -> str:
        m = _QUOTED[quote].match(self.text, self.pos)
        if not m:
            self.error(f"unterminated quoted value starting at position {self.pos}")
        self.pos = m.end()
        # Only \\ \" \' are escapes; any other backslash stays, so C:\temp needs none.
        return _UNESCAPE_RE.sub(r"\1", m.group(1))


def parse_where(text: str) -> Filter:
    """Parse the text of a ``--where`` option into a :data:`Filter`.

    Grammar (keywords ``and``, ``or``, ``not``, ``in`` in any case)::

        expr      := or_expr
        or_expr   := and_expr ("or" and_expr)*
        and_expr  := not_expr ("and" not_expr)*
        not_expr  := "not" not_expr | atom
        atom      := "(" expr ")"
                   | PATH "?"                                 field is present and not empty
                   | PATH "in" "(" value ("," value)* ")"     field equals one of the values
                   | PATH OP value
        OP        := =  !=  <  <=  >  >=  ~  !~               (~ means "contains")
        PATH      := identifier ("." identifier)*             identifier = [A-Za-z_][A-Za-z0-9_]*
        value     := "double quoted" | 'single quoted' | bareword
        bareword  := one or more characters that are not whitespace, parentheses,
                     commas or quotes, and that does not start with = ! < > or ~

    ``not`` binds tighter than ``and``, which binds tighter than ``or``: ``a? or b? and c?``
    means ``a? or (b? and c?)``. Whitespace around operators is optional::

        stage=lead    opened_at>=2026-01-01    email~@example.com    tier in (A, B)
        not email?    (stage=lead or stage=qualified) and tags~vip    name="Ann O'Neil"

    Inside quotes a backslash escapes a quote or a backslash (``"say \\"hi\\""``); any other
    backslash is kept as it is. ``==`` is not an operator: ``stage==lead`` is an error, and a
    value that starts with one of ``= ! < > ~`` must be quoted. A field whose first name is
    ``not`` is read as a field when an operator, ``?``, ``.`` or ``in (`` follows it.

    Values stay strings here; :func:`bind_filter` gives them their types. Every syntax error
    raises :class:`~crmkit.errors.ValidationError` naming what was expected and the
    (0-based) character position, e.g. ``expected a value after '=' at position 6``.
    """
    return _Parser(text).parse()


# --- formatting --------------------------------------------------------------


def _format_value(value: Any) -> str:
    if isinstance(value, bool) or value is None:  # typed values are written the JSON way
        value = "null" if value is None else str(value).lower()
    text = str(value)
    if text and text[0] not in _OP_CHARS and not any(_ends_bareword(ch) for ch in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check_op(op: str) -> str:
    if op not in OPERATORS:
        raise ValidationError("where", op, f"unknown operator, expected one of {' '.join(OPERATORS)}")
    return op


def _format_path(path: tuple[str, ...]) -> str:
    text = ".".join(path)
    if not _PATH_RE.fullmatch(text):
        raise ValidationError("where", path, "a field path must be dotted identifiers")
    return text


def format_where(f: Filter) -> str:
    """Render ``f`` as ``--where`` text that :func:`parse_where` reads back as an equal filter.

    Values that are not barewords are double quoted. Nested groups are parenthesised only
    where precedence needs it, plus an ``And`` directly inside an ``And`` (and ``Or`` inside
    ``Or``), so the tree shape survives. Non-string values are written as text (``true``,
    ``false``, ``null``, ``str(value)``), so they come back as strings. A single-item
    ``And``/``Or`` is written as its item.
    """
    if isinstance(f, Compare):
        return f"{_format_path(f.path)}{_check_op(f.op)}{_format_value(f.value)}"
    if isinstance(f, In):
        if not f.values:
            raise ValidationError("where", f, "an 'in' filter needs at least one value")
        return f"{_format_path(f.path)} in ({', '.join(_format_value(v) for v in f.values)})"
    if isinstance(f, Exists):
        return f"{_format_path(f.path)}?"
    if isinstance(f, Not):
        inner = format_where(f.item)
        return f"not ({inner})" if isinstance(f.item, (And, Or)) else f"not {inner}"
    if isinstance(f, (And, Or)):
        if not f.items:
            raise ValidationError("where", f, "cannot write an empty and/or group")
        # Or binds looser than And, so an Or inside an And needs parentheses.
        grouped = (And, Or) if isinstance(f, And) else (Or,)
        parts = [f"({format_where(i)})" if isinstance(i, grouped) else format_where(i) for i in f.items]
        return (" and " if isinstance(f, And) else " or ").join(parts)
    raise TypeError(f"not a filter: {f!r}")


# --- evaluation --------------------------------------------------------------


def path_values(node: Any, path: tuple[str, ...]) -> Iterator[Any]:
    """Yield every value reached by ``path``, fanning out over lists met on the way.

    Public so that backends walk documents exactly as :func:`matches` does.
    """
    if not path:
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from path_values(item, path)
    elif isinstance(node, dict) and path[0] in node:
        yield from path_values(node[path[0]], path[1:])


def candidates(doc: Any, path: tuple[str, ...]) -> Iterator[Any]:
    """The values a comparison tests: a list at the end of the path stands for its elements."""
    for value in path_values(doc, path):
        if isinstance(value, list):
            yield from value
        else:
            yield value


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    if isinstance(a, bool) or isinstance(b, bool):  # True is not 1 here
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


_ORDERING = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _test(op: str, candidate: Any, value: Any) -> bool:
    """Whether one candidate satisfies a positive operator (=, <, <=, >, >=, ~)."""
    if op == "=":
        return _equal(candidate, value)
    if op == "~":
        return candidate is not None and str(value).casefold() in str(candidate).casefold()
    both_numbers = _is_number(candidate) and _is_number(value)
    both_strings = isinstance(candidate, str) and isinstance(value, str)
    # Strings compare by code point, case-sensitively, so ISO 8601 dates order correctly.
    return (both_numbers or both_strings) and bool(_ORDERING[op](candidate, value))


def _present(value: Any) -> bool:
    return not (value is None or (isinstance(value, (str, list, dict)) and not value))


def matches(f: Filter | None, doc: dict[str, Any]) -> bool:
    """The reference evaluator: whether ``doc`` satisfies ``f`` (None matches everything).

    - A path yields every value it reaches; a list met on the way fans out over its
      elements, and a missing key yields nothing. A list at the end of the path stands
      for its elements.
    - ``Compare`` is true when any candidate satisfies it, except ``!=`` and ``!~``, which
      are the negation of ``=`` and ``~`` (``tags!=vip`` is true when no tag is vip,
      including when there are no tags).
    - ``=``: strings compare case-insensitively; bools equal only bools; numbers by value.
    - ``< <= > >=``: only number with number (bools are not numbers) or string with string
      (by code point, so ISO dates work); any other pairing does not match.
    - ``~``: case-insensitive substring of the candidate (of its ``str()`` if it is not a
      string; None never contains anything).
    - ``In``: any candidate ``=`` any value. ``Exists``: some value reached is not None,
      "", [] or {}.
    """
    if f is None:
        return True
    if isinstance(f, Compare):
        negate = _check_op(f.op) in ("!=", "!~")
        hit = any(_test(f.op[1:] if negate else f.op, c, f.value) for c in candidates(doc, f.path))
        return not hit if negate else hit
    if isinstance(f, In):
        return any(_equal(c, v) for c in candidates(doc, f.path) for v in f.values)
    if isinstance(f, Exists):
        return any(_present(v) for v in path_values(doc, f.path))
    if isinstance(f, And):
        return all(matches(i, doc) for i in f.items)
    if isinstance(f, Or):
        return any(matches(i, doc) for i in f.items)
    if isinstance(f, Not):
        return not matches(f.item, doc)
    raise TypeError(f"not a filter: {f!r}")


# --- binding -----------------------------------------------------------------

Resolver = Callable[[tuple[str, ...]], tuple[tuple[str, ...], Callable[[Any], Any]]]


def bind_filter(f: Filter, resolve: Resolver) -> Filter:
    """Return a copy of ``f`` with canonical paths and typed values.

    ``resolve(path)`` is called for every leaf and returns ``(canonical_path, coerce)``;
    each value (every value of an ``In``) becomes ``coerce(value)``. Errors raised by
    ``resolve`` or ``coerce`` (``ValidationError`` for an unknown field) propagate.
    """
    if isinstance(f, Compare):
        path, coerce = resolve(f.path)
        return Compare(path, f.op, coerce(f.value))
    if isinstance(f, In):
        path, coerce = resolve(f.path)
        return In(path, tuple(coerce(v) for v in f.values))
    if isinstance(f, Exists):
        return Exists(resolve(f.path)[0])
    if isinstance(f, And):
        return And(tuple(bind_filter(i, resolve) for i in f.items))
    if isinstance(f, Or):
        return Or(tuple(bind_filter(i, resolve) for i in f.items))
    if isinstance(f, Not):
        return Not(bind_filter(f.item, resolve))
    raise TypeError(f"not a filter: {f!r}")


# --- sorting -----------------------------------------------------------------


def parse_sort(text: str) -> tuple[SortKey, ...]:
    """Parse a ``--sort`` option: comma-separated field paths, ``-`` in front for descending.

    ``"name"``, ``"-opened_at"``, ``"stage, -updated_at"``. Whitespace is ignored. An empty
    key or a name that is not a dotted identifier raises ``ValidationError("sort", ...)``.
    """
    keys = []
    for part in text.split(","):
        name = part.strip()
        descending = name.startswith("-")
        name = name[1:].strip() if descending else name
        if not name:
            raise ValidationError("sort", text, f"empty sort key (key {len(keys) + 1})")
        if not _PATH_RE.fullmatch(name):
            raise ValidationError("sort", text, f"{name!r} is not a field name (key {len(keys) + 1})")
        keys.append(SortKey(tuple(name.split(".")), descending))
    return tuple(keys)


def _sort_value(value: Any) -> tuple[int, Any]:
    # Ranks keep unlike types apart, so comparing them never raises.
    if _is_number(value):
        return (0, value)
    if isinstance(value, str):
        return (1, value.casefold())
    return (2, str(value))


def sort_docs(docs: list[dict[str, Any]], order: Sequence[SortKey]) -> list[dict[str, Any]]:
    """Return ``docs`` sorted by ``order`` (stable; the input list is not changed).

    A document's value for a key is the first value its path reaches. Missing and None
    values come last whatever the direction. Numbers sort before strings (casefolded),
    which sort before anything else (compared by ``str()``).
    """
    result = list(docs)
    # Stable sorts from the last key to the first give a multi-key sort with per-key direction.
    for key in reversed(order):
        firsts = [(next(path_values(d, key.path), None), d) for d in result]
        present = [(v, d) for v, d in firsts if v is not None]
        present.sort(key=lambda pair: _sort_value(pair[0]), reverse=key.descending)
        result = [d for _, d in present] + [d for v, d in firsts if v is None]
    return result


def where_from_kwargs(**kwargs: Any) -> Filter | None:
    """Build a filter from keyword arguments, for Python callers.

    ``where_from_kwargs(stage="lead", tier=["A", "B"], address__city="Oslo")`` gives
    ``stage=lead and tier in (A, B) and address.city=Oslo``: ``__`` separates path steps,
    a list, tuple or set becomes ``In``, anything else ``=``.
    No arguments give None, one gives the bare leaf.
    """
    leaves: list[Filter] = []
    for key, value in kwargs.items():
        path = tuple(key.split("__"))
        if not all(_WORD_RE.fullmatch(step) for step in path):
            raise ValidationError("where", key, "not a field path (use __ between field names)")
        if isinstance(value, (set, frozenset)):
            value = sorted(value, key=repr)  # any fixed order will do, and repr never fails
        if isinstance(value, (list, tuple)):
            leaves.append(In(path, tuple(value)))
        else:
            leaves.append(Compare(path, "=", value))
    if not leaves:
        return None
    return leaves[0] if len(leaves) == 1 else And(tuple(leaves))
