"""Posted settings forms (agents, teams, mailboxes, routing rules) as the domain's Structs.

Anything that does not fit raises :class:`~helpdesk.errors.ValidationError`:
:class:`agent_console._form_errors.FormInvalid` with a message for every bad
field at once, which the page shows beside each field in the reader's language.
:class:`Typed` keeps what was typed (or what is stored) to fill a form again;
passwords never go into it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from litestar.datastructures import FormMultiDict

from agent_console._form_errors import Errors, convert_all
from helpdesk.channels.email.mailboxes import MailboxIn, MailboxOut, MailboxUpdate
from helpdesk.errors import ValidationError
from helpdesk.routing.schemas import RuleIn, RuleOut, RuleUpdate, TeamRoutingIn, TeamRoutingOut
from helpdesk.schemas import AgentIn, AgentOut, AgentUpdate, TeamIn, TeamOut, TeamUpdate

SECRET_FIELDS = frozenset({"_csrf", "password", "imap_password", "smtp_password"})
MAX_VALUE = 5000
_WORDS = re.compile(r"[\s,]+")
_PHRASES = re.compile(r"[,\n]+")


class Typed:
    """A form's values by field name (several for checkboxes), for showing it again."""

    def __init__(self, values: Mapping[str, Iterable[Any]] | None = None) -> None:
        self.values = {k: [str(v) for v in vs if v is not None] for k, vs in (values or {}).items()}

    @classmethod
    def of_form(cls, form: FormMultiDict) -> Typed:
        """What was posted, passwords and the CSRF token left out."""
        values: dict[str, list[str]] = {}
        for name, value in form.multi_items():
            if isinstance(value, str) and name not in SECRET_FIELDS:
                values.setdefault(name, []).append(value[:MAX_VALUE])
        return cls(values)

    def get(self, name: str, default: str = "") -> str:
        """The field's (first) value."""
        found = self.values.get(name)
        return found[0] if found else default

    def has(self, name: str, value: object) -> bool:
        """True when ``value`` is one of the field's values (a ticked box, a chosen option)."""
        return str(value) in self.values.get(name, [])


def text(form: FormMultiDict, name: str) -> str:
    """A text field, trimmed ("" when absent)."""
    value = form.get(name)
    return value.strip()[:MAX_VALUE] if isinstance(value, str) else ""


def ticked(form: FormMultiDict, name: str) -> bool:
    """Whether a checkbox was ticked."""
    return bool(text(form, name))


def chosen(form: FormMultiDict, name: str) -> list[str]:
    """Every value of a multi-value field (checkboxes), without blanks."""
    return [v.strip() for v in form.getall(name, []) if isinstance(v, str) and v.strip()]


def words(value: str) -> list[str]:
    """Words separated by commas, spaces or lines, in order, without repeats."""
    return list(dict.fromkeys(w for w in _WORDS.split(value) if w))


def phrases(value: str) -> list[str]:
    """Phrases separated by commas or lines (keywords may hold spaces)."""
    return list(dict.fromkeys(p.strip() for p in _PHRASES.split(value) if p.strip()))


def ids(value: str, field: str) -> list[int]:
    """Positive whole numbers separated by commas or spaces."""
    result = []
    for word in words(value):
        if not (word.isascii() and word.isdigit() and 0 < len(word) <= 10):
            raise ValidationError(f"{field}: {word!r} is not an id", field=field)
        result.append(int(word))
    return result


def convert(data: dict[str, Any], type_: type[Any]) -> Any:
    """``data`` as ``type_``; every mismatched field is reported at once
    (:class:`agent_console._form_errors.FormInvalid`, a ValidationError)."""
    return convert_all(data, type_, {"team_id": "team"})


def _or_none(value: str) -> str | None:
    return value or None


# --- agents ------------------------------------------------------------------------


AGENT_FIELDS = {"member_ids": "members"}
RULE_FIELDS = {
    "conditions.mailbox_ids": "mailboxes",
    "conditions.organization_ids": "organizations",
    "actions.team_id": "team",
    "actions.assignee_id": "assignee",
    "actions.add_tags": "add_tags",
}


def checked_ids(errors: Errors, value: str, field: str) -> list[int]:
    """:func:`ids`, a refusal noted in ``errors`` (then no ids)."""
    return errors.check(field, ids, value, field) or []


def _agent_fields(form: FormMultiDict) -> dict[str, Any]:
    data = {
        "name": text(form, "name"),
        "languages": chosen(form, "languages"),
        "skills": words(text(form, "skills")),
        "capacity": text(form, "capacity") or "10",
    }
    if text(form, "role"):
        data["role"] = text(form, "role")
    return data


def agent_in(form: FormMultiDict) -> AgentIn:
    """A new member of staff; no password: they cannot sign in to the console yet."""
    data = {**_agent_fields(form), "email": text(form, "email")}
    data["password"] = _or_none(text(form, "password"))
    result: AgentIn = convert_all(data, AgentIn, AGENT_FIELDS)
    return result


