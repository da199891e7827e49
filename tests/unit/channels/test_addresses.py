"""Address fields: the fast path for plain lists agrees with the default policy's parser."""

from __future__ import annotations

import base64
from email import policy
from email.header import Header

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpdesk.channels.email import parse_mail
from helpdesk.channels.email._addresses import simple_addresses

PIECES = [
    "a", "An", "nguyen", "x.y", "@", "example.vn", "<", ">", ",", " ", "  ", "\t", "\r\n ",
    ".", "'", "!", "#", "=?", "?=", "=", "?", '"', "(", ")", ":", ";", "\\", "[", "]", "ễ",
    "_", "-", "+", "%",
]  # fmt: skip
address_value = st.lists(st.sampled_from(PIECES), max_size=14).map("".join)


def structured(value: str) -> list[tuple[str, str]] | None:
    try:
        header = policy.default.header_fetch_parse("To", value)
        return [(a.display_name, a.addr_spec) for a in header.addresses]  # type: ignore[attr-defined]
    except Exception:
        return None


def same(fast: list[tuple[str, str]], slow: list[tuple[str, str]] | None) -> bool:
    """Equal but for white space in names (Python keeps it between encoded words)."""
    return slow is not None and [(" ".join(n.split()), a) for n, a in fast] == [
        (" ".join(n.split()), a) for n, a in slow
    ]


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(address_value)
@example("An  Nguyen <an@example.vn>, b.c@d.e")
@example("<a@b>")
@example("a!#$%&'*+/=?^_`{|}~-@x.y")
@example("=?utf-8?q?a?= <=?utf-8?q?b?=@c.d>")
@example("=?utf-8?q?a?= =?utf-8?q?b?= x <a@b>")
def test_the_fast_path_answers_only_what_the_structured_parser_would(value: str) -> None:
    fast = simple_addresses(value)
    if fast is not None:
        assert same(fast, structured(value))


def q_encode(text: str) -> str:
    """RFC 2047 "Q" encoding for a phrase: letters, digits and !*+-/ as they are."""
    safe = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!*+-/")
    return "".join(chr(b) if b in safe else "_" if b == 32 else f"={b:02X}" for b in text.encode())


vietnamese_name = st.text(
    alphabet=st.sampled_from(list("aăâbdđeêghiklmnoôơpqrstuưvxyAĐ ,.\"'()<>@:;ễếữựờỏ")),
    min_size=1,
    max_size=60,
)


@settings(max_examples=1000, deadline=None)
@given(
    vietnamese_name,
    st.sampled_from(["b", "q", "B", "Q"]),
    st.integers(1, 20),
    st.sampled_from([" ", "\r\n ", "\t", "  "]),
)
def test_encoded_names_take_the_fast_path_and_read_as_written(
    name: str, form: str, chunk: int, space: str
) -> None:
    # Given a name encoded as mail clients do, in one or several encoded words
    pieces = [name[i : i + chunk] for i in range(0, len(name), chunk)]
    encode = q_encode if form in "qQ" else lambda t: base64.b64encode(t.encode()).decode()
    value = space.join(f"=?utf-8?{form}?{encode(p)}?=" for p in pieces) + " <an@example.vn>"
    # Then the fast path reads it as written, with no space added between the words
    assert simple_addresses(value) == [(name, "an@example.vn")]
    # and the structured parser agrees, but for the spaces it keeps between words
    slow = structured(value)
    assert slow is not None
    assert slow == [(slow[0][0], "an@example.vn")]
    assert "".join(slow[0][0].split()) == "".join(name.split())
    # and a Python-encoded name takes the fast path too
    encoded = Header(name, "utf-8", maxlinelen=40).encode(linesep="\r\n")
    assert simple_addresses(encoded + " <an@example.vn>") == [(name, "an@example.vn")]


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        ("an@example.vn", True),
        ("An Nguyen <an@example.vn>, support@helpdesk.example.vn", True),
        ("An\r\n Nguyen <an@example.vn>", True),
        ('"Nguyen, An" <an@example.vn>', False),
        ("=?utf-8?q?Nguy=E1=BB=85n?= <an@example.vn>", True),
        ("=?UTF-8?B?Tmd1eeG7hW4=?=\r\n =?UTF-8?B?IFbEg24=?= <an@example.vn>", True),
        ("=?iso-8859-1?q?Ren=E9?= <an@example.vn>", False),
        ("=?utf-8?b?abc?= <an@example.vn>", False),
        ("=?utf-8?q?Nguy=E1=BB?= <an@example.vn>", False),
        ("=?utf-8?q?An?= Nguyen <an@example.vn>", False),
        ("=?utf-8?q?An?= <=?utf-8?q?an?=@example.vn>", False),
        ("Nguyễn <an@example.vn>", False),
        ("an@example.vn (An)", False),
        ("undisclosed-recipients:;", False),
        ("J. Smith <j@example.com>", False),
    ],
)
def test_what_counts_as_plain(value: str, plain: bool) -> None:
    assert (simple_addresses(value) is not None) == plain
    parsed = parse_mail(f"From: {value}\r\nTo: {value}\r\n\r\nx".encode())
    if structured(value):
        assert parsed.to  # every kind still gives its addresses


def test_a_name_split_across_encoded_words_reads_whole() -> None:
    # (Mail clients split long names into several words, at any character.)
    raw = (
        b"From: =?utf-8?q?Nguy?=\r\n =?utf-8?q?=E1=BB=85n_V=C4=83n_An?= <An@Example.vn>\r\n"
        b"To: =?utf-8?b?SOG7lyB0cuG7oyBraMOh?= =?utf-8?b?Y2ggaMOgbmc=?= <support@example.vn>\r\n"
        b"\r\nx"
    )
    parsed = parse_mail(raw)
    assert (parsed.from_name, parsed.from_address) == ("Nguyễn Văn An", "an@example.vn")
    assert parsed.to == ("support@example.vn",)
