"""The ``helpdesk`` command: migrate, run, web, worker, mail, mailbox, tokens, demo, create-agent.

Every command reads its settings from ``HELPDESK_*`` variables when it starts
(:func:`helpdesk.settings.load_settings`). A user error (invalid settings, an
unreachable database or Redis, an agent that exists already) prints one line,
``Error: …``, on stderr and exits with status 1; only bugs print a traceback.

This module parses options and reports; the work is done by the private
modules beside it: ``_db`` (database steps), ``_serve`` (uvicorn) and
``_worker`` (worker and mail processes), ``_mail`` (the ``mail`` and ``mailbox``
commands), ``_tokens`` (the ``tokens`` command).
"""

from __future__ import annotations

import asyncio
import os
from types import ModuleType
from typing import Any

import click
import msgspec

from helpdesk.cli import _db, _mail, _tokens, _worker
from helpdesk.domain import Role
from helpdesk.errors import ConfigError, DatabaseUnavailableError, HelpdeskError
from helpdesk.settings import load_settings

_HOST = click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
_PORT = click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to bind."
)
_ACCESS_LOG = click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log every request (a reverse proxy usually does this already).",
)


def _serving() -> ModuleType:
    """The web-serving module, imported only by the commands that serve (so that
    `migrate`, `demo` and `create-agent` never load the web layer)."""
    from helpdesk.cli import _serve as module

    return module