def agent_update(form: FormMultiDict) -> AgentUpdate:
    """Every field of the edit form; a password only when one was typed."""
    data = {**_agent_fields(form), "active": ticked(form, "active")}
    if text(form, "password"):
        data["password"] = text(form, "password")
    result: AgentUpdate = convert_all(data, AgentUpdate, AGENT_FIELDS)
    return result


def team_choice(form: FormMultiDict) -> list[int]:
    """The teams ticked in an agent's form."""
    return sorted(set(ids(" ".join(chosen(form, "teams")), "teams")))


def version(form: FormMultiDict) -> str:
    """The version an edit form was shown with (a hidden field); a form without one
    is refused, as it could overwrite a change it never saw."""
    value = text(form, "version")
    if not value:
        raise ValidationError("version: missing (reload the page)", field="version")
    return value


def agent_values(agent: AgentOut, version: str = "") -> Typed:
    """A stored agent as the form shows it, with the version it is shown with."""
    return Typed(
        {
            "version": [version],
            "name": [agent.name],
            "email": [agent.email],
            "role": [agent.role],
            "languages": agent.languages,
            "skills": [", ".join(agent.skills)],
            "capacity": [agent.capacity],
            "active": ["on"] if agent.active else [],
            "teams": agent.team_ids,
        }
    )


# --- teams -------------------------------------------------------------------------


def _team_fields(form: FormMultiDict, errors: Errors) -> dict[str, Any]:
    return {
        "name": text(form, "name"),
        "description": text(form, "description"),
        "is_default": ticked(form, "is_default"),
        "member_ids": checked_ids(errors, " ".join(chosen(form, "members")), "members"),
    }


def team_in(form: FormMultiDict) -> TeamIn:
    """A new team with its members."""
    errors = Errors()
    result: TeamIn = convert_all(_team_fields(form, errors), TeamIn, AGENT_FIELDS, errors)
    return result


def team_update(form: FormMultiDict) -> TeamUpdate:
    """Every field of a team's form (the members replace the membership)."""
    errors = Errors()
    result: TeamUpdate = convert_all(_team_fields(form, errors), TeamUpdate, AGENT_FIELDS, errors)
    return result


def team_form(form: FormMultiDict, *, new: bool) -> tuple[Any, TeamRoutingIn]:
    """A team's fields (TeamIn when ``new``, else TeamUpdate) and its routing,
    checked together: every bad field of both is reported at once."""
    errors = Errors()
    team = errors.check("name", team_in if new else team_update, form)
    routing = errors.check("strategy", team_routing, form)
    errors.raise_if_any()
    if team is None or routing is None:  # pragma: no cover - no error means both parsed
        raise ValidationError("team form: nothing parsed")
    return team, routing


def team_routing(form: FormMultiDict) -> TeamRoutingIn:
    """How the team assigns its cases."""
    data = {
        "strategy": text(form, "strategy") or "manual",
        "required_skill": _or_none(text(form, "required_skill")),
        "prefer_case_language": ticked(form, "prefer_case_language"),
        "requeue_on_unavailable": ticked(form, "requeue_on_unavailable"),
    }
    result: TeamRoutingIn = convert_all(data, TeamRoutingIn)
    return result


def team_values(team: TeamOut | None, routing: TeamRoutingOut | None, version: str = "") -> Typed:
    """A stored team (and its routing, when shown) as the form shows it, with the
    version it is shown with."""
    values: dict[str, list[Any]] = {
        "strategy": ["manual"],
        "prefer_case_language": ["on"],
        "version": [version],
    }
    if team is not None:
        values |= {
            "name": [team.name],
            "description": [team.description],
            "is_default": ["on"] if team.is_default else [],
            "members": team.member_ids,
        }
    if routing is not None:
        values |= {
            "strategy": [routing.strategy],
            "required_skill": [routing.required_skill or ""],
            "prefer_case_language": ["on"] if routing.prefer_case_language else [],
            "requeue_on_unavailable": ["on"] if routing.requeue_on_unavailable else [],
        }
    return Typed(values)


# --- mailboxes ---------------------------------------------------------------------

_MAILBOX_TEXT = ("name", "imap_host", "imap_user", "imap_folder", "smtp_user")
_MAILBOX_CHOICES = ("imap_port", "imap_security", "smtp_port", "smtp_security")


def _mailbox_fields(form: FormMultiDict) -> dict[str, Any]:
    data: dict[str, Any] = {name: text(form, name) for name in _MAILBOX_TEXT}
    data |= {name: text(form, name) for name in _MAILBOX_CHOICES if text(form, name)}
    if not data["imap_folder"]:  # INBOX for a new mailbox, else the stored folder
        del data["imap_folder"]
    team = text(form, "team")
    data["team_id"] = team or None
    data["auto_acknowledge"] = ticked(form, "auto_acknowledge")
    data["active"] = ticked(form, "active")
    for secret in ("imap_password", "smtp_password"):
        value = form.get(secret)
        if isinstance(value, str) and value:
            data[secret] = value
    return data


