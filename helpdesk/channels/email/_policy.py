"""The email package policy mails are parsed with: compat32, plus a structured Content-Type."""

from __future__ import annotations

import functools
from email import policy as email_policy
from email._policybase import Compat32
from typing import Any

_STRUCTURED = email_policy.default


def _parse_structured(name: str, value: str) -> Any:
    try:
        return _STRUCTURED.header_fetch_parse(name, value)
    except Exception:  # the structured parser has bugs on some garbage: read it raw
        return None


_cached_structured = functools.lru_cache(maxsize=512)(_parse_structured)


class _ParsePolicy(Compat32):
    """compat32, but Content-Type read by the default policy's structured parser.

    compat32 leaves header fields as raw strings, which is several times faster
    than the default policy's parsing of every field the parser looks at. Only
    Content-Type, from which the parser takes the MIME structure (type and
    boundary), goes through the default policy, which is more forgiving of
    malformed parameters (a missing ``;``); the result is cached, as the parser
    asks for it several times per part. A value that the structured parser
    fails on is read raw, as compat32 reads it. Other fields are read raw
    (:class:`~helpdesk.channels.email._mime.Headers`); addresses are parsed one
    field at a time (:func:`~helpdesk.channels.email._addresses.addresses`).
    """

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if name.lower() == "content-type" and isinstance(value, str):
            short = len(value) <= 1000  # the cache must not hold huge values
            structured = (_cached_structured if short else _parse_structured)(name, value)
            if structured is not None:
                return structured
        return super().header_fetch_parse(name, value)


PARSE_POLICY = _ParsePolicy()
"""The policy mails are parsed with (see :class:`_ParsePolicy`)."""
