"""``HELPDESK_CHAT_ORIGINS``: empty by default (same origin only), validated."""

from __future__ import annotations

import pytest

from helpdesk.errors import ConfigError
from helpdesk.settings import load_settings


def _settings(tmp_path: object, origins: str | None) -> tuple[str, ...]:
    env = {"HELPDESK_DATA_DIR": str(tmp_path), "HELPDESK_SECRET_KEY": "k" * 32}
    if origins is not None:
        env["HELPDESK_CHAT_ORIGINS"] = origins
    return load_settings(env).chat_origins


def test_no_other_site_may_embed_the_chat_by_default(tmp_path: object) -> None:
    assert _settings(tmp_path, None) == ()
    assert _settings(tmp_path, " ") == ()


def test_origins_are_normalised(tmp_path: object) -> None:
    origins = _settings(tmp_path, "https://Shop.Example/, http://localhost:8080")
    assert origins == ("https://shop.example", "http://localhost:8080")


@pytest.mark.parametrize(
    "value", ["*", "shop.example", "ftp://shop.example", "https://shop.example/page", "https://"]
)
def test_anything_but_an_origin_is_refused(tmp_path: object, value: str) -> None:
    with pytest.raises(ConfigError, match="HELPDESK_CHAT_ORIGINS"):
        _settings(tmp_path, value)