class _HelpdeskGroup(click.Group):
    """Turns expected errors into a one-line message and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DatabaseUnavailableError as exc:
            raise click.ClickException(f"the database is unavailable: {exc.reason}") from exc
        except HelpdeskError as exc:
            raise click.ClickException(exc.detail) from exc
        except msgspec.ValidationError as exc:
            raise click.ClickException(f"invalid input: {exc}") from exc


@click.group(cls=_HelpdeskGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="helpdesk")
def main() -> None:
    """Helpdesk: customer service desk and omnichannel ticketing.

    Settings come from HELPDESK_* environment variables (see README.md).
    Without HELPDESK_REDIS_URL everything runs in one process (`helpdesk run`);
    with it, run `helpdesk web` (N), `helpdesk worker` (M) and `helpdesk mail`
    (one) separately.
    """


@main.command()
def migrate() -> None:
    """Apply pending schema migrations to HELPDESK_DATABASE_URL."""
    settings = load_settings()
    applied = asyncio.run(_db.migrate_database(settings))
    _report_migrations(applied)


def _report_migrations(applied: list[str]) -> None:
    if applied:
        for name in applied:
            click.echo(f"applied {name}")
    else:
        click.echo("database schema is up to date")


@main.command()
@_HOST
@_PORT
@_ACCESS_LOG
@click.option(
    "--demo",
    is_flag=True,
    default=False,
    help="Demo mode (as HELPDESK_DEMO=1): outbound mail is caught and shown in the console.",
)
def run(host: str, port: int, access_log: bool, demo: bool) -> None:
    """All in one process: migrate, then serve the web app, the worker and the mail ingester.

    The embedded mode (no Redis) needs nothing else. With HELPDESK_REDIS_URL
    set, the in-process worker consumes the Redis queues alongside any
    `helpdesk worker` processes (run no `helpdesk mail` then: this process
    follows the mailboxes). Stops gracefully on SIGTERM or Ctrl-C, within
    HELPDESK_SHUTDOWN_GRACE_SECONDS.
    """
    settings = load_settings({**os.environ, "HELPDESK_DEMO": "1"} if demo else None)
    _report_migrations(asyncio.run(_db.migrate_database(settings)))
    _serving().run_all_in_one(settings, host=host, port=port, access_log=access_log)


@main.command()
@_HOST
@_PORT
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Web server processes sharing the port (scale-out mode only).",
)
@_ACCESS_LOG
def web(host: str, port: int, workers: int, access_log: bool) -> None:
    """Web server processes only; background jobs run in `helpdesk worker`.

    Scale-out mode (HELPDESK_REDIS_URL set) does not migrate: run
    `helpdesk migrate` first; a database with pending migrations is refused.
    In embedded mode this is the same as `helpdesk run` (one process).
    Stops on SIGTERM or Ctrl-C within HELPDESK_SHUTDOWN_GRACE_SECONDS.
    """
    settings = load_settings()
    if settings.embedded:
        if workers > 1:
            raise ConfigError(
                "--workers above 1 needs HELPDESK_REDIS_URL (scale-out mode): "
                "web processes must share the task queue and live updates"
            )
        click.echo("embedded mode (HELPDESK_REDIS_URL is unset): serving web and worker in one")
        _report_migrations(asyncio.run(_db.migrate_database(settings)))
        _serving().run_all_in_one(settings, host=host, port=port, access_log=access_log)
        return
    asyncio.run(_db.check_ready(settings))
    _serving().run_web(
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        grace=settings.shutdown_grace_seconds,
        trusted_proxies=settings.trusted_proxies,
    )


@main.command()
@click.option(
    "--threads",
    type=click.IntRange(1, 256),
    default=None,
    help="Worker threads per process [default: HELPDESK_WORKER_THREADS, 4].",
)
@click.option(
    "--processes", type=click.IntRange(1, 64), default=1, show_default=True, help="Processes."
)
def worker(threads: int | None, processes: int) -> None:
    """Dramatiq worker processes consuming the Redis queues (scale-out mode).

    Needs HELPDESK_REDIS_URL. Stops gracefully on SIGTERM or Ctrl-C: jobs in
    progress finish, prefetched ones go back to Redis.
    """
    settings = load_settings()
    if settings.redis_url is None:
        raise ConfigError(
            "helpdesk worker needs HELPDESK_REDIS_URL (the Redis task queue); "
            "without Redis, `helpdesk run` runs the worker inside the web process"
        )
    asyncio.run(_db.check_ready(settings))
    _worker.check_redis(settings.redis_url)
    threads = threads or settings.worker_threads
    if processes == 1:
        _worker.serve_worker(threads)
        return
    failure = _worker.supervise(threads, processes)
    if failure is not None:
        raise click.ClickException(failure)


main.add_command(_mail.mail)
main.add_command(_mail.mailbox)
main.add_command(_tokens.tokens)


@main.command()
@click.option(
    "--cases", default=300, show_default=True, type=click.IntRange(0, 100_000), help="Cases."
)
@click.option("--seed", default=1, show_default=True, help="Random seed of the generated data.")
def demo(cases: int, seed: int) -> None:
    """Load realistic demo data (Vietnamese and English); safe to run again.

    Creates staff with known passwords, two teams, organizations, customers
    and CASES conversations over the last 60 days, through the domain
    services. What exists already (same seed) is left alone.
    """
    from helpdesk.demo import DemoResult

    settings = load_settings()
    result: DemoResult = asyncio.run(_db.load_demo_data(settings, cases=cases, seed=seed))
    click.echo(
        f"demo data: {result.cases_created} cases created, {result.cases_existing} were there; "
        f"{result.customers} customers, {result.organizations} organizations, "
        f"{len(result.logins)} staff, {result.teams} teams"
    )
    click.echo(
        f"\nStaff accounts: sign in to the agent console at {settings.base_url}/console/"
        f" (the REST API is documented at {settings.base_url}/schema; the token below"
        f" works there); customers use {settings.base_url}/support/request:"
    )
    email_width = max(len(login.email) for login in result.logins)
    password_width = max(len(login.password) for login in result.logins)
    for login in result.logins:
        click.echo(
            f"  {login.role:<8} {login.email:<{email_width}}  "
            f"{login.password:<{password_width}}  {login.name}"
        )
    click.echo(f"\nAPI token of {result.admin_email} (Authorization: Bearer …):")
    click.echo(f"  {result.admin_token}")


@main.command("create-agent")
@click.option("--name", required=True, help="Full name, e.g. 'Nguyễn Thị Lan'.")
@click.option("--email", required=True, help="Sign-in address (must be new).")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.AGENT.value,
    show_default=True,
)
@click.option(
    "--password",
    default=None,
    help="Sign-in password (at least 8 characters). When omitted it is asked for, or read "
    "as one line from stdin when that is not a terminal.",
)
@click.option("--no-password", is_flag=True, help="No password: the agent uses API tokens only.")
@click.option(
    "--language",
    "languages",
    multiple=True,
    type=click.Choice(["vi", "en"]),
    help="Languages spoken (repeatable) [default: vi].",
)
@click.option("--token", is_flag=True, help="Also create an API token and print it on stdout.")
def create_agent(
    name: str,
    email: str,
    role: str,
    password: str | None,
    no_password: bool,
    languages: tuple[str, ...],
    token: bool,
) -> None:
    """Create a member of staff (the first admin is created this way).

    With --token, the new API token alone is printed on stdout (everything
    else goes to stderr), so `TOKEN=$(helpdesk create-agent … --token)` works.
    """
    settings = load_settings()
    if no_password:
        password = None
    elif password is None:
        password = _read_password()
    created = asyncio.run(
        _db.create_agent(
            settings,
            {
                "name": name,
                "email": email,
                "role": role,
                "password": password,
                "languages": list(languages) or ["vi"],
            },
            with_token=token,
        )
    )
    agent, secret = created
    click.echo(f"created {agent.role} {agent.id}: {agent.name} <{agent.email}>", err=True)
    if secret is not None:
        click.echo(secret)


def _read_password() -> str:
    """Ask for the password twice on a terminal; otherwise read one line of stdin."""
    stdin = click.get_text_stream("stdin")
    if stdin.isatty():
        password: str = click.prompt(
            "Password", hide_input=True, confirmation_prompt=True, err=True, type=str
        )
        return password
    line = stdin.readline().rstrip("\r\n")
    if not line:
        raise click.ClickException(
            "no password: give --password, type it on a terminal, or pass --no-password"
        )
    return line
