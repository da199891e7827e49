"""Bearer-token authentication of the REST API.

Every route of :data:`helpdesk.api.api_router` is guarded by
:func:`authenticate`: a request without ``Authorization: Bearer <token>``,
or with a token that is unknown, revoked or belongs to an inactive agent, is
answered ``401`` with ``WWW-Authenticate: Bearer`` before any parameter is
parsed. The :class:`~helpdesk.policy.Principal` found is handed to the
handlers as the ``principal`` dependency.

Tokens are checked through :func:`helpdesk.services.api_tokens.authenticate_token`
and the result is kept in a small in-process cache (:class:`PrincipalCache`,
keyed by the token's SHA-256, never the token itself) for
:data:`CACHE_TTL_SECONDS`, so most requests pay no query at all to find
their caller (a miss costs three: token, agent, teams).

What the cache does **not** guarantee: a token revoked, an agent deactivated,
or an agent's role or teams changed by *another* process (or directly in the
database) may keep working with the old rights for up to the TTL. Changes
made through this process's API (agents, tokens and teams endpoints) and a
revocation on this process's console profile page clear the cache at once.
Failed look-ups are not cached. Tokens are listed and revoked one by one
through ``/agents/{agent_id}/tokens``, the console's profile page and
``helpdesk tokens``; only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from litestar import Litestar, Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Components, SecurityRequirement, SecurityScheme

from helpdesk.errors import AuthenticationError
from helpdesk.policy import Principal
from helpdesk.services import api_tokens

BEARER_SCHEME = "bearerToken"
CACHE_TTL_SECONDS = 10.0
CACHE_MAX_ENTRIES = 1024
_STATE_KEY = "api_principal_cache"

SECURITY: list[SecurityRequirement] = [{BEARER_SCHEME: []}]


def openapi_components() -> Components:
    """The OpenAPI components of the API: its bearer security scheme."""
    return Components(
        security_schemes={
            BEARER_SCHEME: SecurityScheme(
                type="http",
                scheme="bearer",
                description=(
                    "An agent's API token (`hd_…`), created with "
                    "`POST /api/v1/agents/{agent_id}/tokens` or `helpdesk create-agent`."
                ),
            )
        }
    )


class PrincipalCache:
    """Principals by token digest, each kept for ``ttl`` seconds; at most
    ``max_entries``, the oldest dropped first. Not thread-safe: use it from
    one event loop."""

    def __init__(
        self,
        ttl: float = CACHE_TTL_SECONDS,
        max_entries: int = CACHE_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    def get(self, digest: str) -> Principal | None:
        """The cached principal, or None when absent or expired."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        expires, principal = entry
        if expires <= self.clock():
            del self._entries[digest]
            return None
        return principal

    def put(self, digest: str, principal: Principal) -> None:
        """Remember ``principal`` for the TTL."""
        self._entries.pop(digest, None)
        self._entries[digest] = (self.clock() + self.ttl, principal)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every principal (after a change of agents or teams)."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def principal_cache(app: Litestar) -> PrincipalCache:
    """The app's principal cache, created on first use."""
    cache = app.state.get(_STATE_KEY)
    if not isinstance(cache, PrincipalCache):
        cache = PrincipalCache()
        app.state[_STATE_KEY] = cache
    return cache


def invalidate_principals(request: Request[Any, Any, Any]) -> None:
    """Drop every cached principal of this process, e.g. after a change of
    an agent's role or a team's members. Other processes still wait out the TTL."""
    principal_cache(request.app).clear()


def _bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization")
    if not header:
        raise AuthenticationError("an Authorization: Bearer token is required")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
    return token


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: find the caller from the bearer token, or answer 401."""
    token = _bearer_token(connection)
    digest = hashlib.sha256(token.encode()).hexdigest()
    cache = principal_cache(connection.app)
    principal = cache.get(digest)
    if principal is None:
        principal = await api_tokens.authenticate_token(token)
        cache.put(digest, principal)
    connection.state["principal"] = principal


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """Dependency: the principal :func:`authenticate` found for this request."""
    principal = request.state.get("principal")
    if not isinstance(principal, Principal):  # the guard did not run: a wiring bug
        raise AuthenticationError("not authenticated")
    return principal
