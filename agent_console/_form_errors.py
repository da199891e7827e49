"""Errors of the settings forms, field by field, in words people read.

A form is checked whole: :class:`Errors` collects one message per field and
:class:`FormInvalid` carries them all to the page, which shows each beside
its field. msgspec's messages (``Expected `int`, got `str` - at `$.capacity```)
and the services' ``ValidationError`` details are developer text: they are
mapped here to a field name of the form and an English msgid with its values,
translated where the page is rendered. A detail that matches nothing gets a
general message, never the raw text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, get_args, get_type_hints

import msgspec

from agent_console._labels import N_
from helpdesk.errors import ConflictError, HelpdeskError, ValidationError, VersionConflictError
from helpdesk.i18n import Translator
from helpdesk.sla.countries import UnknownCountryError
from helpdesk.sla.entry import EntryError

__all__ = [
    "GENERAL",
    "Errors",
    "FormInvalid",
    "Message",
    "convert_all",
    "field_errors",
    "translated",
]

T = TypeVar("T")
Message = tuple[str, dict[str, Any]]  # an English msgid and its values
GENERAL = "__all__"  # the key of a message about the form as a whole

INVALID = N_("This value is not valid.")
REQUIRED = N_("This field is required.")
ENTRY = {
    "time": N_("“%(text)s” is not a time: write it as 8:00, 08:30, 8h or 8h30."),
    "date": N_("“%(text)s” is not a date: write it as dd/mm/yyyy, such as 16/02/2027."),
    "period": N_("“%(text)s” is not a period: write it as 8:00-12:00 or 8h-12h."),
}
FIELD_WORDS = {
    "email": N_("Enter an email address, such as lan@congty.vn."),
    "address": N_("Enter an email address, such as lan@congty.vn."),
    "password": N_("A password needs 8 to 200 characters."),
    "skills": N_("Skills are single words separated by commas."),
    "tags": N_("Tags are single words separated by commas."),
    "add_tags": N_("Tags are single words separated by commas."),
    "languages": N_("Choose one of the options."),
}
_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_MSGSPEC: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Object missing required field `(?P<name>\w+)`"), REQUIRED),
    (re.compile(r"of length >= 1\b"), REQUIRED),
    (re.compile(r"of length <= (?P<max>\d+)"), N_("Use at most %(max)s characters.")),
    (re.compile(r"of length >= (?P<min>\d+)"), N_("Use at least %(min)s characters.")),
    (re.compile(r"^Expected `int` >= (?P<min>-?\d+)"), N_("Enter a number of at least %(min)s.")),
    (re.compile(r"^Expected `int` <= (?P<max>-?\d+)"), N_("Enter a number of at most %(max)s.")),
    (re.compile(r"^Expected `int( \| null)?`"), N_("Enter a whole number.")),
    (re.compile(r"^Invalid enum value"), N_("Choose one of the options.")),
    (re.compile(r"matching regex"), N_("This value is not in the expected form.")),
)


def _rule(
    pattern: str, msgid: str, field: str | None = None
) -> tuple[re.Pattern[str], str | None, str]:
    return re.compile(pattern), field, msgid


_DETAILS = (  # (a service's detail, the form field it is about or None, the msgid)
    _rule(r"^team \d+ does not exist", N_("This team does not exist any more.")),
    _rule(r"^agent \d+ does not exist", N_("This agent does not exist any more or is inactive.")),
    _rule(r"^unknown teams", N_("Some of the chosen teams do not exist any more."), "teams"),
    _rule(r"^unknown agents", N_("Some of the chosen agents do not exist any more."), "members"),
    _rule(r"^at most \d+ teams", N_("Too many teams are chosen."), "teams"),
    _rule(r"^calendar \d+ does not exist", N_("This business calendar does not exist any more.")),
    _rule(r"ends before it starts", N_("A period ends before it starts.")),
    _rule(r"period .* is empty", N_("A period starts and ends at the same time.")),
    _rule(r"periods .* overlap", N_("Two periods overlap.")),
    _rule(r"not a time of day", N_("A time is not between 00:00 and 24:00.")),
    _rule(
        r"no working time in the week",
        N_("The week has no working time: give at least one period."),
        "hours_mon",
    ),
    _rule(
        r"unknown time zone",
        N_("Unknown time zone: use a name such as Asia/Ho_Chi_Minh."),
        "timezone",
    ),
    _rule(r"is listed twice", N_("A make-up day is listed twice."), "makeup_days"),
    _rule(
        r"also in closed_dates",
        N_("A date cannot be both closed and a make-up working day."),
        "makeup_days",
    ),
    _rule(
        r"would have no working hours",
        N_("A make-up day would have no working hours."),
        "makeup_days",
    ),
    _rule(r"unknown country|subdivision", N_("Choose a country from the list."), "country"),
    _rule(
        r"not a whole number from 0 to (?P<max>\d+)", N_("Enter a whole number from 0 to %(max)s.")
    ),
    _rule(r"is not an id", N_("Choose from the list.")),
    _rule(
        r"^version: missing",
        N_("The form is incomplete: reload the page and make your change again."),
        GENERAL,
    ),
    _rule(r"^an agent with email", N_("An agent with this email address exists already."), "email"),
    _rule(r"^a (team|calendar) named", N_("This name is already in use."), "name"),
)


class FormInvalid(ValidationError):  # noqa: N818 - a form that failed its checks
    """A form with one or more fields refused; ``errors`` maps field → message."""

    code = "form_invalid"

    def __init__(self, errors: Mapping[str, Message]) -> None:
        super().__init__("invalid fields: " + ", ".join(errors))
        self.errors = dict(errors)


class Errors:
    """Collects one message per field while a whole form is checked."""

    def __init__(self) -> None:
        self.found: dict[str, Message] = {}

    def add(self, field: str, msgid: str, **values: Any) -> None:
        """Remember ``msgid`` for ``field`` (the first message of a field wins)."""
        self.found.setdefault(field, (msgid, values))

    def check(self, field: str, parse: Callable[..., T], *args: Any) -> T | None:
        """``parse(*args)``; a refusal is noted against ``field`` and gives None."""
        try:
            return parse(*args)
        except FormInvalid as exc:  # a part of the form, with its own fields
            for name, message in exc.errors.items():
                self.found.setdefault(name, message)
        except HelpdeskError as exc:
            self.found.setdefault(field, describe(exc))
        return None

    def raise_if_any(self) -> None:
        """Raise :class:`FormInvalid` with every message found so far, if any."""
        if self.found:
            raise FormInvalid(self.found)


def describe(exc: HelpdeskError) -> Message:
    """The words for one refused value."""
    if isinstance(exc, EntryError):
        return ENTRY.get(exc.reason, INVALID), {"text": exc.text}
    if isinstance(exc, UnknownCountryError):
        return N_("Choose a country from the list."), {}
    for pattern, _, msgid in _DETAILS:
        match = pattern.search(exc.detail)
        if match:
            return msgid, match.groupdict()
    return INVALID, {}


def _msgspec_message(text: str) -> tuple[str, Message]:
    """(path, message) of a msgspec validation message."""
    found = _PATH.search(text)
    path = found.group("path") if found else ""
    for pattern, msgid in _MSGSPEC:
        match = pattern.search(text)
        if match:
            values = match.groupdict()
            name = values.pop("name", None)
            return (f"{path}.{name}" if name else path), (msgid, values)
    return path, (INVALID, {})


def form_field(path: str, aliases: Mapping[str, str]) -> str:
    """The form's field for a data path (``.conditions.channels[0]`` → ``channels``)."""
    clean = re.sub(r"\[\d+\]", "", path).strip(".")
    parts = clean.split(".") if clean else []
    for size in range(len(parts), 0, -1):
        candidate = ".".join(parts[:size])
        if candidate in aliases:
            return aliases[candidate]
    return parts[-1] if parts else GENERAL


