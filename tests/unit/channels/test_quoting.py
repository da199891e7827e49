"""Splitting the new text of a mail from quoted history and signatures (English, Vietnamese)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.channels.email import is_forwarded, split_quoted

CASES = [
    ("plain", "Just text.\nMore text.\n", "Just text.\nMore text.\n"),
    (
        "gmail-en",
        "Thanks!\n\nOn Mon, Jan 1, 2024 at 10:00 AM John <j@x.com> wrote:\n> hi\n",
        "Thanks!\n\n",
    ),
    (
        "gmail-en-wrapped",
        "Thanks!\n\nOn Mon, Jan 1, 2024 at 10:00 AM John Doe <\njohn@x.com> wrote:\n\n> hi\n",
        "Thanks!\n\n",
    ),
    (
        "apple",
        "Ok\n\nOn 1 Jan 2024, at 10:00, John <j@x.com> wrote:\n\n> hi\n",
        "Ok\n\n",
    ),
    (
        "gmail-vi",
        "Dạ vâng.\n\nVào 10:00 Th 2, 1 thg 1, 2024 Hỗ trợ <s@x.vn> đã viết:\n> Chào\n",
        "Dạ vâng.\n\n",
    ),
    (
        "outlook-en",
        "Fine.\n\nFrom: Support <s@x>\nSent: Monday, 1 January 2024 10:00\nTo: me\n"
        "Subject: x\n\nold\n",
        "Fine.\n\n",
    ),
    (
        "outlook-bold",
        "Fine.\n\n*From:* Support <s@x>\n*Sent:* Monday\n*To:* me\n*Subject:* x\n\nold\n",
        "Fine.\n\n",
    ),
    (
        "outlook-vi",
        "Được.\n\nTừ: Hỗ trợ <s@x>\nĐã gửi: Thứ Hai, 1 tháng 1, 2024\nĐến: tôi\nChủ đề: x\n\ncũ\n",
        "Được.\n\n",
    ),
    (
        "outlook-rule",
        "Fine.\n\n________________________________\nFrom: S <s@x>\nSent: Mon\nTo: me\n\nold\n",
        "Fine.\n\n",
    ),
    (
        "original-message",
        "Yes.\n\n-----Original Message-----\nFrom: s@x\nSent: Mon\n\nold\n",
        "Yes.\n\n",
    ),
    ("signature", "Thanks\n-- \nJohn\n+84 90\n", "Thanks\n"),
    ("signature-no-space", "Thanks\n--\nJohn\n", "Thanks\n"),
    ("trailing-quote", "Answer\n\n> question\n> more\n", "Answer\n\n"),
    ("trailing-quote-attribution", "Answer\n\nJohn Doe wrote:\n> question\n", "Answer\n\n"),
    (
        "inline-reply-stays-visible",
        "On Mon, John wrote:\n> q1\nanswer 1\n> q2\nanswer 2\n",
        "On Mon, John wrote:\n> q1\nanswer 1\n> q2\nanswer 2\n",
    ),
    (
        "from-line-in-prose-is-not-history",
        "Hi,\nFrom: the warehouse, nothing yet.\nThanks\n",
        "Hi,\nFrom: the warehouse, nothing yet.\nThanks\n",
    ),
    (
        "decomposed-vietnamese",
        unicodedata.normalize("NFD", "Ừ.\n\nVào Th 2 Hỗ trợ <s@x.vn> đã viết:\n> Chào\n"),
        unicodedata.normalize("NFD", "Ừ.\n\n"),
    ),
    ("only-quote", "> all quoted\n> here\n", "> all quoted\n> here\n"),
    ("empty", "", ""),
]


@pytest.mark.parametrize(("text", "visible"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_split_quoted(text: str, visible: str) -> None:
    got_visible, quoted = split_quoted(text)
    assert got_visible == visible
    assert got_visible + quoted == text


@pytest.mark.parametrize(
    ("subject", "text", "forwarded"),
    [
        ("Fwd: x", "", True),
        ("FW: x", "", True),
        ("TT: Hợp đồng", "", True),
        ("[External] Fw: x", "", True),
        ("Re: Fwd: x", "", False),
        ("Forward planning", "", False),
        ("x", "Note\n\n---------- Forwarded message ---------\nFrom: a\n", True),
        ("x", "Begin forwarded message:\n\nFrom: a\n", True),
        ("x", "---------- Thư được chuyển tiếp ----------\nTừ: a\n", True),
        ("x", "Reply\n\nOn Mon, A wrote:\n> ---------- Forwarded message ---------\n", False),
    ],
)
def test_is_forwarded(subject: str, text: str, forwarded: bool) -> None:
    assert is_forwarded(subject, text) is forwarded


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=400))
def test_split_never_loses_text(text: str) -> None:
    visible, quoted = split_quoted(text)
    assert visible + quoted == text
