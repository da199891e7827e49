"""Folding text for search, normalising addresses, and guessing the language."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.text import detect_language, fold, normalize_email

VIETNAMESE_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)
vietnamese_text = st.text(
    alphabet=VIETNAMESE_LETTERS + VIETNAMESE_LETTERS.upper() + " 0123456789", max_size=60
)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Đơn hàng", "don hang"),
        ("ĐĂNG NHẬP", "dang nhap"),
        ("đăng nhập", "dang nhap"),
        ("Nguyễn Thị Minh Khai", "nguyen thi minh khai"),
        ("  many   spaces\tand\nlines ", "many spaces and lines"),
        ("Straße", "strasse"),
        ("Łódź", "lodz"),
        ("İstanbul", "istanbul"),
        ("Ｆｕｌｌwidth", "ｆｕｌｌwidth"),
        ("", ""),
    ],
)
def test_fold_examples(text, folded):
    assert fold(text) == folded


@given(st.text(max_size=80))
def test_fold_is_idempotent_and_leaves_no_combining_marks(text):
    folded = fold(text)
    assert fold(folded) == folded
    assert not any(unicodedata.combining(ch) for ch in folded)


@given(vietnamese_text)
def test_vietnamese_folds_to_ascii_whatever_the_case(text):
    folded = fold(text)
    assert folded.isascii()
    assert fold(text.upper()) == fold(text.lower()) == folded


@pytest.mark.parametrize(
    ("address", "normalised"),
    [
        ("  Lan.Nguyen@Example.VN ", "lan.nguyen@example.vn"),
        ("a@b.c", "a@b.c"),
    ],
)
def test_normalize_email(address, normalised):
    assert normalize_email(address) == normalised


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Tôi không đăng nhập được vào tài khoản.", "vi"),
        ("Đơn hàng của tôi chưa được giao", "vi"),
        ("I cannot log in to my account.", "en"),
        ("Toi khong dang nhap duoc", "en"),  # Vietnamese without marks reads as English
        ("Café and crème brûlée", "en"),  # French marks are not Vietnamese-only letters
        ("Cảm", "en"),  # one Vietnamese-only letter is not enough
        ("", "en"),
    ],
)
def test_detect_language(text, language):
    assert detect_language(text) == language


def test_detect_language_reads_only_the_start():
    assert detect_language("x" * 4000 + "đăng nhập được") == "en"
    assert detect_language("đăng nhập " + "x" * 10000) == "vi"
