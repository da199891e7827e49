"""The people pages' forms, turned into the domain's Structs; dates for people.

Anything that does not fit raises :class:`~helpdesk.errors.ValidationError`
(a form error on the page, never a 500).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from babel.dates import format_datetime
from litestar.datastructures import FormMultiDict

from agent_console._forms import text
from agent_console._pages import AnyRequest, request_locale, settings_of
from helpdesk.errors import ValidationError
from helpdesk.i18n import TZ_COOKIE, viewer_timezone
from helpdesk.schemas import OrganizationUpdate
from helpdesk.services.customer_profiles import AddressIn, AssistedCaseIn, ProfileUpdate

MAX_ID = 2**31 - 1
PATTERNS = {"vi": ("dd/MM/yyyy", "dd/MM/yyyy HH:mm"), "en": ("d MMM yyyy", "d MMM yyyy, HH:mm")}


def _convert(data: dict[str, Any], type_: type[Any]) -> Any:
    try:
        return msgspec.convert(data, type_, strict=False)
    except msgspec.ValidationError as exc:
        raise ValidationError(f"invalid form: {exc}") from exc


def form_id(value: str) -> int | None:
    """A positive 32-bit id typed or chosen in a form ("#12" too), else None."""
    value = value.strip().lstrip("#")
    if value.isascii() and value.isdigit() and 0 < len(value) <= 10 and 0 < int(value) <= MAX_ID:
        return int(value)
    return None


def _organization(form: FormMultiDict) -> int | None:
    value = text(form, "organization").strip()
    if not value:
        return None
    chosen = form_id(value)
    if chosen is None:
        raise ValidationError("not an organization", field="organization")
    return chosen


def profile_update(form: FormMultiDict) -> ProfileUpdate:
    """Name, phone, language, organization ("" for none) and notes of a customer."""
    data = {
        "name": text(form, "name").strip(),
        "phone": text(form, "phone").strip(),
        "locale": text(form, "locale"),
        "organization_id": _organization(form),
        "notes": text(form, "notes").replace("\r\n", "\n"),
    }
    result: ProfileUpdate = _convert(data, ProfileUpdate)
    return result


def address_in(form: FormMultiDict) -> AddressIn:
    """An email address typed to add to a customer."""
    result: AddressIn = _convert({"address": text(form, "address").strip()}, AddressIn)
    return result


def organization_update(form: FormMultiDict) -> OrganizationUpdate:
    """Name, domains (separated by spaces, commas or lines) and notes of an organization."""
    domains = [d for d in text(form, "domains").replace(",", " ").split() if d]
    data = {
        "name": text(form, "name").strip(),
        "domains": domains,
        "notes": text(form, "notes").replace("\r\n", "\n"),
    }
    result: OrganizationUpdate = _convert(data, OrganizationUpdate)
    return result


def assisted_case(form: FormMultiDict) -> AssistedCaseIn:
    """A case for a customer: the customer chosen (``customer``) or typed in
    (``new_name`` with ``new_email`` and/or ``new_phone``), and the case."""
    data: dict[str, Any] = {
        "subject": text(form, "subject").strip(),
        "body": text(form, "body").replace("\r\n", "\n"),
        "channel": text(form, "channel") or "phone",
        "as_note": text(form, "as_note") == "on",
        "priority": text(form, "priority") or "normal",
        "team_id": form_id(text(form, "team")),
    }
    chosen = text(form, "customer").strip()
    if chosen:
        data["customer_id"] = form_id(chosen)
        if data["customer_id"] is None:
            raise ValidationError("not a customer", field="customer")
    elif text(form, "new_name").strip():
        new: dict[str, Any] = {
            "name": text(form, "new_name").strip(),
            "phone": text(form, "new_phone").strip(),
            "locale": text(form, "new_locale") or "vi",
        }
        if text(form, "new_email").strip():
            new["email"] = text(form, "new_email").strip()
        data["new_customer"] = new
    result: AssistedCaseIn = _convert(data, AssistedCaseIn)
    return result


def date_helpers(request: AnyRequest) -> dict[str, Any]:
    """``day(value)`` and ``moment(value)`` in the viewer's language and time zone:
    ``dd/mm/yyyy`` and ``dd/mm/yyyy HH:MM`` for Vietnamese readers."""
    locale = request_locale(request)
    zone = viewer_timezone(request.cookies.get(TZ_COOKIE), settings_of(request).timezone)
    date_pattern, time_pattern = PATTERNS.get(locale, PATTERNS["vi"])

    def pattern(chosen: str) -> Callable[[datetime | None], str]:
        def show(value: datetime | None) -> str:
            if value is None:
                return ""
            return format_datetime(value, chosen, tzinfo=ZoneInfo(zone), locale=locale)

        return show

    return {"day": pattern(date_pattern), "moment": pattern(time_pattern)}
