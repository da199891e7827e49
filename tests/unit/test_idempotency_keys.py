"""Idempotency keys and request fingerprints, without a database."""

from __future__ import annotations

import pytest

from helpdesk.errors import IdempotencyKeyInvalidError
from helpdesk.idempotency import data_fingerprint, parse_key, request_fingerprint


@pytest.mark.parametrize(
    "key", ["a", "3f9c6d2e-8a41-4c7b-9d0e-5b2a7f1c8e43", "order 42/retry", "~" * 255]
)
def test_printable_keys_up_to_255_characters_are_accepted(key: str) -> None:
    assert parse_key(key) == key


@pytest.mark.parametrize(
    "key", ["", " ", " a", "a ", "x" * 256, "tab\tkey", "nul\x00", "khóa", "line\nbreak"]
)
def test_other_keys_are_refused_with_a_stable_code(key: str) -> None:
    with pytest.raises(IdempotencyKeyInvalidError) as refused:
        parse_key(key)
    assert refused.value.code == "idempotency_key_invalid"
    assert refused.value.status == 400


def test_a_request_fingerprint_covers_method_target_and_body() -> None:
    base = request_fingerprint("POST", "/api/v1/cases", b'{"subject":"A"}')
    assert base == request_fingerprint("post", "/api/v1/cases", b'{"subject":"A"}')
    others = {
        request_fingerprint("PUT", "/api/v1/cases", b'{"subject":"A"}'),
        request_fingerprint("POST", "/api/v1/cases?x=1", b'{"subject":"A"}'),
        request_fingerprint("POST", "/api/v1/teams", b'{"subject":"A"}'),
        request_fingerprint("POST", "/api/v1/cases", b'{"subject":"B"}'),
    }
    assert base not in others
    assert len(others) == 4


def test_a_data_fingerprint_depends_on_the_kind_and_the_data() -> None:
    line = data_fingerprint("chat.say", "Xin chào")
    assert line == data_fingerprint("chat.say", "Xin chào")
    assert line != data_fingerprint("chat.say", "Xin chào!")
    assert line != data_fingerprint("chat.start", "Xin chào")
    assert data_fingerprint("form", {"a": b"\x00\xff"}) != data_fingerprint("form", {"a": b"\x00"})