def mailbox_in(form: FormMultiDict) -> MailboxIn:
    """A new mailbox (the IMAP password may be left empty, and set later)."""
    data = _mailbox_fields(form) | {"address": text(form, "address")}
    data.setdefault("imap_password", "")
    data["smtp_host"] = _or_none(text(form, "smtp_host"))
    result: MailboxIn = convert(data, MailboxIn)
    return result


def mailbox_update(form: FormMultiDict) -> MailboxUpdate:
    """A mailbox's form; an empty password or SMTP host keeps the stored one."""
    data = _mailbox_fields(form)
    if text(form, "smtp_host"):
        data["smtp_host"] = text(form, "smtp_host")
    result: MailboxUpdate = convert(data, MailboxUpdate)
    return result


def mailbox_values(mailbox: MailboxOut | None) -> Typed:
    """A stored mailbox as the form shows it (never its passwords)."""
    if mailbox is None:
        return Typed({"imap_folder": ["INBOX"], "auto_acknowledge": ["on"], "active": ["on"]})
    values: dict[str, list[Any]] = {
        name: [getattr(mailbox, name)]
        for name in (*_MAILBOX_TEXT, *_MAILBOX_CHOICES, "address", "smtp_host")
    }
    values["team"] = [mailbox.team_id] if mailbox.team_id else []
    values["auto_acknowledge"] = ["on"] if mailbox.auto_acknowledge else []
    values["active"] = ["on"] if mailbox.active else []
    return Typed(values)


# --- routing rules -----------------------------------------------------------------


def _rule_fields(form: FormMultiDict, errors: Errors) -> dict[str, Any]:
    conditions = {
        "channels": chosen(form, "channels"),
        "mailbox_ids": checked_ids(errors, " ".join(chosen(form, "mailboxes")), "mailboxes"),
        "organization_ids": checked_ids(errors, text(form, "organizations"), "organizations"),
        "languages": chosen(form, "languages"),
        "keywords": phrases(text(form, "keywords")),
        "tags": words(text(form, "tags")),
        "priorities": chosen(form, "priorities"),
    }
    actions = {
        "team_id": _or_none(text(form, "team")),
        "priority": _or_none(text(form, "priority")),
        "add_tags": words(text(form, "add_tags")),
        "assignee_id": _or_none(text(form, "assignee")),
        "required_skill": _or_none(text(form, "required_skill")),
    }
    data: dict[str, Any] = {
        "name": text(form, "name"),
        "enabled": ticked(form, "enabled"),
        "conditions": conditions,
        "actions": actions,
    }
    if text(form, "position"):
        data["position"] = text(form, "position")
    return data


def rule_in(form: FormMultiDict) -> RuleIn:
    """A new rule; without a position it goes last."""
    errors = Errors()
    result: RuleIn = convert_all(_rule_fields(form, errors), RuleIn, RULE_FIELDS, errors)
    return result


def rule_update(form: FormMultiDict) -> RuleUpdate:
    """Every field of a rule's form (conditions and actions replaced whole)."""
    errors = Errors()
    result: RuleUpdate = convert_all(_rule_fields(form, errors), RuleUpdate, RULE_FIELDS, errors)
    return result


def enabled_choice(form: FormMultiDict) -> RuleUpdate:
    """Turning a rule on ("1") or off (anything else)."""
    return RuleUpdate(enabled=text(form, "enabled") == "1")


def _joined(values: Sequence[Any]) -> list[str]:
    return [", ".join(str(v) for v in values)]


def rule_values(rule: RuleOut | None) -> Typed:
    """A stored rule as the form shows it."""
    if rule is None:
        return Typed({"enabled": ["on"]})
    c, a = rule.conditions, rule.actions
    return Typed(
        {
            "name": [rule.name],
            "position": [rule.position],
            "enabled": ["on"] if rule.enabled else [],
            "channels": c.channels,
            "mailboxes": c.mailbox_ids,
            "organizations": _joined(c.organization_ids),
            "languages": c.languages,
            "keywords": _joined(c.keywords),
            "tags": _joined(c.tags),
            "priorities": c.priorities,
            "team": [a.team_id] if a.team_id else [],
            "priority": [a.priority] if a.priority else [],
            "add_tags": _joined(a.add_tags),
            "assignee": [a.assignee_id] if a.assignee_id else [],
            "required_skill": [a.required_skill or ""],
        }
    )


__all__ = [
    "Typed",
    "agent_in",
    "agent_update",
    "agent_values",
    "checked_ids",
    "chosen",
    "convert",
    "enabled_choice",
    "ids",
    "mailbox_in",
    "mailbox_update",
    "mailbox_values",
    "phrases",
    "rule_in",
    "rule_update",
    "rule_values",
    "team_choice",
    "team_form",
    "team_in",
    "team_routing",
    "team_update",
    "team_values",
    "text",
    "ticked",
    "version",
    "words",
]
