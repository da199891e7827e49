"""REST API v1 (placeholder router until the controllers land)."""

from __future__ import annotations

from typing import Any

from litestar import Router

api_router = Router(path="/api/v1", route_handlers=[])


def exception_handlers() -> dict[Any, Any]:
    """Map errors to RFC 7807 problem responses."""
    return {}
