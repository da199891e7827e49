"""The REST API fixtures (``api``) for the knowledge-base API tests."""

from __future__ import annotations

from tests.integration.api.conftest import api, server_errors

__all__ = ["api", "server_errors"]
