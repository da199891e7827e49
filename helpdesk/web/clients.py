"""The address a request or websocket came from, for rate limits and records.

It is the connection's peer, unless the server was told to believe a reverse
proxy (``HELPDESK_TRUSTED_PROXIES``): then uvicorn has already put the
client's address from ``X-Forwarded-For`` in its place, and only for
connections from those proxies. Nothing here reads forwarding headers itself,
so no client can choose the address it is counted under.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

__all__ = ["client_address"]


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The client's address (``"unknown"`` when the server gives none)."""
    return connection.client.host if connection.client else "unknown"
