"""The one mapping of errors to RFC 7807 problem responses.

Every error a request can meet ends here and leaves as
``application/problem+json`` with the members ``type``, ``title``,
``status``, ``detail``, ``code`` (a stable machine-readable code) and
``instance`` (the request path), plus members particular to the error:

* :class:`~helpdesk.errors.HelpdeskError` keeps its own ``code`` and status,
  and its ``extra`` values become extra members (e.g. ``current_version``);
* Litestar's own errors: a body, query or path parameter that cannot be parsed
  or does not match the schema (malformed JSON, wrong type, unknown field,
  invalid enum value, an integer out of range) is ``400 invalid_request``
  with the field errors in ``errors``; a well-formed request that the domain
  rejects is ``422 validation_error``. Unknown routes are ``404 not_found``,
  a wrong method ``405 method_not_allowed``, an oversized body
  ``413 payload_too_large``;
* a body that cannot be decoded, though the framework's parser lets the
  error through (bytes that are not UTF-8, JSON nested too deeply: see
  :func:`helpdesk.web.errors.undecodable_input`), is ``400 invalid_request``
  too, logged without a traceback;
* a database that is lost, refused, too slow, locked or unwritable is
  ``503 database_unavailable`` with ``Retry-After`` (never a 500): the
  engines raise :class:`~helpdesk.errors.DatabaseUnavailableError`, and a
  driver error that reached here some other way is recognised too
  (:func:`helpdesk.db.database_fault`). It is logged as one line, without
  a traceback;
* anything else is a bug: it is logged with its traceback and answered with
  ``500 internal_error`` and a detail that reveals nothing.

A 401 always carries ``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap

from helpdesk.db import database_fault
from helpdesk.errors import DatabaseUnavailableError, HelpdeskError
from helpdesk.web.errors import HTTP_CODES, undecodable_input

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://helpdesk.invalid/problems/"
_RESERVED = frozenset({"type", "title", "status", "detail", "code", "instance"})


class FieldError(msgspec.Struct):
    """One reason a request was refused: where (``source`` and ``key``) and why."""

    message: str
    key: str | None = None
    source: str | None = None


class Problem(msgspec.Struct, kw_only=True):
    """An RFC 7807 problem. Further members may follow, depending on ``code``."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    errors: list[FieldError] | None = None


def problem_type(code: str) -> str:
    """The ``type`` URI of the problems with this code."""
    return PROBLEM_TYPE_BASE + code


def problem_response(
    request: Request[Any, Any, Any] | None,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    """A problem response; ``extra`` members never override the standard ones."""
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if request is not None:
        body["instance"] = request.url.path
    for key, value in (extra or {}).items():
        if key not in _RESERVED:
            body[key] = value
    all_headers = dict(headers or {})
    if status == HTTPStatus.UNAUTHORIZED:
        all_headers.setdefault("WWW-Authenticate", 'Bearer realm="helpdesk"')
    return Response(
        content=body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=all_headers
    )


def _jsonable(value: Any) -> Any:
    """``value`` if it can be encoded as JSON, else its ``str``."""
    try:
        msgspec.json.encode(value)
    except (TypeError, ValueError, OverflowError):
        return str(value)
    return value


def _helpdesk_error(request: Request[Any, Any, Any], exc: HelpdeskError) -> Response[Any]:
    if isinstance(exc, DatabaseUnavailableError):
        return _database_unavailable(request, exc)
    if exc.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        logger.error("server-side error on %s %s: %s", request.method, request.url.path, exc)
    extra = {key: _jsonable(value) for key, value in exc.extra.items()}
    return problem_response(
        request, status=exc.status, code=exc.code, title=exc.title, detail=exc.detail, extra=extra
    )


def _database_unavailable(
    request: Request[Any, Any, Any], exc: DatabaseUnavailableError
) -> Response[Any]:
    logger.warning(
        "database unavailable on %s %s: %s", request.method, request.url.path, exc.reason
    )
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        headers={"Retry-After": str(exc.retry_after)},
    )


def _field_errors(raw: Any) -> list[dict[str, Any]]:
    """Litestar's ``extra`` of a validation error as a list of field errors."""
    items = raw if isinstance(raw, list) else [raw] if raw else []
    errors: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, dict):
            errors.append(
                {
                    "message": str(item.get("message", "")),
                    "key": item.get("key"),
                    "source": item.get("source"),
                }
            )
        else:
            errors.append({"message": str(item), "key": None, "source": None})
    return errors


def _http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return _unexpected(request, exc)
    code = HTTP_CODES.get(status, "http_error")
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException) or status == HTTPStatus.BAD_REQUEST:
        title = "Invalid request"
        errors = _field_errors(exc.extra)
        extra["errors"] = errors or [{"message": exc.detail, "key": None, "source": "body"}]
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"}
    return problem_response(
        request,
        status=status,
        code=code,
        title=title,
        detail=exc.detail or title,
        extra=extra,
        headers=headers,
    )


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if database_fault(exc):
        reason = f"{type(exc).__name__}: {exc}"
        return _database_unavailable(request, DatabaseUnavailableError(reason=reason))
    undecodable = undecodable_input(exc)
    if undecodable is not None:
        return _undecodable(request, undecodable)
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request,
        status=HTTPStatus.INTERNAL_SERVER_ERROR,
        code="internal_error",
        title="Internal server error",
        detail="The server failed to process the request; the error was logged.",
    )


def _undecodable(request: Request[Any, Any, Any], message: str) -> Response[Any]:
    logger.info("undecodable body on %s %s: %s", request.method, request.url.path, message)
    return problem_response(
        request,
        status=HTTPStatus.BAD_REQUEST,
        code=HTTP_CODES[HTTPStatus.BAD_REQUEST],
        title="Invalid request",
        detail=message,
        extra={"errors": [{"message": message, "key": None, "source": "body"}]},
    )


def exception_handlers() -> ExceptionHandlersMap:
    """The exception handlers of the whole app: HelpdeskError, Litestar's
    HTTP errors, and any other exception (logged, answered with a 500)."""
    return {
        HelpdeskError: _helpdesk_error,
        HTTPException: _http_exception,
        Exception: _unexpected,
    }


_DESCRIPTIONS: dict[int, str] = {
    400: "The request could not be parsed or does not match the schema (`invalid_request`).",
    401: "No valid bearer token (`unauthenticated`).",
    403: "The caller may not do this (`permission_denied`).",
    404: "No such object, or the caller may not see it (`not_found`).",
    409: "The change collides with the current state (`conflict`, `version_conflict`, "
    "`already_assigned`, `invalid_transition`), or the first request with the same "
    "`Idempotency-Key` has not answered (`idempotency_key_in_use`).",
    413: "The body or an attachment is too large.",
    422: "Well-formed input that the domain refuses (`validation_error`), or an "
    "`Idempotency-Key` already used for a different request (`idempotency_key_reused`).",
    503: "The database is unavailable for a moment (`database_unavailable`); try again "
    "after `Retry-After` seconds.",
}


def responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI descriptions of the problem responses an endpoint may give:
    400, 401, 403 and 503 (the database unavailable) always, plus ``statuses``."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in sorted({400, 401, 403, 503, *statuses})
    }


__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "FieldError",
    "Problem",
    "exception_handlers",
    "problem_response",
    "problem_type",
    "responses",
]
