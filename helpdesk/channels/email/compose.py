"""Building outbound mails: our Message-IDs, threading headers, bodies from templates.

Every header value is made one line when the message is built
(:func:`helpdesk.text.clean_line`), whatever was stored: a subject, a name or
a file name with CR/LF (from before input was cleaned, or from a path that
does not clean) can neither add a header nor make the mail unsendable.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

import jinja2
import msgspec

from helpdesk.clock import utcnow
from helpdesk.domain import case_reference
from helpdesk.i18n import translator
from helpdesk.text import clean_line

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=False,  # noqa: S701 - plain-text mail bodies, never HTML
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)


class Attachment(msgspec.Struct, frozen=True):
    """A file to attach to an outbound mail."""

    filename: str
    content_type: str
    content: bytes


class Outgoing(msgspec.Struct, frozen=True, kw_only=True):
    """Everything needed to build one outbound mail."""

    message_id: str
    from_address: str
    from_name: str
    to_address: str
    subject: str
    text: str
    html: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    auto_submitted: bool = False


def make_message_id(kind: str, key: int, secret: str, domain: str) -> str:
    """A Message-ID that is the same every time for the same ``kind`` and ``key``.

    Deterministic on purpose: an actor that runs twice builds the same id, and
    the unique index on ``outbound_mail.message_id`` lets only one row exist.
    The HMAC keeps the ids of our mails unguessable.
    """
    tag = hmac.new(secret.encode(), f"{kind}:{key}".encode(), hashlib.sha256).hexdigest()[:16]
    return f"<hd.{kind}.{key}.{tag}@{domain}>"


def subject_with_reference(subject: str, case_id: int) -> str:
    """``Re: subject [#HD-000123]``, without piling up prefixes or references."""
    reference = f"[#{case_reference(case_id)}]"
    base = subject.strip()
    while base.lower().startswith(("re:", "aw:", "tl:", "tr:")):
        base = base[3:].strip()
    base = base.replace(reference, "").strip()
    return f"Re: {base} {reference}".strip()


def render(template: str, locale: str, **values: object) -> tuple[str, str]:
    """The subject and text of an automatic mail in ``locale`` (vi or en).

    ``templates/<template>.txt`` sets ``subject`` and writes the text, every
    sentence through gettext; the caller's ``subject`` (the customer's own
    subject line) reaches the template as ``subject_line``. Text values are
    made one line (:func:`helpdesk.text.clean_line`): a name or subject cannot
    add lines of its own to the mail.
    """
    language = locale if locale in ("vi", "en") else "vi"
    one_line = {k: clean_line(v) if isinstance(v, str) else v for k, v in values.items()}
    context = {"_": translator(language), **one_line}
    context["subject_line"] = context.pop("subject", "")
    module = _TEMPLATES.get_template(f"{template}.txt").make_module(context)
    return str(vars(module)["subject"]).strip(), str(module).strip() + "\n"


_MIME_TYPE = re.compile(r"([A-Za-z0-9][\w.+-]{0,126})/([A-Za-z0-9][\w.+-]{0,126})")


def attachment_type(content_type: str) -> tuple[str, str]:
    """The (maintype, subtype) of an attachment: the stored type when it is a
    plain ``type/subtype``, else ``application/octet-stream`` (a stored value
    never reaches a header as it came)."""
    found = _MIME_TYPE.fullmatch(content_type.strip().lower())
    return (found.group(1), found.group(2)) if found else ("application", "octet-stream")


def build(mail: Outgoing) -> EmailMessage:
    """The MIME message: text (and HTML) alternative, attachments, threading headers.

    Header values (addresses, names, subject, Message-IDs, file names) are made
    one line first (see the module); the bodies are not changed.
    """
    message = EmailMessage()
    message["Message-ID"] = clean_line(mail.message_id)
    message["Date"] = format_datetime(utcnow())
    message["From"] = formataddr((clean_line(mail.from_name), clean_line(mail.from_address)))
    message["To"] = clean_line(mail.to_address)
    message["Subject"] = clean_line(mail.subject)
    if mail.in_reply_to:
        message["In-Reply-To"] = clean_line(mail.in_reply_to)
    if mail.references:
        message["References"] = " ".join(clean_line(key) for key in mail.references)
    if mail.auto_submitted:
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
    message.set_content(mail.text, charset="utf-8")
    if mail.html:
        message.add_alternative(mail.html, subtype="html", charset="utf-8")
    for item in mail.attachments:
        maintype, subtype = attachment_type(item.content_type)
        message.add_attachment(
            item.content, maintype=maintype, subtype=subtype, filename=clean_line(item.filename)
        )
    return message
