"""The one error hierarchy of the helpdesk.

Every error a user can cause is a :class:`HelpdeskError` with a stable,
machine-readable ``code``. The web layer maps them once to RFC 7807 problem
responses (see :mod:`helpdesk.api.problems`); domain code never builds HTTP
responses itself.
"""

from __future__ import annotations

from typing import Any, ClassVar


class HelpdeskError(Exception):
    """Root of all expected errors. ``status`` is the HTTP status it maps to."""

    code: ClassVar[str] = "helpdesk_error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Request could not be processed"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ConfigError(HelpdeskError):
    """The settings are invalid or incomplete; raised at start-up."""

    code = "config_error"
    status = 500
    title = "Invalid configuration"


class ValidationError(HelpdeskError):
    """Input that is well-formed but not acceptable."""

    code = "validation_error"
    status = 422
    title = "Invalid input"


class NotFoundError(HelpdeskError):
    """The object does not exist, or the caller may not know that it exists."""

    code = "not_found"
    status = 404
    title = "Not found"


class AuthenticationError(HelpdeskError):
    """No valid credentials were given."""

    code = "unauthenticated"
    status = 401
    title = "Authentication required"


class PermissionDeniedError(HelpdeskError):
    """The caller is known but may not do this."""

    code = "permission_denied"
    status = 403
    title = "Permission denied"


class ConflictError(HelpdeskError):
    """The change collides with the current state (stale version, taken case)."""

    code = "conflict"
    status = 409
    title = "Conflict"


class VersionConflictError(ConflictError):
    """Optimistic locking failed: the object changed since the caller read it."""

    code = "version_conflict"
    title = "The object was changed by someone else"


class AlreadyAssignedError(ConflictError):
    """Another agent took the case first."""

    code = "already_assigned"
    title = "The case is already assigned"


class InvalidTransitionError(ConflictError):
    """The status change is not allowed by the case state machine."""

    code = "invalid_transition"
    title = "Status change not allowed"


class AttachmentTooLargeError(HelpdeskError):
    """An attachment is over the configured size limit."""

    code = "attachment_too_large"
    status = 413
    title = "Attachment too large"
