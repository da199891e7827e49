"""The agent's own name, console language and picture (the profile page's first panel).

``POST /console/profile/details`` changes the display name and the language
(also remembered in the language cookie, so the console switches at once;
at each sign-in the agent's language is applied again, see
:func:`apply_language`). ``POST /console/profile/avatar`` takes a picture
(checked by its content, :mod:`helpdesk.services.agent_profile`),
``POST /console/profile/avatar/remove`` goes back to initials, and
``GET /console/agents/{id}/avatar`` shows an agent's picture to signed-in
staff, inline, as the image type found in it and nothing else.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.response import Redirect

from agent_console._forms import text
from agent_console._pages import LANG_COOKIE, ONE_YEAR, PathId, done
from helpdesk.errors import ValidationError
from helpdesk.policy import Principal
from helpdesk.services import agent_profile
from helpdesk.services.agent_profile import ProfileUpdate
from helpdesk.web.previews import preview
from helpdesk.web.sessions import current_session
from helpdesk.web.uploads import uploaded_files

__all__ = ["agent_avatar", "apply_language", "remove_avatar", "save_details", "upload_avatar"]

AnyRequest = Request[Any, Any, Any]
PROFILE_URL = "/console/profile"


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


DETAILS_SAVED = N_("Your name and language were saved.")
AVATAR_SAVED = N_("Your picture was saved.")
AVATAR_REMOVED = N_("Your picture was removed.")
DETAILS_INVALID = N_("Type a name (at most 200 characters) and choose a language.")
AVATAR_INVALID = N_("Choose a PNG, JPEG, GIF or WebP picture of at most 512 KB.")


def apply_language(response: Response[Any], locale: str) -> None:
    """Remember the agent's chosen console language in the browser (none: keep)."""
    if locale:
        response.set_cookie(LANG_COOKIE, locale, max_age=ONE_YEAR, samesite="lax", path="/")


def _failed(request: AnyRequest, message: str) -> Response[Any]:
    """Back to the profile with the reason shown as an error."""
    current_session(request).set_flash("error", message)
    return Redirect(path=PROFILE_URL, status_code=303)


@post("/profile/details", include_in_schema=False)
async def save_details(request: AnyRequest, principal: NamedDependency[Principal]) -> Response[Any]:
    """Change the signed-in agent's display name and console language."""
    form = await request.form()
    locale = text(form, "locale")[:8]
    update = ProfileUpdate(name=text(form, "name")[:300], locale=locale)
    try:
        await agent_profile.update_profile(principal, update)
    except ValidationError:
        return _failed(request, DETAILS_INVALID)
    response = done(request, PROFILE_URL, DETAILS_SAVED)
    apply_language(response, locale)
    return response


@post("/profile/avatar", include_in_schema=False)
async def upload_avatar(
    request: AnyRequest, principal: NamedDependency[Principal]
) -> Response[Any]:
    """Make the uploaded picture the signed-in agent's."""
    form = await request.form()
    try:
        files = await uploaded_files(form, "avatar")
        if len(files) != 1:
            raise ValidationError("one picture", field="avatar")
        await agent_profile.set_avatar(principal, files[0].content)
    except ValidationError:
        return _failed(request, AVATAR_INVALID)
    return done(request, PROFILE_URL, AVATAR_SAVED)


@post("/profile/avatar/remove", include_in_schema=False)
async def remove_avatar(
    request: AnyRequest, principal: NamedDependency[Principal]
) -> Response[Any]:
    """Go back to initials."""
    await agent_profile.remove_avatar(principal)
    return done(request, PROFILE_URL, AVATAR_REMOVED)


@get("/agents/{agent_id:int}/avatar", include_in_schema=False)
async def agent_avatar(principal: NamedDependency[Principal], agent_id: PathId) -> Response[bytes]:
    """An agent's picture, for signed-in staff (404 when there is none)."""
    avatar = await agent_profile.avatar_of(agent_id)
    if avatar is None:
        raise NotFoundException()
    return preview(avatar.data, f"agent-{agent_id}", avatar.media_type)
