"""The security tests use the API tests' running app (``api``: an admin, a manager,
an agent of team A and one of team B, failing the test on any 500)."""

from __future__ import annotations

from tests.integration.api.conftest import Api, api, pytest_configure, server_errors

__all__ = ["Api", "api", "pytest_configure", "server_errors"]
