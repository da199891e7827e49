"""The chat widget's texts, translated on the server and sent in its ``hello``.

The script carries no strings of its own: every label comes from here, in
the language the embedding page asked for (``data-lang`` or ``<html lang>``).
"""

from __future__ import annotations

from helpdesk.i18n import translator


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a string for extraction; it is translated where it is sent."""
    return message


TEXTS = {
    "button": N_("Chat with us"),
    "title": N_("Live chat"),
    "close": N_("Close"),
    "intro": N_("Hello! Leave your name and email, then write your question."),
    "offline_intro": N_(
        "No one is available to chat right now. Leave us a message and we will reply by email."
    ),
    "name": N_("Your name"),
    "email": N_("Email"),
    "message": N_("Message"),
    "start": N_("Start chat"),
    "send_request": N_("Send request"),
    "placeholder": N_("Type a message…"),
    "send": N_("Send"),
    "typing": N_("{name} is typing…"),
    "you": N_("You"),
    "email_transcript": N_("Email me the transcript"),
    "transcript_queued": N_("The transcript is on its way to your email."),
    "verification_sent": N_(
        "We send transcripts only to a confirmed email address. We have sent a confirmation "
        "link to the address you gave: open it, then ask for the transcript again."
    ),
    "request_received": N_("Thank you! We received your request. Case number: {reference}"),
    "ended": N_("This chat has ended. Thank you!"),
    "new_chat": N_("Start a new chat"),
    "reference": N_("Case number: {reference}"),
    "error": N_("Something went wrong. Please try again."),
    "rate_limited": N_("Too many messages were sent. Please try again later."),
    "invalid": N_("Please fill in every field with a valid value."),
    "no_mailbox": N_("The transcript cannot be sent by email right now."),
    "disconnected": N_("Connection lost, reconnecting…"),
}

OFFLINE_SUBJECT = N_("Message left in the website chat")


def widget_texts(locale: str) -> dict[str, str]:
    """Every label of the widget in ``locale``."""
    _ = translator(locale)
    return {key: _(text) for key, text in TEXTS.items()}
