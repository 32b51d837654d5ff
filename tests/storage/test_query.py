"""Tests for the filter AST's parser, formatter, reference evaluator, binder and sorter."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import ValidationError
from crmkit.storage.query import (
    OPERATORS,
    And,
    Compare,
    Exists,
    In,
    Not,
    Or,
    SortKey,
    bind_filter,
    format_where,
    matches,
    parse_sort,
    parse_where,
    sort_docs,
    where_from_kwargs,
)


def C(path: str, op: str, value: object) -> Compare:
    return Compare(tuple(path.split(".")), op, value)


def E(path: str) -> Exists:
    return Exists(tuple(path.split(".")))


# --- parse_where: accepted syntax ---------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("stage=lead", C("stage", "=", "lead")),
        ("stage = lead", C("stage", "=", "lead")),
        ("  stage\t=\nlead  ", C("stage", "=", "lead")),
        ("stage!=lead", C("stage", "!=", "lead")),
        ("score<5", C("score", "<", "5")),
        ("score<=5", C("score", "<=", "5")),
        ("score>5", C("score", ">", "5")),
        ("score>=-5", C("score", ">=", "-5")),
        ("opened_at>=2026-01-01", C("opened_at", ">=", "2026-01-01")),
        ("email~@example.com", C("email", "~", "@example.com")),
        ("email!~@example.com", C("email", "!~", "@example.com")),
        ("email?", E("email")),
        ("email ?", E("email")),
        ("address.city=Oslo", C("address.city", "=", "Oslo")),
        ("a.b.c?", E("a.b.c")),
        ("_x1.Y_2=v", C("_x1.Y_2", "=", "v")),
        ("tier in (A, B)", In(("tier",), ("A", "B"))),
        ("tier IN(A,B)", In(("tier",), ("A", "B"))),
        ("tier in ( A )", In(("tier",), ("A",))),
        ("tier in ('a b', \"c,d\", e)", In(("tier",), ("a b", "c,d", "e"))),
        ("not email?", Not(E("email"))),
        ("NOT email?", Not(E("email"))),
        ("not not email?", Not(Not(E("email")))),
        ("not(a=1)", Not(C("a", "=", "1"))),
        ('name="Ann O\'Neil"', C("name", "=", "Ann O'Neil")),
        ("name='Ann \"Annie\" Lee'", C("name", "=", 'Ann "Annie" Lee')),
        ('name="say \\"hi\\""', C("name", "=", 'say "hi"')),
        ("name='O\\'Neil'", C("name", "=", "O'Neil")),
        ('path="a\\\\b"', C("path", "=", "a\\b")),
        ('path="C:\\temp"', C("path", "=", "C:\\temp")),  # a lone backslash stays literal
        ('name=""', C("name", "=", "")),
        ('name="=x"', C("name", "=", "=x")),
        ("name=a=b", C("name", "=", "a=b")),
        ("stage=and", C("stage", "=", "and")),  # keywords are plain values after an operator
        ("and=1", C("and", "=", "1")),  # ...and plain field names where a field is expected
        ("or?", E("or")),
        ("in in (x)", In(("in",), ("x",))),
        ("not=x", C("not", "=", "x")),  # a field called "not"
        ("not?", E("not")),
        ("not.a=1", C("not.a", "=", "1")),
        ("not in (x)", In(("not",), ("x",))),
        ("not in in (x)", Not(In(("in",), ("x",)))),
        ("not not?", Not(E("not"))),
        ("nothing=1", C("nothing", "=", "1")),
        ("a?and b?", And((E("a"), E("b")))),
        ("(a=1)or(b=2)", Or((C("a", "=", "1"), C("b", "=", "2")))),
        ("a=1 AND b=2 Or c=3", Or((And((C("a", "=", "1"), C("b", "=", "2"))), C("c", "=", "3")))),
    ],
)
def test_parse_where_accepts(text: str, expected: object) -> None:
    assert parse_where(text) == expected


def test_bareword_swallows_glued_keyword() -> None:
    # Barewords run to whitespace, so "1and" is one value and "b=2" is left over.
    with pytest.raises(ValidationError, match="the end of the filter at position 7, found 'b'"):
        parse_where("a=1and b=2")


def test_precedence_and_binds_tighter_than_or() -> None:
    assert parse_where("a? or b? and c?") == Or((E("a"), And((E("b"), E("c")))))
    assert parse_where("a? and b? or c?") == Or((And((E("a"), E("b"))), E("c")))


def test_precedence_not_binds_tightest() -> None:
    assert parse_where("not a? and b?") == And((Not(E("a")), E("b")))
    assert parse_where("not a? or b?") == Or((Not(E("a")), E("b")))
    assert parse_where("not (a? and b?)") == Not(And((E("a"), E("b"))))


def test_parentheses_override_precedence() -> None:
    f = parse_where("(stage=lead or stage=qualified) and tags~vip")
    assert f == And((Or((C("stage", "=", "lead"), C("stage", "=", "qualified"))), C("tags", "~", "vip")))
    assert parse_where("((a?))") == E("a")


def test_chains_flatten_but_groups_keep_their_shape() -> None:
    assert parse_where("a? and b? and c?") == And((E("a"), E("b"), E("c")))
    assert parse_where("a? or b? or c? or d?") == Or((E("a"), E("b"), E("c"), E("d")))
    assert parse_where("a? and (b? and c?)") == And((E("a"), And((E("b"), E("c")))))


# --- parse_where: errors ------------------------------------------------------


@pytest.mark.parametrize(
    "text, reason",
    [
        ("stage=", "expected a value after '=' at position 6, found end of text"),
        ("stage = ", "expected a value after '=' at position 8, found end of text"),
        ("=lead", "expected a field name at position 0, found '='"),
        ("stage lead", "expected an operator (= != < <= > >= ~ !~), '?' or 'in' after the field name at position 6"),
        ("stage", "or 'in' after the field name at position 5, found end of text"),
        ("(stage=lead", "expected 'and', 'or' or ')' at position 11, found end of text"),
        ("tier in (A,", "expected a value after ',' at position 11, found end of text"),
        ("tier in (A", "expected ',' or ')' in the 'in' list at position 10, found end of text"),
        ("tier in ()", "expected a value in the 'in' list at position 9, found ')'"),
        ("tier in A", "expected '(' after 'in' at position 8, found 'A'"),
        ("stage==lead", "expected a value after '=' at position 6, found '=' (quote a value"),
        ("score=>5", "expected a value after '=' at position 6, found '>'"),
        ("a.=1", "expected a field name after '.' at position 2, found '='"),
        ("a.b.", "expected a field name after '.' at position 4, found end of text"),
        ("1a=2", "expected a field name at position 0, found '1'"),
        ("a=b)", "expected 'and', 'or' or the end of the filter at position 3, found ')'"),
        ("a=1 b=2", "expected 'and', 'or' or the end of the filter at position 4, found 'b'"),
        ("a=1 and", "expected a field name at position 7, found end of text"),
        ("not", "expected a field name at position 3, found end of text"),
        ("()", "expected a field name at position 1, found ')'"),
        ('name="Ann', "unterminated quoted value starting at position 5"),
        ("name='x\\'", "unterminated quoted value starting at position 5"),
        ("", "expected a filter, found empty text"),
        (" \t\n", "expected a filter, found empty text"),
        ("(" * 200 + "a?" + ")" * 200, "nested deeper than 100 levels"),
        ("not " * 200 + "a?", "nested deeper than 100 levels"),
    ],
)
def test_parse_where_errors_name_the_position(text: str, reason: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_where(text)
    err = info.value
    assert err.field == "where"
    assert err.value == text
    assert reason in err.reason
    assert err.reason in str(err)


def test_or_or_error_points_at_second_or() -> None:
    # "or" is a valid field name, so the second "or" is read as a field lacking an operator.
    with pytest.raises(ValidationError, match="after the field name at position 10, found 'b'"):
        parse_where("a=1 or or b=2")


@settings(max_examples=500)
@given(st.text())
def test_parse_where_raises_only_validation_error(text: str) -> None:
    try:
        parse_where(text)
    except ValidationError as err:
        assert err.field == "where" and err.value == text
        assert "position" in err.reason or "empty" in err.reason


@settings(max_examples=1000)
@given(st.lists(st.sampled_from(list("ab._=!<>~?(),'\"\\ 1") + ["not ", " and ", " or ", " in ", "in", "-"]), max_size=30).map("".join))
def test_parse_where_grammar_soup_raises_only_validation_error(text: str) -> None:
    try:
        f = parse_where(text)
    except ValidationError:
        return
    assert parse_where(format_where(f)) == f


# --- format_where -------------------------------------------------------------


@pytest.mark.parametrize(
    "f, text",
    [
        (C("stage", "=", "lead"), "stage=lead"),
        (C("name", "=", "Ann O'Neil"), 'name="Ann O\'Neil"'),
        (C("name", "=", ""), 'name=""'),
        (C("name", "=", "=x"), 'name="=x"'),
        (C("p", "=", 'a\\"b'), 'p="a\\\\\\"b"'),
        (C("p", "=", "a\\b"), "p=a\\b"),
        (C("n", ">=", 5), "n>=5"),
        (C("flag", "=", True), "flag=true"),
        (C("x", "=", None), "x=null"),
        (In(("tier",), ("A", "b c")), 'tier in (A, "b c")'),
        (Not(E("email")), "not email?"),
        (Not(And((E("a"), E("b")))), "not (a? and b?)"),
        (And((Or((E("a"), E("b"))), E("c"))), "(a? or b?) and c?"),
        (Or((And((E("a"), E("b"))), E("c"))), "a? and b? or c?"),
        (And((E("a"), And((E("b"), E("c"))))), "a? and (b? and c?)"),
    ],
)
def test_format_where(f: object, text: str) -> None:
    assert format_where(f) == text  # type: ignore[arg-type]
    if isinstance(f, Compare) and isinstance(f.value, str):
        assert parse_where(text) == f


def test_format_where_rejects_what_it_cannot_write() -> None:
    for bad in [And(()), In(("a",), ()), Compare(("a b",), "=", "x"), Compare(("a",), "==", "x")]:
        with pytest.raises(ValidationError):
            format_where(bad)


_idents = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,4}", fullmatch=True) | st.sampled_from(
    ["not", "in", "and", "or", "NOT", "In", "nothing"]
)
_paths = st.lists(_idents, min_size=1, max_size=3).map(tuple)
_leaves = st.one_of(
    st.builds(Compare, _paths, st.sampled_from(OPERATORS), st.text()),
    st.builds(In, _paths, st.lists(st.text(), min_size=1, max_size=3).map(tuple)),
    st.builds(Exists, _paths),
)
_filters = st.recursive(
    _leaves,
    lambda kids: st.one_of(
        st.lists(kids, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
        st.lists(kids, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
        kids.map(Not),
    ),
    max_leaves=12,
)


@settings(max_examples=500)
@given(_filters)
def test_format_where_round_trips(f: object) -> None:
    # Generated trees may nest And in And: format_where keeps that shape with parentheses.
    assert parse_where(format_where(f)) == f  # type: ignore[arg-type]


# --- matches ------------------------------------------------------------------

DOC = {
    "id": "C1",
    "name": "Ann O'Neil",
    "stage": "Lead",
    "score": 7,
    "ratio": 0.5,
    "active": True,
    "nothing": None,
    "blank": "",
    "empty_list": [],
    "empty_dict": {},
    "opened_at": "2026-02-15T10:00:00Z",
    "tags": ["VIP", "north"],
    "emails": ["ann@example.com", "ann@work.org"],
    "address": {"city": "Oslo", "zip": "0150"},
    "contacts": [
        {"email": "bob@example.com", "phones": ["1", "2"]},
        {"email": "cy@other.net"},
        {"name": "no email"},
    ],
}


def m(text: str, doc: dict = DOC) -> bool:
    return matches(parse_where(text), doc)


def test_none_matches_everything() -> None:
    assert matches(None, {}) and matches(None, DOC)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("stage=lead", True),  # case-insensitive string equality
        ("stage=LEAD", True),
        ("stage=lea", False),
        ("stage!=lead", False),
        ("stage!=customer", True),
        ("name~\"o'nei\"", True),
        ("name~xyz", False),
        ("name!~xyz", True),
        ("name!~ANN", False),
        ("tags=vip", True),  # list elements are candidates
        ("tags=south", False),
        ("tags!=vip", False),
        ("tags!=south", True),
        ("tags~or", True),
        ("emails=ann@work.org", True),
        ("emails~@example", True),
        ("address.city=oslo", True),
        ("address.zip<1000", True),  # unbound "1000" is a string: "0150" < "1000"
        ("address.city=Bergen", False),
        ("contacts.email=cy@other.net", True),  # fan-out over a list of dicts
        ("contacts.email~example.com", True),
        ("contacts.email=nobody@x.y", False),
        ("contacts.phones=2", True),  # fan-out then a list value
        ("contacts.email?", True),
        ("contacts.name?", True),
        ("contacts.missing?", False),
        ("tier in (A, lead)", False),
        ("stage in (customer, LEAD)", True),
        ("tags in (south, Vip)", True),
        ("opened_at>=2026-01-01", True),  # ISO 8601 strings order by code point
        ("opened_at<2026-02-15", False),
        ("opened_at<2026-02-16", True),
        ("opened_at>2026-02-15T09", True),
        ("not stage=lead", False),
        ("stage=lead and tags=vip", True),
        ("stage=lead and tags=south", False),
        ("stage=customer or tags=north", True),
        ("stage=customer or tags=south", False),
    ],
)
def test_matches(text: str, expected: bool) -> None:
    assert m(text) is expected


def test_string_order_is_case_sensitive_code_point() -> None:
    assert m("stage<a")  # "L" (76) < "a" (97)
    assert not m("stage>a")


@pytest.mark.parametrize("op", ["=", "<", "<=", ">", ">=", "~"])
def test_missing_field_matches_no_positive_operator(op: str) -> None:
    assert not matches(C("missing", op, "x"), DOC)
    assert not matches(C("address.missing", op, "x"), DOC)
    assert not matches(C("stage.deeper", op, "x"), DOC)  # walking into a string yields nothing


@pytest.mark.parametrize("op", ["!=", "!~"])
def test_negated_operators_are_true_on_missing_fields(op: str) -> None:
    assert matches(C("missing", op, "x"), DOC)
    assert matches(C("contacts.missing", op, "x"), DOC)
    assert matches(C("empty_list", op, "x"), DOC)


def test_negated_operators_over_fan_out_mean_none_of_them() -> None:
    assert not matches(C("contacts.email", "!=", "BOB@example.com"), DOC)
    assert matches(C("contacts.email", "!=", "dan@example.com"), DOC)
    assert not matches(C("contacts.email", "!~", "other"), DOC)


def test_typed_comparisons() -> None:
    assert matches(C("score", "=", 7), DOC)
    assert matches(C("score", "=", 7.0), DOC)
    assert matches(C("score", ">", 6.5), DOC)
    assert matches(C("score", "<=", 7), DOC)
    assert not matches(C("score", "<", 7), DOC)
    assert matches(C("ratio", "<", 1), DOC)
    assert matches(C("active", "=", True), DOC)
    assert not matches(C("active", "=", False), DOC)


def test_type_mismatches_never_match_and_never_raise() -> None:
    assert not matches(C("score", "=", "7"), DOC)  # unbound string vs int
    assert not matches(C("score", ">", "1"), DOC)
    assert not matches(C("stage", ">", 1), DOC)
    assert not matches(C("active", "=", 1), DOC)  # bool is not a number
    assert not matches(C("active", ">", 0), DOC)
    assert not matches(C("score", "=", True), {"score": 1})
    assert not matches(C("address", "<", "x"), DOC)
    assert not matches(C("nothing", ">", 0), DOC)
    assert not matches(C("tags", ">", 0), DOC)
    assert matches(C("mixed", ">", 2), {"mixed": ["a", None, 3, {"x": 1}]})  # the 3 matches


def test_contains_on_non_strings_uses_str() -> None:
    assert matches(C("score", "~", "7"), DOC)
    assert matches(C("ratio", "~", ".5"), DOC)
    assert matches(C("active", "~", "true"), DOC)
    assert matches(C("score", "~", 7), DOC)
    assert not matches(C("nothing", "~", "none"), DOC)  # None contains nothing
    assert matches(C("nothing", "!~", "none"), DOC)


def test_equality_with_null() -> None:
    assert matches(C("nothing", "=", None), DOC)
    assert not matches(C("missing", "=", None), DOC)


@pytest.mark.parametrize(
    "path, expected",
    [
        ("name", True),
        ("score", True),
        ("active", True),
        ("tags", True),
        ("address", True),
        ("address.city", True),
        ("nothing", False),
        ("blank", False),
        ("empty_list", False),
        ("empty_dict", False),
        ("missing", False),
        ("address.missing", False),
    ],
)
def test_exists(path: str, expected: bool) -> None:
    assert matches(E(path), DOC) is expected
    assert matches(Not(E(path)), DOC) is not expected


def test_exists_counts_zero_and_false_as_present() -> None:
    assert matches(E("n"), {"n": 0})
    assert matches(E("n"), {"n": False})
    assert matches(E("n"), {"n": [None]})  # a non-empty list is present


def test_matches_rejects_unknown_operator() -> None:
    with pytest.raises(ValidationError):
        matches(Compare(("a",), "==", "x"), {"a": "x"})


# --- bind_filter --------------------------------------------------------------


def test_bind_filter_replaces_paths_and_coerces_values() -> None:
    calls = []

    def resolve(path: tuple[str, ...]):
        calls.append(path)
        canonical = {("score",): ("lead_score",), ("city",): ("address", "city")}.get(path, path)
        return canonical, (int if path == ("score",) else str.upper)

    f = parse_where("(score>=5 or city in (oslo, bergen)) and not email? and name~ann")
    bound = bind_filter(f, resolve)
    assert bound == And(
        (
            Or((Compare(("lead_score",), ">=", 5), In(("address", "city"), ("OSLO", "BERGEN")))),
            Not(Exists(("email",))),
            Compare(("name",), "~", "ANN"),
        )
    )
    assert calls == [("score",), ("city",), ("email",), ("name",)]
    assert f == parse_where("(score>=5 or city in (oslo, bergen)) and not email? and name~ann")  # unchanged
    assert matches(bound, {"lead_score": 9, "email": "", "name": "Ann"})
    assert not matches(bound, {"lead_score": 3, "address": {"city": "Trondheim"}, "name": "ANN"})
    assert matches(bound, {"lead_score": 3, "address": {"city": "Bergen"}, "name": "ANN"})


def test_bind_filter_lets_validation_errors_through() -> None:
    def resolve(path: tuple[str, ...]):
        if path == ("nope",):
            raise ValidationError("where", ".".join(path), "unknown field")
        return path, str

    assert bind_filter(parse_where("a=1"), resolve) == C("a", "=", "1")
    with pytest.raises(ValidationError, match="unknown field"):
        bind_filter(parse_where("a=1 or not nope?"), resolve)


# --- parse_sort ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("name", (SortKey(("name",)),)),
        ("-opened_at", (SortKey(("opened_at",), descending=True),)),
        ("stage,-updated_at", (SortKey(("stage",)), SortKey(("updated_at",), True))),
        (" stage , - updated_at ", (SortKey(("stage",)), SortKey(("updated_at",), True))),
        ("address.city", (SortKey(("address", "city")),)),
    ],
)
def test_parse_sort(text: str, expected: tuple[SortKey, ...]) -> None:
    assert parse_sort(text) == expected


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty sort key"),
        ("  ", "empty sort key"),
        ("-", "empty sort key"),
        ("name,", "empty sort key (key 2)"),
        ("a,,b", "empty sort key (key 2)"),
        ("1name", "'1name' is not a field name"),
        ("na me", "'na me' is not a field name"),
        ("a.", "'a.' is not a field name"),
        ("--a", "'-a' is not a field name"),
        ("+a", "'+a' is not a field name"),
    ],
)
def test_parse_sort_errors(text: str, reason: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_sort(text)
    assert info.value.field == "sort" and info.value.value == text
    assert reason in info.value.reason


# --- sort_docs ----------------------------------------------------------------


def names(docs: list[dict]) -> list[str]:
    return [d["id"] for d in docs]


def test_sort_docs_puts_missing_and_none_last_both_ways() -> None:
    docs = [{"id": "a", "n": 2}, {"id": "b"}, {"id": "c", "n": 1}, {"id": "d", "n": None}, {"id": "e", "n": 3}]
    assert names(sort_docs(docs, parse_sort("n"))) == ["c", "a", "e", "b", "d"]
    assert names(sort_docs(docs, parse_sort("-n"))) == ["e", "a", "c", "b", "d"]
    assert names(docs) == ["a", "b", "c", "d", "e"]  # input untouched


def test_sort_docs_strings_casefolded_and_stable() -> None:
    docs = [{"id": "1", "s": "b"}, {"id": "2", "s": "A"}, {"id": "3", "s": "a"}, {"id": "4", "s": "B"}]
    assert names(sort_docs(docs, parse_sort("s"))) == ["2", "3", "1", "4"]
    assert names(sort_docs(docs, parse_sort("-s"))) == ["1", "4", "2", "3"]


def test_sort_docs_multi_key_mixed_directions() -> None:
    docs = [
        {"id": "1", "stage": "lead", "at": "2026-01-02"},
        {"id": "2", "stage": "customer", "at": "2026-01-01"},
        {"id": "3", "stage": "lead", "at": "2026-01-03"},
        {"id": "4", "stage": "customer", "at": "2026-01-05"},
        {"id": "5", "stage": "lead"},
        {"id": "6", "at": "2026-01-09"},
    ]
    assert names(sort_docs(docs, parse_sort("stage,-at"))) == ["4", "2", "3", "1", "5", "6"]
    assert names(sort_docs(docs, parse_sort("-stage,at"))) == ["1", "3", "5", "2", "4", "6"]
    assert names(sort_docs(docs, ())) == ["1", "2", "3", "4", "5", "6"]


def test_sort_docs_mixed_types_do_not_raise() -> None:
    docs = [
        {"id": "s", "v": "x"},
        {"id": "f", "v": 1.5},
        {"id": "b", "v": True},
        {"id": "i", "v": 2},
        {"id": "d", "v": {"k": 1}},
        {"id": "n", "v": None},
        {"id": "i0", "v": -1},
    ]
    # numbers < strings < others (by str(): "True" < "{'k': 1}"), None last either way
    assert names(sort_docs(docs, parse_sort("v"))) == ["i0", "f", "i", "s", "b", "d", "n"]
    assert names(sort_docs(docs, parse_sort("-v"))) == ["d", "b", "s", "i", "f", "i0", "n"]


def test_sort_docs_uses_first_value_of_a_fanned_out_path() -> None:
    docs = [
        {"id": "x", "contacts": [{"name": "Zed"}, {"name": "Al"}]},
        {"id": "y", "contacts": [{"phone": "1"}, {"name": "Bo"}]},
        {"id": "z", "contacts": []},
    ]
    assert names(sort_docs(docs, parse_sort("contacts.name"))) == ["y", "x", "z"]
    assert names(sort_docs(docs, parse_sort("-contacts.name"))) == ["x", "y", "z"]


# --- where_from_kwargs --------------------------------------------------------


def test_where_from_kwargs() -> None:
    assert where_from_kwargs() is None
    assert where_from_kwargs(stage="lead") == C("stage", "=", "lead")
    assert where_from_kwargs(stage="lead", tier=["A", "B"]) == And(
        (Compare(("stage",), "=", "lead"), In(("tier",), ("A", "B")))
    )
    assert where_from_kwargs(address__city="Oslo") == C("address.city", "=", "Oslo")
    assert where_from_kwargs(tier=("A",)) == In(("tier",), ("A",))
    assert where_from_kwargs(tier={"B", "A", "C"}) == In(("tier",), ("A", "B", "C"))
    assert where_from_kwargs(score=5) == C("score", "=", 5)  # Python values keep their type
    f = where_from_kwargs(stage="LEAD", tags=["vip", "gold"], address__city="oslo")
    assert matches(f, DOC)
    assert not matches(f, {**DOC, "tags": ["bronze"]})


def test_where_from_kwargs_rejects_bad_keys() -> None:
    with pytest.raises(ValidationError):
        where_from_kwargs(**{"a b": 1})
    with pytest.raises(ValidationError):
        where_from_kwargs(**{"address__": 1})
