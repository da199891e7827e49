"""``Idempotency-Key`` on every write of the API, in one place.

:class:`IdempotencyPlugin` installs :class:`IdempotencyMiddleware` on the app
and documents the header on every ``POST``, ``PUT``, ``PATCH`` and ``DELETE``
under ``/api/v1`` (public ones included). For a request that carries the
header, the middleware:

1. runs the route's guards first (a replay is an answer, given only to a caller
   the route admits), then checks the key (``400 idempotency_key_invalid``).
   The key's scope is that caller (``agent:<id>``), or ``public:<client
   address>`` on the public routes;
2. replays the stored answer of a repeat with the same method, path, query and
   body (status, body, ``Content-Type``, ``Location``, plus
   ``Idempotent-Replayed: true``); the same key with another request is
   ``422 idempotency_key_reused``; a key whose first request has not answered
   (still running, or its answer was lost) is ``409 idempotency_key_in_use``;
3. otherwise runs the handler with the key claimed in its transaction
   (:func:`helpdesk.idempotency.claim_in_transaction`), and stores its answer
   (not a 5xx) before sending it.

A route opts out with ``opt={"idempotency_exempt": True}`` (e.g. one whose
answer holds a secret that must not be stored). Answers are buffered, so
the routes under ``/api/v1`` must not stream their write responses.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.config.app import AppConfig
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.openapi.spec import Operation, Parameter, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.plugins import InitPlugin, ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from helpdesk import idempotency
from helpdesk.policy import Principal
from helpdesk.web.clients import client_address

__all__ = [
    "HEADER",
    "REPLAYED_HEADER",
    "IdempotencyMiddleware",
    "IdempotencyPlugin",
    "IdempotentOperation",
]

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
API_PREFIX = "/api/v1/"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXEMPT_OPT_KEY = "idempotency_exempt"
_KEPT_HEADERS = (b"content-type", b"location")


def _applies(scope: Scope) -> bool:
    return scope.get("method") in WRITE_METHODS and scope["path"].startswith(API_PREFIX)


def _key_scope(request: Request[Any, Any, Any]) -> str:
    """Whose key it is: the authenticated caller, else the client's address."""
    principal = request.state.get("principal")
    if isinstance(principal, Principal) and principal.id is not None:
        return f"{principal.kind}:{principal.id}"
    return f"public:{client_address(request)}"


def _target(scope: Scope) -> str:
    query = scope.get("query_string", b"")
    return scope["path"] + ("?" + query.decode("latin-1") if query else "")


