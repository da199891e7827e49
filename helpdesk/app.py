"""The composition root: builds the Litestar application and mounts every router."""

from __future__ import annotations

import asyncio
import logging
from os import PathLike
from pathlib import Path
from typing import Any

from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE
from litestar.template.config import TemplateConfig
from litestar.types import ExceptionHandlersMap

import agent_console
import portal
from helpdesk import __version__
from helpdesk.api import (
    IdempotencyPlugin,
    api_router,
    exception_handlers,
    openapi_components,
    public_router,
)
from helpdesk.channels.email.mailboxes import quarantined_count
from helpdesk.db import apply_limits, check_database, close_pool, database_limits
from helpdesk.errors import DatabaseUnavailableError
from helpdesk.runtime import Runtime, build_runtime
from helpdesk.settings import Settings, load_settings
from helpdesk.web.headers import add_security_headers
from helpdesk.web.unrouted import CONSOLE_PAGES, PORTAL_PAGES, WEB_TEMPLATES_DIR, unrouted_handler
from knowledge_base.controllers import routers as knowledge_base_routers
from portal.chat import chat_router
from portal.kb import kb_portal_router
from portal.routes import create_portal_router
from portal.webform import webform_router

logger = logging.getLogger(__name__)

PORTAL_DIR = Path(portal.__file__).resolve().parent
PORTAL_STATIC = PORTAL_DIR / "static"
TEMPLATE_DIRS: list[Path | PathLike[Any] | str] = [
    PORTAL_DIR / "templates",
    agent_console.TEMPLATES_DIR,
    WEB_TEMPLATES_DIR,
]


HEALTH_DATABASE_SECONDS = 2.0
"""How long ``/health`` waits for the database before it calls it down."""


@get("/health", include_in_schema=True, tags=["system"], summary="Liveness and basic counts")
async def health(state: State) -> Response[dict[str, object]]:
    """Whether the process is up, its mode and database, and how many mails
    wait in quarantine.

    200 with ``"status": "ok"`` when the database answered within
    :data:`HEALTH_DATABASE_SECONDS`; otherwise 503 with ``"status":
    "unavailable"``, ``"down": ["database"]`` and ``Retry-After``. A
    database that answers may still refuse writes (a locked or read-only
    SQLite file); Redis is not checked here.
    """
    runtime: Runtime = state.runtime
    body: dict[str, object] = {
        "status": "ok",
        "version": __version__,
        "mode": "embedded" if runtime.settings.embedded else "scale-out",
        "database": "sqlite" if runtime.settings.is_sqlite else "postgresql",
        "quarantined_mail": None,
        "down": [],
    }
    try:
        async with asyncio.timeout(HEALTH_DATABASE_SECONDS):
            await check_database(HEALTH_DATABASE_SECONDS)
            body["quarantined_mail"] = await quarantined_count()
    except (DatabaseUnavailableError, TimeoutError) as exc:
        logger.warning("health check: the database is unavailable: %s", exc)
        body.update(status="unavailable", down=["database"])
        headers = {"Retry-After": str(DatabaseUnavailableError.retry_after)}
        return Response(body, status_code=HTTP_503_SERVICE_UNAVAILABLE, headers=headers)
    return Response(body)


async def stop_runtime(runtime: Runtime, budget: float) -> None:
    """Stop ``runtime`` (workers, ingester, live hub, then connections) within
    ``budget`` seconds. Past it, what is still stopping is abandoned (worker
    threads are daemons), the database pool is closed anyway, and this
    returns: jobs still running then lose their connections and fail; only
    the job table's retries bring them back."""
    try:
        async with asyncio.timeout(budget):
            await runtime.stop()
    except TimeoutError:
        logger.error("stopping took longer than %g s; closing the database pool anyway", budget)
        await close_pool(runtime.engine)


@get("/", include_in_schema=False)
async def home() -> Redirect:
    """The start page: the customer portal's home (sign in, the request form)."""
    return Redirect(path="/support/")


def _exception_handlers() -> ExceptionHandlersMap:
    """The API's problem answers, except the faces' own page for their unknown addresses."""
    handlers = exception_handlers()
    handlers[HTTPException] = unrouted_handler(
        [CONSOLE_PAGES, PORTAL_PAGES], handlers[HTTPException]
    )
    return handlers


def create_app(
    settings: Settings | None = None, *, run_worker: bool | None = None, run_mail: bool = False
) -> Litestar:
    """The Litestar app for ``settings`` (default: from the environment).

    ``run_worker`` (default: embedded mode) starts Dramatiq worker threads in
    this process; scale-out web processes leave the work to ``helpdesk worker``.
    ``run_mail`` also follows the mailboxes in this process: only the
    all-in-one ``helpdesk run`` does, never N web processes.
    """
    settings = settings or load_settings()
    runtime = build_runtime(settings)
    apply_limits(runtime.engine, database_limits(settings))
    with_worker = settings.embedded if run_worker is None else run_worker

    async def on_startup(app: Litestar) -> None:
        await runtime.start(run_worker=with_worker, run_mail=run_mail, serve_live=True)

    async def on_shutdown(app: Litestar) -> None:
        await stop_runtime(runtime, settings.shutdown_grace_seconds / 4)

    return Litestar(
        route_handlers=[
            health,
            home,
            api_router,
            public_router,
            *knowledge_base_routers,
            webform_router,
            kb_portal_router,
            create_portal_router(settings),
            chat_router,
            create_static_files_router(path="/static/portal", directories=[PORTAL_STATIC]),
            agent_console.create_console_router(settings),
            create_static_files_router(
                path="/static/console", directories=[agent_console.STATIC_DIR]
            ),
        ],
        template_config=TemplateConfig(directory=TEMPLATE_DIRS, engine=JinjaTemplateEngine),
        state=State({"runtime": runtime, "settings": settings}),
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        exception_handlers=_exception_handlers(),
        before_send=[add_security_headers],
        plugins=[IdempotencyPlugin()],
        openapi_config=OpenAPIConfig(
            title="Helpdesk API",
            version=__version__,
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
            components=[openapi_components()],
            use_handler_docstrings=True,
        ),
        debug=False,
    )
