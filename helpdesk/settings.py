"""Settings read once from ``HELPDESK_*`` environment variables and validated.

Nothing reads the environment at import time: call :func:`load_settings` at
start-up and pass the result down. A missing or invalid value fails fast with
a :class:`~helpdesk.errors.ConfigError` that names the variable.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from helpdesk.errors import ConfigError

Locale = Literal["vi", "en"]
SUPPORTED_LOCALES: tuple[Locale, ...] = ("vi", "en")


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Validated settings of one helpdesk process."""

    database_url: str
    redis_url: str | None
    secret_key: str
    base_url: str
    default_locale: Locale
    timezone: str
    data_dir: Path
    max_attachment_bytes: int
    worker_threads: int = 4
    sla_sweep_seconds: int = 30
    redis_namespace: str = "helpdesk"
    """Prefix of every Redis key, queue and pub/sub channel of this desk, so
    two desks (or two test runs) can share one Redis without meeting."""
    chat_origins: tuple[str, ...] = ()
    """Other sites allowed to embed the chat widget (``https://shop.example``);
    empty: only pages of the helpdesk's own origin may open a chat socket."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks of the reverse proxies whose ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` are believed (``HELPDESK_TRUSTED_PROXIES``, e.g.
    ``127.0.0.1`` or ``10.0.0.0/8``); empty: none, the client address is the
    connection's peer. Rate limits and the stored client address use it."""
    db_connect_timeout: float = 5.0
    """Seconds to open a PostgreSQL connection."""
    db_acquire_timeout: float = 5.0
    """Seconds a caller waits for a pooled PostgreSQL connection, or for the
    SQLite write lock, before it fails (a request: 503)."""
    db_statement_timeout: float | None = 30.0
    """PostgreSQL's ``statement_timeout`` in seconds; None: no limit."""
    db_idle_seconds: float = 300.0
    """Seconds after which an unused pooled PostgreSQL connection is closed."""
    shutdown_grace_seconds: float = 25.0
    """Most seconds from SIGTERM to exit: half for open requests and websockets,
    a quarter for stopping workers and closing connections; then the process
    exits whatever is left."""
    demo: bool = False
    """Demo mode (``HELPDESK_DEMO=1`` or ``helpdesk run --demo``): outbound mail
    goes to a mail catcher in the process, shown on ``/console/admin/outbox``.
    Embedded mode only."""
    demo_smtp_port: int = 0
    """Port of the demo mail catcher on 127.0.0.1 (``HELPDESK_DEMO_SMTP_PORT``; 0: any free one)."""

    @property
    def embedded(self) -> bool:
        """True when running without Redis: in-process queue and pub/sub."""
        return self.redis_url is None

    @property
    def is_sqlite(self) -> bool:
        """True when the database is a SQLite file."""
        return self.database_url.startswith("sqlite")

    @property
    def attachment_dir(self) -> Path:
        """Where attachment blobs are stored, content-addressed."""
        return self.data_dir / "attachments"


def _database_url(value: str) -> str:
    scheme = urlsplit(value).scheme
    if scheme == "sqlite":
        if not value.startswith("sqlite:///") or len(value) <= len("sqlite:///"):
            raise ConfigError(
                "HELPDESK_DATABASE_URL: a SQLite URL needs a path, e.g. sqlite:///./data/helpdesk.db"
            )
        return value
    if scheme in ("postgresql", "postgres"):
        if not urlsplit(value).hostname and "host=" not in value:
            raise ConfigError("HELPDESK_DATABASE_URL: a PostgreSQL URL needs a host")
        return value
    raise ConfigError(
        f"HELPDESK_DATABASE_URL: unsupported scheme {scheme!r}; use sqlite:/// or postgresql://"
    )


def _redis_url(value: str | None) -> str | None:
    if not value:
        return None
    if urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError("HELPDESK_REDIS_URL: expected redis://host:port/db")
    return value


def _base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError("HELPDESK_BASE_URL: expected an absolute http(s) URL")
    return value.rstrip("/")


def _locale(value: str) -> Locale:
    if value == "vi":
        return "vi"
    if value == "en":
        return "en"
    raise ConfigError(f"HELPDESK_DEFAULT_LOCALE: {value!r} is not one of vi, en")


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"HELPDESK_TIMEZONE: {value!r} is not an IANA time zone") from exc
    return value


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise ConfigError(f"{name}: {value!r} is not a whole number") from exc
    if number <= 0:
        raise ConfigError(f"{name}: must be greater than zero")
    return number


def _trusted_proxies(value: str) -> tuple[str, ...]:
    """``HELPDESK_TRUSTED_PROXIES``: comma-separated IP addresses or networks, no ``*``."""
    proxies: list[str] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise ConfigError(
                f"HELPDESK_TRUSTED_PROXIES: {item!r} is not an IP address or network "
                "like 127.0.0.1 or 10.0.0.0/8"
            ) from exc
        proxies.append(str(network) if "/" in item else str(network.network_address))
    return tuple(proxies)


