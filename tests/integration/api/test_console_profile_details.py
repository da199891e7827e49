"""An agent's own name, console language and picture, from the profile page."""

from __future__ import annotations

from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in

PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)


def test_an_agent_sets_name_language_and_picture(api: Api) -> None:
    token = console_sign_in(api, "agent_a")
    agent_id = api.agent_ids["agent_a"]

    saved = api.client.post(
        "/console/profile/details",
        data={"_csrf": token, "name": "Trần Thị Lan", "locale": "en"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert api.client.cookies.get("helpdesk_lang") == "en"
    page = api.client.get("/console/profile")
    assert "Your name and language were saved." in page.text  # now in English
    assert 'value="Trần Thị Lan"' in page.text
    assert api.get(f"/api/v1/agents/{agent_id}").json()["locale"] == "en"

    # the next sign-in, in a browser without the cookie, is in the agent's language
    api.client.cookies.clear()
    console_sign_in(api, "agent_a")
    assert api.client.cookies.get("helpdesk_lang") == "en"
    token = console_sign_in(api, "agent_a")

    html = b"<html><script>alert(1)</script></html>"
    refused = api.client.post(
        "/console/profile/avatar",
        data={"_csrf": token},
        files={"avatar": ("me.png", html, "image/png")},
    )
    assert "Choose a PNG, JPEG, GIF or WebP picture of at most 512 KB." in refused.text
    assert api.client.get(f"/console/agents/{agent_id}/avatar").status_code == 404

    api.client.post(
        "/console/profile/avatar", data={"_csrf": token}, files={"avatar": ("me", PNG, "x/y")}
    )
    picture = api.client.get(f"/console/agents/{agent_id}/avatar")
    assert picture.status_code == 200
    assert picture.content == PNG
    assert picture.headers["content-type"] == "image/png"  # found in the bytes, not as sent
    assert picture.headers["x-content-type-options"] == "nosniff"
    assert f'src="/console/agents/{agent_id}/avatar"' in api.client.get("/console/").text
    assert api.get(f"/api/v1/agents/{agent_id}").json()["has_avatar"] is True

    api.client.post("/console/profile/avatar/remove", data={"_csrf": token})
    assert api.client.get(f"/console/agents/{agent_id}/avatar").status_code == 404
    api.client.cookies.clear()
    assert (
        api.client.get(f"/console/agents/{agent_id}/avatar", follow_redirects=False).status_code
        == 302
    )
