"""Highlighted titles and snippets: original text, matches marked, the rest escaped."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from helpdesk.text import fold
from knowledge_base._snippets import SNIPPET_CHARS, highlight, snippet
from knowledge_base._terms import Term, parse_query


def test_every_vietnamese_letter_is_found_by_its_folded_form():
    letters = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"
    for letter in letters + letters.upper():
        assert highlight(letter, [Term(fold(letter))]) == f"<mark>{letter}</mark>", letter


def test_highlight_marks_whole_words_and_prefixes():
    terms = parse_query("don ha")
    assert highlight("Đơn hàng: đơn giản, hà nội", terms) == (
        "<mark>Đơn</mark> <mark>hàng</mark>: <mark>đơn</mark> giản, <mark>hà</mark> nội"
    )
    # "don" is a whole word, not a prefix: "dong" is not marked.
    assert highlight("Dòng đơn", [Term("don")]) == "Dòng <mark>đơn</mark>"


def test_highlight_escapes_everything_else():
    assert highlight('<b>Khách</b> & "hàng"', parse_query("khach ")) == (
        "&lt;b&gt;<mark>Khách</mark>&lt;/b&gt; &amp; &quot;hàng&quot;"
    )


def test_snippet_centres_on_the_best_window():
    filler = "Lorem ipsum dolor sit amet. " * 20
    text = filler + "Chính sách đổi trả trong 30 ngày cho khách hàng. " + filler
    out = snippet(text, parse_query("doi tra khach "))
    assert out.startswith("… ")
    assert out.endswith(" …")
    assert "<mark>đổi</mark> <mark>trả</mark>" in out
    assert "<mark>khách</mark>" in out
    assert len(out) < SNIPPET_CHARS + 120


def test_snippet_without_match_is_the_beginning():
    text = "Xin chào.\n\nĐây là   đoạn thứ hai."
    assert snippet(text, parse_query("zzz")) == "Xin chào. Đây là đoạn thứ hai."


@given(st.text(max_size=400), st.text(max_size=30))
def test_snippets_never_carry_markup_of_the_text(text, query):
    out = snippet(text, parse_query(query))
    stripped = out.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped
    assert ">" not in stripped
