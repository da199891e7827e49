"""Parameter types and request checks shared by the API controllers."""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Request
from litestar.exceptions import ValidationException
from litestar.params import Parameter

MAX_ID = 2**31 - 1  # ids are 32-bit serials on both engines

ObjectId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="The object's id.")]
AfterId = Annotated[
    int,
    Parameter(ge=0, le=MAX_ID, description="Return objects with an id above this (keyset paging)."),
]
Limit = Annotated[int, Parameter(ge=1, le=200, description="At most this many objects.")]

# An escaped NUL (``\u0000``) whose backslash is not itself escaped.
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


async def reject_nul_characters(request: Request[Any, Any, Any]) -> None:
    """Refuse NUL characters (U+0000) in the query string and the JSON body.

    PostgreSQL cannot store them in text columns, so they would otherwise fail
    deep inside a query on one engine and not the other. Runs after
    authentication, before the parameters are parsed.
    """
    query = request.scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        raise ValidationException(
            "NUL characters are not accepted",
            extra=[{"message": "NUL characters are not accepted", "source": "query"}],
        )
    if request.method in ("POST", "PUT", "PATCH"):
        body = await request.body()
        if b"\x00" in body or _ESCAPED_NUL.search(body):
            raise ValidationException(
                "NUL characters are not accepted",
                extra=[{"message": "NUL characters are not accepted", "source": "body"}],
            )