class _Recorder:
    """Holds the handler's answer back, so it is stored before it is sent."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def send(self, message: Message) -> None:
        """Keep ``message`` instead of sending it."""
        self.messages.append(message)

    def response(self) -> idempotency.StoredResponse:
        """The recorded answer (a 500 when the handler sent none)."""
        status, headers, body = 500, {}, b""
        for message in self.messages:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = {name.lower(): value for name, value in message.get("headers", [])}
            elif message["type"] == "http.response.body":
                body += message.get("body", b"")
        kept = {name: headers[name].decode("latin-1") for name in _KEPT_HEADERS if name in headers}
        return idempotency.StoredResponse(
            status_code=status,
            body=body,
            content_type=kept.get(b"content-type"),
            location=kept.get(b"location"),
        )

    async def flush(self, send: Send) -> None:
        """Send what was kept, in order."""
        for message in self.messages:
            await send(message)


async def _send_replay(send: Send, stored: idempotency.StoredResponse) -> None:
    headers = [
        (b"content-length", str(len(stored.body)).encode()),
        (REPLAYED_HEADER.lower().encode(), b"true"),
    ]
    if stored.content_type:
        headers.append((b"content-type", stored.content_type.encode("latin-1")))
    if stored.location:
        headers.append((b"location", stored.location.encode("latin-1")))
    await send({"type": "http.response.start", "status": stored.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body, "more_body": False})


class IdempotencyMiddleware(ASGIMiddleware):
    """Replays repeated writes under ``/api/v1`` and stores first answers (see the module)."""

    scopes = (ScopeType.HTTP,)
    exclude_opt_key = EXEMPT_OPT_KEY

    @staticmethod
    def should_bypass_for_scope(scope: Scope) -> bool:
        """Only writes under ``/api/v1`` are concerned."""
        return not _applies(scope)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Replay, or run the handler with the key claimed and store its answer."""
        request: Request[Any, Any, Any] = Request(scope, receive, send)
        raw_key = request.headers.get(HEADER)
        if raw_key is None:
            await next_app(scope, receive, send)
            return
        await request.route_handler.authorize_connection(request)
        key = idempotency.parse_key(raw_key)
        key_scope = _key_scope(request)
        fingerprint = idempotency.request_fingerprint(
            request.method, _target(scope), await request.body()
        )
        record = await idempotency.lookup(key_scope, key)
        if record is not None:
            await _send_replay(send, idempotency.replay_of(record, fingerprint))
            return
        await self._first(scope, receive, send, next_app, key_scope, key, fingerprint)

    async def _first(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        next_app: ASGIApp,
        key_scope: str,
        key: str,
        fingerprint: str,
    ) -> None:
        """The first request with the key: run it, store its answer, send it."""
        claim = idempotency.claim_in_transaction(key_scope, key, fingerprint)
        recorder = _Recorder()
        try:
            await next_app(scope, receive, recorder.send)
        finally:
            claim.release()
        if claim.conflicted:  # a concurrent twin made the change: replay it if answered
            record = await idempotency.lookup(key_scope, key)
            if record and record.fingerprint == fingerprint and record.response:
                await _send_replay(send, record.response)
                return
        try:
            await idempotency.store_response(claim, recorder.response())
        except Exception:  # the change is made: answer it even if the answer cannot be kept
            logger.exception("could not store the answer of idempotency key %r", key)
        await recorder.flush(send)


def idempotency_parameter() -> Parameter:
    """The OpenAPI description of the optional ``Idempotency-Key`` header."""
    return Parameter(
        name=HEADER,
        param_in="header",
        required=False,
        schema=Schema(
            type=OpenAPIType.STRING,
            min_length=1,
            max_length=idempotency.MAX_KEY_LENGTH,
            pattern=r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$",
        ),
        description=(
            "Makes the request safe to retry: the first answer (below 500) is kept with the "
            "key for at least 24 hours and returned again, with `Idempotent-Replayed: true`, "
            "for a repeat with the same method, path and body; the change is made once. The "
            "same key with another request is `422 idempotency_key_reused`; a key whose first "
            "request has not answered is `409 idempotency_key_in_use`; an invalid key is "
            "`400 idempotency_key_invalid`. Keys belong to the caller (the token's agent, or "
            "the client address on public routes). Use a new random key (e.g. a UUID) per "
            "operation."
        ),
        example="3f9c6d2e-8a41-4c7b-9d0e-5b2a7f1c8e43",
    )


@dataclass
class IdempotentOperation(Operation):
    """An OpenAPI operation that documents the ``Idempotency-Key`` header."""

    def __post_init__(self) -> None:
        self.parameters = [*(self.parameters or []), idempotency_parameter()]


class IdempotencyPlugin(InitPlugin, ReceiveRoutePlugin):
    """Installs :class:`IdempotencyMiddleware` and documents the header on the
    write operations it serves."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Add the middleware to the app."""
        app_config.middleware.append(IdempotencyMiddleware())
        return app_config

    def receive_route(self, route: BaseRoute) -> None:
        """Document the header on the route's write operations under ``/api/v1``."""
        if not isinstance(route, HTTPRoute) or not route.path.startswith(API_PREFIX):
            return
        for handler in route.route_handlers:
            if (
                handler.http_methods & WRITE_METHODS
                and not handler.opt.get(EXEMPT_OPT_KEY)
                and handler.operation_class is Operation
            ):
                handler.operation_class = IdempotentOperation
