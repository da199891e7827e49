"""What customers read for a case's status and for a language.

The customer's side has its own status names (issue 15): an agent's
"pending" is, for the customer, a request waiting for *their* reply, and the
agent-only distinctions (new, open, on hold) all read "In progress". The
console keeps its own labels (``agent_console._labels``). Languages are shown
by their own name ("Tiếng Việt", "English") in every interface language.
"""

from __future__ import annotations

from helpdesk.domain import Status


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a string for extraction; it is translated where it is shown."""
    return message


IN_PROGRESS = N_("In progress")

CUSTOMER_STATUS_LABELS: dict[str, str] = {
    Status.NEW: IN_PROGRESS,
    Status.OPEN: IN_PROGRESS,
    Status.PENDING: N_("Waiting for your reply"),
    Status.ON_HOLD: IN_PROGRESS,
    Status.SOLVED: N_("Solved"),
    Status.CLOSED: N_("Closed"),
}
"""The msgid a customer reads for each status (translate it where shown)."""

LANGUAGE_NAMES: dict[str, str] = {"vi": "Tiếng Việt", "en": "English"}
"""Each language by its own name, the same in every interface language."""


def customer_status_label(status: str) -> str:
    """The msgid (untranslated) a customer reads for ``status``."""
    return CUSTOMER_STATUS_LABELS.get(status, IN_PROGRESS)


def language_name(code: str | None) -> str:
    """The name of the language ``code`` in that language (the code if unknown)."""
    return LANGUAGE_NAMES.get(code or "", code or "")