def _struct_in(hint: Any) -> type[msgspec.Struct] | None:
    """The Struct type of a field's type hint (``Conditions | UnsetType`` too)."""
    for candidate in (hint, *get_args(hint)):
        if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct):
            return candidate
    return None


def _check_fields(
    data: Mapping[str, Any],
    type_: type[Any],
    prefix: str,
    errors: Errors,
    aliases: Mapping[str, str],
) -> None:
    """Convert each field of ``data`` alone (nested Structs field by field)."""
    hints = get_type_hints(type_, include_extras=True)
    for name, value in data.items():
        if name not in hints:
            continue
        nested = _struct_in(hints[name])
        if nested is not None and isinstance(value, Mapping):
            _check_fields(value, nested, f"{prefix}{name}.", errors, aliases)
            continue
        try:
            msgspec.convert(value, hints[name], strict=False)
        except msgspec.ValidationError as exc:
            path, message = _msgspec_message(str(exc))
            field = form_field(f"{prefix}{name}{path}", aliases)
            errors.found.setdefault(field, _in_words(field, message))


def _in_words(field: str, message: Message) -> Message:
    if field in FIELD_WORDS and message[0] != REQUIRED:
        return FIELD_WORDS[field], {}
    return message


def convert_all(
    data: dict[str, Any],
    type_: type[T],
    aliases: Mapping[str, str] | None = None,
    errors: Errors | None = None,
) -> T:
    """``data`` as ``type_``; when it does not fit, every field (nested ones
    too) is checked alone so that all bad fields are reported at once, with
    those ``errors`` already found (:class:`FormInvalid`)."""
    errors = errors or Errors()
    try:
        result = msgspec.convert(data, type_, strict=False)
    except msgspec.ValidationError as exc:
        _check_fields(data, type_, "", errors, aliases or {})
        if not errors.found:
            path, message = _msgspec_message(str(exc))
            field = form_field(path, aliases or {})
            errors.found[field] = _in_words(field, message)
        raise FormInvalid(errors.found) from exc
    errors.raise_if_any()
    return result


def field_errors(
    exc: HelpdeskError, aliases: Mapping[str, str] | None = None
) -> dict[str, Message]:
    """The messages by field for an error from a form or a service (a
    conflict only when it is about one field, such as a name in use)."""
    if isinstance(exc, FormInvalid):
        return exc.errors
    if not isinstance(exc, ValidationError | ConflictError) or isinstance(
        exc, VersionConflictError
    ):
        return {}
    if isinstance(exc, ConflictError) and not any(p.search(exc.detail) for p, _, _ in _DETAILS):
        return {}
    msgid, values = describe(exc)
    field = next((f for p, f, _ in _DETAILS if f and p.search(exc.detail)), None)
    if field is None:
        where = exc.extra.get("field")
        field = form_field(str(where), aliases or {}) if where else GENERAL
    return {field: (msgid, values)}


def translated(errors: Mapping[str, Message], _: Translator) -> dict[str, str]:
    """Each field's message in the reader's language."""
    return {field: _(msgid, **values) for field, (msgid, values) in errors.items()}
