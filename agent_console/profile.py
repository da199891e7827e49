"""The signed-in agent's own profile: name, languages, signature, API tokens, password.

``/console/profile`` shows who is signed in, their API tokens (never a token
itself: only its hash is stored) each with a button that revokes it, and a
form that changes the password, which needs the current one
(:func:`helpdesk.services.agents.change_password`). Revoking a token clears
this process's API principal cache at once; other web processes follow within
its TTL (:mod:`helpdesk.api.auth`). The signature (Markdown) is appended to
the agent's replies, never to notes (:mod:`helpdesk.services.signatures`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Template

from agent_console._forms import text
from agent_console._pages import PathId, done, render, request_locale
from helpdesk.api.auth import invalidate_principals
from helpdesk.errors import HelpdeskError, ValidationError
from helpdesk.i18n import translator
from helpdesk.policy import Principal
from helpdesk.ratelimit import RateLimitedError
from helpdesk.services import agents, api_tokens, signatures, workspace
from helpdesk.services.agents import CurrentPasswordRequiredError, CurrentPasswordWrongError

AnyRequest = Request[Any, Any, Any]
PROFILE_URL = "/console/profile"


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


PASSWORD_CHANGED = N_("Your password was changed.")
TOKEN_REVOKED = N_("The API token was revoked.")
SIGNATURE_SAVED = N_("Your signature was saved.")
SIGNATURE_TOO_LONG = N_("A signature may have at most 2,000 characters.")
PASSWORD_ERRORS: dict[str, str] = {
    CurrentPasswordRequiredError.code: N_(
        "Type your current password. If you have none yet, ask an administrator to set one."
    ),
    CurrentPasswordWrongError.code: N_("The current password is not right."),
    ValidationError.code: N_(
        "The new password must have 8 to 200 characters, typed the same twice."
    ),
    RateLimitedError.code: N_("Too many attempts. Please wait a few minutes and try again."),
}


def _me(principal: Principal) -> int:
    if principal.id is None:  # the console signs in agents only
        raise ValidationError("not an agent")
    return principal.id


async def _profile_page(
    request: AnyRequest,
    principal: Principal,
    *,
    status_code: int = 200,
    error: str | None = None,
    signature_error: str | None = None,
    signature: str | None = None,
) -> Template:
    agent_id = _me(principal)
    _ = translator(request_locale(request))
    return render(
        request,
        "console/profile.html",
        status_code=status_code,
        header=await workspace.header(principal),
        agent=await agents.get_agent(principal, agent_id),
        tokens=await api_tokens.list_tokens(principal, agent_id),
        error=_(error) if error else None,
        signature=await signatures.my_signature(principal) if signature is None else signature,
        signature_error=_(signature_error) if signature_error else None,
        signature_max=signatures.MAX_SIGNATURE,
    )


@get("/profile", include_in_schema=False)
async def profile_page(request: AnyRequest, principal: NamedDependency[Principal]) -> Template:
    """The signed-in agent's name, languages, API tokens and password form."""
    return await _profile_page(request, principal)


@post("/profile/password", include_in_schema=False)
async def change_password(
    request: AnyRequest, principal: NamedDependency[Principal]
) -> Response[Any]:
    """Change the signed-in agent's password, with the current one."""
    form = await request.form()
    new, again = text(form, "new_password")[:300], text(form, "confirm_password")[:300]
    try:
        if new != again:
            raise ValidationError("the two new passwords differ", field="confirm_password")
        await agents.change_password(
            principal, _me(principal), new, text(form, "current_password")[:300]
        )
    except HelpdeskError as exc:
        message = PASSWORD_ERRORS.get(exc.code)
        if message is None:
            raise
        return await _profile_page(request, principal, status_code=exc.status, error=message)
    return done(request, PROFILE_URL, PASSWORD_CHANGED)


@post("/profile/tokens/{token_id:int}/revoke", include_in_schema=False)
async def revoke_token(
    request: AnyRequest, principal: NamedDependency[Principal], token_id: PathId
) -> Response[Any]:
    """Revoke one of the signed-in agent's API tokens."""
    await api_tokens.revoke_token(principal, _me(principal), token_id)
    invalidate_principals(request)
    return done(request, PROFILE_URL, TOKEN_REVOKED)


@post("/profile/signature", include_in_schema=False)
async def change_signature(
    request: AnyRequest, principal: NamedDependency[Principal]
) -> Response[Any]:
    """Save the signed-in agent's signature (blank removes it)."""
    form = await request.form()
    typed = text(form, "signature")[:20_000]
    try:
        await signatures.set_my_signature(principal, typed)
    except ValidationError as exc:
        return await _profile_page(
            request,
            principal,
            status_code=exc.status,
            signature_error=SIGNATURE_TOO_LONG,
            signature=typed,
        )
    return done(request, PROFILE_URL, SIGNATURE_SAVED)
