"""The shape of one demo conversation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, kw_only=True)
class Story:
    """A typical case: the customer's opening message, the agent's first reply,
    the customer's answer, the agent's closing reply and an internal note.

    Texts may use the placeholders ``{customer}`` (full name), ``{first}``
    (given name), ``{email}``, ``{org}``, ``{agent}``, ``{signature}``,
    ``{ref}`` (not in the subject or opening: the case has no number yet),
    ``{order}``, ``{invoice}``, ``{amount}`` and ``{month}``.
    """

    key: str
    language: Literal["vi", "en"]
    team: Literal["support", "billing"]
    subject: str
    opening: str
    reply: str
    follow_up: str
    resolution: str
    note: str
    tags: tuple[str, ...]
    attachment: tuple[str, str] | None = None  # (filename, text content)
