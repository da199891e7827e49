"""Which errors mean "the database is unavailable", how the API answers them,
and the settings that bound every wait on the database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg
import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from helpdesk.api import exception_handlers
from helpdesk.db import DatabaseLimits, database_fault, database_limits
from helpdesk.errors import ConfigError, DatabaseUnavailableError
from helpdesk.settings import load_settings


def sqlite_error(sql: str, *setup: str) -> sqlite3.Error:
    """The error SQLite itself raises for ``sql`` (with its result code)."""
    connection = sqlite3.connect(":memory:")
    for statement in setup:
        connection.execute(statement)
    try:
        connection.execute(sql)
    except sqlite3.Error as exc:
        return exc
    finally:
        connection.close()
    raise AssertionError(f"{sql!r} did not fail")


def locked_error(tmp_path: Path) -> sqlite3.Error:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        return exc
    finally:
        other.close()
        holder.close()
    raise AssertionError("the second writer was not refused")


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.exceptions.TooManyConnectionsError("too many clients"),
        asyncpg.exceptions.InterfaceError("cannot call Transaction.rollback(): ... is closed"),
        asyncpg.exceptions.InternalClientError("cannot switch to state 12"),
        DatabaseUnavailableError(reason="no connection within 5 s"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_connection_level_postgres_errors_are_faults(error: Exception) -> None:
    assert database_fault(error)


def test_sqlite_locked_and_read_only_are_faults(tmp_path: Path) -> None:
    assert database_fault(locked_error(tmp_path))
    path = tmp_path / "ro.db"
    sqlite3.connect(path).close()
    read_only = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            read_only.execute("CREATE TABLE t (x)")
    finally:
        read_only.close()
    assert database_fault(caught.value)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
        asyncpg.exceptions.UndefinedTableError('relation "x" does not exist'),
        asyncpg.exceptions.InterfaceError(
            "cannot perform operation: another operation is in progress"
        ),
        sqlite_error(
            "INSERT INTO t VALUES (1)", "CREATE TABLE t (x UNIQUE)", "INSERT INTO t VALUES (1)"
        ),
        sqlite_error("SELECT * FROM missing"),
        OSError("no space left for the attachment"),  # not judged outside the engines
        TimeoutError(),
        ValueError("a bug"),
    ],
    ids=lambda error: f"{type(error).__name__}:{error}"[:60],
)
def test_errors_about_the_statement_or_elsewhere_are_not(error: Exception) -> None:
    assert not database_fault(error)


def test_database_unavailable_is_also_a_connection_error() -> None:
    # so code that treats OSError as "infrastructure, retry later" keeps doing so
    error = DatabaseUnavailableError(reason="AdminShutdownError: terminating connection")
    assert isinstance(error, ConnectionError)
    assert (error.status, error.code, error.retry_after) == (503, "database_unavailable", 5)
    assert str(error) == "AdminShutdownError: terminating connection"
    assert "terminating" not in error.detail  # clients are not told about the server


def _app() -> Litestar:
    @get("/driver")
    async def driver_fault() -> None:
        raise asyncpg.exceptions.AdminShutdownError("terminating connection")

    @get("/engine")
    async def engine_fault() -> None:
        raise DatabaseUnavailableError(reason="no connection within 2 s")

    @get("/bug")
    async def bug() -> None:
        raise asyncpg.exceptions.UndefinedTableError('relation "x" does not exist')

    return Litestar([driver_fault, engine_fault, bug], exception_handlers=exception_handlers())


@pytest.mark.parametrize("path", ["/driver", "/engine"])
def test_a_lost_database_is_a_503_problem_with_retry_after(path: str) -> None:
    with TestClient(_app()) as client:
        response = client.get(path)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert (body["code"], body["status"], body["instance"]) == ("database_unavailable", 503, path)
    assert "terminating" not in body["detail"]
    assert "2 s" not in body["detail"]


def test_a_statement_error_is_still_a_500() -> None:
    with TestClient(_app()) as client:
        response = client.get("/bug")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"HELPDESK_DATA_DIR": str(tmp_path), **values}


def test_database_limits_default_and_from_the_environment(tmp_path: Path) -> None:
    assert database_limits(load_settings(env(tmp_path))) == DatabaseLimits()
    settings = load_settings(
        env(
            tmp_path,
            HELPDESK_DB_CONNECT_TIMEOUT="1.5",
            HELPDESK_DB_ACQUIRE_TIMEOUT="2",
            HELPDESK_DB_STATEMENT_TIMEOUT="0",
            HELPDESK_DB_IDLE_SECONDS="60",
            HELPDESK_SHUTDOWN_GRACE_SECONDS="12",
        )
    )
    assert database_limits(settings) == DatabaseLimits(
        connect=1.5, acquire=2.0, statement=None, idle=60.0
    )
    assert settings.shutdown_grace_seconds == 12.0


@pytest.mark.parametrize("value", ["-1", "soon", "86400"])
def test_bad_timeouts_name_the_variable(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="HELPDESK_DB_ACQUIRE_TIMEOUT"):
        load_settings(env(tmp_path, HELPDESK_DB_ACQUIRE_TIMEOUT=value))
