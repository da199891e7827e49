"""The email channel: reading inbound mail into plain Structs.

:func:`parse_mail` is the entry point; it never touches the database or the
network. Sending mail is not done here.
"""

from helpdesk.channels.email.parse import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_LINE_LENGTH,
    UnparseableMail,
    parse_mail,
)
from helpdesk.channels.email.quoting import is_forwarded, split_quoted
from helpdesk.channels.email.schemas import Bounce, BouncedRecipient, ParsedAttachment, ParsedMail

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_LINE_LENGTH",
    "Bounce",
    "BouncedRecipient",
    "ParsedAttachment",
    "ParsedMail",
    "UnparseableMail",
    "is_forwarded",
    "parse_mail",
    "split_quoted",
]