def _chat_origins(value: str) -> tuple[str, ...]:
    """``HELPDESK_CHAT_ORIGINS``: comma-separated ``scheme://host[:port]`` origins, no ``*``."""
    origins: list[str] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        parts = urlsplit(item)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path.strip("/")
            or parts.query
            or parts.fragment
        ):
            raise ConfigError(
                f"HELPDESK_CHAT_ORIGINS: {item!r} is not an origin like https://shop.example"
            )
        origins.append(f"{parts.scheme}://{parts.netloc}".lower())
    return tuple(origins)


def _seconds(env: Mapping[str, str], name: str, default: str) -> float:
    """A number of seconds above zero and below a day."""
    value = env.get(name, default)
    try:
        number = float(value)
    except ValueError as exc:
        raise ConfigError(f"{name}: {value!r} is not a number of seconds") from exc
    if not 0 < number < 86_400:
        raise ConfigError(f"{name}: must be greater than zero and less than a day")
    return number


def _optional_seconds(env: Mapping[str, str], name: str, default: str) -> float | None:
    """Like :func:`_seconds`, where ``0`` means no limit (None)."""
    if env.get(name, default).strip() == "0":
        return None
    return _seconds(env, name, default)


def _redis_namespace(value: str) -> str:
    """``HELPDESK_REDIS_NAMESPACE``: letters, digits, ``-``, ``_`` and ``.``."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", value):
        raise ConfigError("HELPDESK_REDIS_NAMESPACE: use 1 to 64 letters, digits, '-', '_' or '.'")
    return value


def _secret_key(value: str | None, *, embedded: bool, data_dir: Path) -> str:
    """Use the given key; in embedded mode create and keep one if none is given.

    A scale-out deployment runs several processes that must agree on the key,
    so there it must be set explicitly.
    """
    if value:
        if len(value) < 16:
            raise ConfigError("HELPDESK_SECRET_KEY: use at least 16 characters")
        return value
    if not embedded:
        raise ConfigError(
            "HELPDESK_SECRET_KEY is required when HELPDESK_REDIS_URL is set (scale-out mode)"
        )
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _demo(env: Mapping[str, str], *, embedded: bool) -> bool:
    """``HELPDESK_DEMO``: 1/true/yes or 0/false/no (default), embedded mode only."""
    value = env.get("HELPDESK_DEMO", "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value not in ("1", "true", "yes"):
        raise ConfigError(f"HELPDESK_DEMO: {value!r} is not one of 1, true, yes, 0, false, no")
    if not embedded:
        raise ConfigError("HELPDESK_DEMO works in embedded mode only (without HELPDESK_REDIS_URL)")
    return True


def _port(env: Mapping[str, str], name: str) -> int:
    value = env.get(name, "0")
    if not value.isdigit() or int(value) > 65535:
        raise ConfigError(f"{name}: {value!r} is not a port number (0 to 65535)")
    return int(value)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("HELPDESK_DATA_DIR", "./data")).resolve()
    redis_url = _redis_url(env.get("HELPDESK_REDIS_URL"))
    return Settings(
        database_url=_database_url(
            env.get("HELPDESK_DATABASE_URL", f"sqlite:///{data_dir / 'helpdesk.db'}")
        ),
        redis_url=redis_url,
        secret_key=_secret_key(
            env.get("HELPDESK_SECRET_KEY"), embedded=redis_url is None, data_dir=data_dir
        ),
        base_url=_base_url(env.get("HELPDESK_BASE_URL", "http://127.0.0.1:8000")),
        default_locale=_locale(env.get("HELPDESK_DEFAULT_LOCALE", "vi")),
        timezone=_timezone(env.get("HELPDESK_TIMEZONE", "Asia/Ho_Chi_Minh")),
        data_dir=data_dir,
        max_attachment_bytes=_positive_int(
            "HELPDESK_MAX_ATTACHMENT_BYTES", env.get("HELPDESK_MAX_ATTACHMENT_BYTES", "26214400")
        ),
        worker_threads=_positive_int(
            "HELPDESK_WORKER_THREADS", env.get("HELPDESK_WORKER_THREADS", "4")
        ),
        sla_sweep_seconds=_positive_int(
            "HELPDESK_SLA_SWEEP_SECONDS", env.get("HELPDESK_SLA_SWEEP_SECONDS", "30")
        ),
        redis_namespace=_redis_namespace(env.get("HELPDESK_REDIS_NAMESPACE", "helpdesk")),
        chat_origins=_chat_origins(env.get("HELPDESK_CHAT_ORIGINS", "")),
        trusted_proxies=_trusted_proxies(env.get("HELPDESK_TRUSTED_PROXIES", "")),
        db_connect_timeout=_seconds(env, "HELPDESK_DB_CONNECT_TIMEOUT", "5"),
        db_acquire_timeout=_seconds(env, "HELPDESK_DB_ACQUIRE_TIMEOUT", "5"),
        db_statement_timeout=_optional_seconds(env, "HELPDESK_DB_STATEMENT_TIMEOUT", "30"),
        db_idle_seconds=_seconds(env, "HELPDESK_DB_IDLE_SECONDS", "300"),
        shutdown_grace_seconds=_seconds(env, "HELPDESK_SHUTDOWN_GRACE_SECONDS", "25"),
        demo=_demo(env, embedded=redis_url is None),
        demo_smtp_port=_port(env, "HELPDESK_DEMO_SMTP_PORT"),
    )
