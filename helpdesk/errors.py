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


class IdempotencyKeyInvalidError(HelpdeskError):
    """An ``Idempotency-Key`` that is empty, longer than 255 characters or not
    printable ASCII."""

    code = "idempotency_key_invalid"
    status = 400
    title = "Invalid idempotency key"


class IdempotencyKeyReusedError(ValidationError):
    """The idempotency key was used before with a different request."""

    code = "idempotency_key_reused"
    title = "Idempotency key reused for a different request"


class IdempotencyKeyInUseError(ConflictError):
    """The first request with this idempotency key is still running, or its
    change was made but its answer was lost: retry later, or use a new key
    after checking what was done."""

    code = "idempotency_key_in_use"
    title = "Idempotency key in use"


class IdempotencyAnswerLostError(ConflictError):
    """The first request with this idempotency key made its change, but its
    answer was lost (its process died after the commit). ``changes`` lists the
    events of that change, so a client can find what it created."""

    code = "idempotency_answer_lost"
    title = "Idempotency key used; answer lost"


class DatabaseUnavailableError(HelpdeskError, ConnectionError):
    """The database cannot serve the request now: its connection was lost or
    refused, no pooled connection came free in time, a statement ran past its
    timeout, or (SQLite) the file is locked, read-only or failing.

    Answered with 503 and ``Retry-After``; the process keeps serving. It is
    also a :class:`ConnectionError`, so code that treats infrastructure
    failures (``OSError``) as transient — retrying jobs, the mail ingester,
    the CLI's "cannot open the database" — treats it the same way. ``detail``
    (what a client is told) never names the server; ``reason``, also its
    ``str()``, says what happened, for logs and the command line.
    Nothing here promises the failed work was not done: a lost COMMIT may
    have committed.
    """

    code = "database_unavailable"
    status = 503
    title = "Database unavailable"
    retry_after: ClassVar[int] = 5
    """Seconds a client should wait before trying again."""
    default_detail: ClassVar[str] = (
        "The service cannot reach its database right now. Please try again in a moment."
    )
    """Also a msgid of the catalogues, for pages that show it."""

    def __init__(self, detail: str | None = None, *, reason: str = "") -> None:
        detail = detail or self.default_detail
        super().__init__(detail)
        self.reason = reason or detail

    def __str__(self) -> str:
        """The ``reason``: what logs and command-line errors should say."""
        return self.reason
