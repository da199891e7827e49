"""Index words and query terms: folded alike for SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge_base._terms import (
    MAX_TERMS,
    Term,
    fts5_query,
    index_text,
    parse_query,
    tsquery,
    words,
)


def test_words_are_folded_letters_and_digits():
    assert words("ĐƠN HÀNG #HD-0012, giá 1.500.000đ!") == [
        "don", "hang", "hd", "0012", "gia", "1", "500", "000d",
    ]  # fmt: skip
    assert index_text("Khách  hàng\nthân_thiết ²") == "khach hang than thiet"
    assert words("x" * 100) == ["x" * 64]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("khach hang", [Term("khach"), Term("hang", prefix=True)]),
        ("khach hang ", [Term("khach"), Term("hang")]),
        ("Khách H", [Term("khach")]),
        ("h", [Term("h")]),
        ("đơn", [Term("don", prefix=True)]),
        ("hang khach hang", [Term("hang"), Term("khach")]),
        ("", []),
        ("  ?!  ", []),
    ],
)
def test_parse_query(query, expected):
    assert parse_query(query) == expected


def test_long_queries_keep_the_first_words():
    terms = parse_query(" ".join(f"w{n}" for n in range(20)))
    assert [t.word for t in terms] == [f"w{n}" for n in range(MAX_TERMS)]
    assert not any(t.prefix for t in terms)


def test_engine_queries():
    terms = [Term("don"), Term("ha", prefix=True)]
    assert fts5_query(terms) == '"don" "ha"*'
    assert fts5_query(terms[:1], "search_title") == 'search_title : ("don")'
    assert tsquery(terms) == "don & ha:*"


@given(st.text(max_size=200))
def test_query_terms_never_carry_syntax(text):
    for term in parse_query(text):
        assert term.word
        assert all(ch.isalnum() for ch in term.word), term
        assert len(term.word) <= 64
