"""Settings: read from the given mapping only, validated, failing fast with the variable's name."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from helpdesk.errors import ConfigError
from helpdesk.settings import load_settings


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"HELPDESK_DATA_DIR": str(tmp_path / "data"), **values}


def test_defaults_give_an_embedded_sqlite_desk(tmp_path):
    settings = load_settings(env(tmp_path))
    data = (tmp_path / "data").resolve()
    assert settings.database_url == f"sqlite:///{data / 'helpdesk.db'}"
    assert settings.embedded
    assert settings.is_sqlite
    assert settings.redis_url is None
    assert settings.base_url == "http://127.0.0.1:8000"
    assert (settings.default_locale, settings.timezone) == ("vi", "Asia/Ho_Chi_Minh")
    assert settings.max_attachment_bytes == 25 * 1024 * 1024
    assert settings.worker_threads == 4
    assert settings.attachment_dir == data / "attachments"


def test_embedded_secret_is_created_once_private_and_reused(tmp_path):
    first = load_settings(env(tmp_path))
    key_file = tmp_path / "data" / "secret_key"
    assert len(first.secret_key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_settings(env(tmp_path)).secret_key == first.secret_key


def test_explicit_settings(tmp_path):
    settings = load_settings(
        env(
            tmp_path,
            HELPDESK_DATABASE_URL="postgresql://helpdesk@db.internal:5432/helpdesk",
            HELPDESK_REDIS_URL="redis://cache:6379/0",
            HELPDESK_SECRET_KEY="s" * 32,
            HELPDESK_BASE_URL="https://support.example.vn/",
            HELPDESK_DEFAULT_LOCALE="en",
            HELPDESK_TIMEZONE="Europe/Paris",
            HELPDESK_MAX_ATTACHMENT_BYTES="1000",
            HELPDESK_WORKER_THREADS="2",
        )
    )
    assert not settings.embedded
    assert not settings.is_sqlite
    assert settings.base_url == "https://support.example.vn"
    assert (settings.default_locale, settings.timezone) == ("en", "Europe/Paris")
    assert (settings.max_attachment_bytes, settings.worker_threads) == (1000, 2)
    assert not (tmp_path / "data" / "secret_key").exists()


def test_the_process_environment_is_not_read_when_a_mapping_is_given(tmp_path, monkeypatch):
    monkeypatch.setenv("HELPDESK_DEFAULT_LOCALE", "xx")
    assert load_settings(env(tmp_path)).default_locale == "vi"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HELPDESK_DATABASE_URL", "mysql://db/helpdesk"),
        ("HELPDESK_DATABASE_URL", "sqlite:///"),
        ("HELPDESK_DATABASE_URL", "sqlite://relative.db"),
        ("HELPDESK_DATABASE_URL", "postgresql:///helpdesk"),
        ("HELPDESK_REDIS_URL", "http://cache:6379"),
        ("HELPDESK_SECRET_KEY", "too-short"),
        ("HELPDESK_BASE_URL", "support.example.vn"),
        ("HELPDESK_BASE_URL", "ftp://support.example.vn"),
        ("HELPDESK_DEFAULT_LOCALE", "fr"),
        ("HELPDESK_TIMEZONE", "Mars/Olympus"),
        ("HELPDESK_TIMEZONE", "../etc/passwd"),
        ("HELPDESK_MAX_ATTACHMENT_BYTES", "0"),
        ("HELPDESK_MAX_ATTACHMENT_BYTES", "-5"),
        ("HELPDESK_MAX_ATTACHMENT_BYTES", "25MB"),
        ("HELPDESK_WORKER_THREADS", "many"),
    ],
)
def test_invalid_values_fail_naming_the_variable(tmp_path, name, value):
    with pytest.raises(ConfigError) as raised:
        load_settings(env(tmp_path, **{name: value}))
    assert name in str(raised.value)
    assert raised.value.code == "config_error"


def test_scale_out_requires_an_explicit_secret(tmp_path):
    with pytest.raises(ConfigError, match="HELPDESK_SECRET_KEY"):
        load_settings(env(tmp_path, HELPDESK_REDIS_URL="redis://cache:6379/0"))


def test_empty_redis_url_means_embedded(tmp_path):
    assert load_settings(env(tmp_path, HELPDESK_REDIS_URL="")).embedded


def test_trusted_proxies_are_none_by_default_and_validated(tmp_path):
    assert load_settings(env(tmp_path)).trusted_proxies == ()
    given = env(tmp_path, HELPDESK_TRUSTED_PROXIES=" 127.0.0.1, 10.0.0.0/8 ,::1")
    assert load_settings(given).trusted_proxies == ("127.0.0.1", "10.0.0.0/8", "::1")
    for wrong in ("*", "proxy.example", "10.0.0.0/33"):
        with pytest.raises(ConfigError, match="HELPDESK_TRUSTED_PROXIES"):
            load_settings(env(tmp_path, HELPDESK_TRUSTED_PROXIES=wrong))
