"""The composition root: builds the Litestar application and mounts every router."""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

import agent_console
import portal
from helpdesk import __version__
from helpdesk.api import api_router, exception_handlers, openapi_components, public_router
from helpdesk.channels.email.mailboxes import quarantined_count
from helpdesk.runtime import Runtime, build_runtime
from helpdesk.settings import Settings, load_settings
from knowledge_base.controllers import routers as knowledge_base_routers
from portal.chat import chat_router
from portal.kb import kb_portal_router
from portal.routes import create_portal_router
from portal.webform import webform_router

PORTAL_DIR = Path(portal.__file__).resolve().parent
PORTAL_STATIC = PORTAL_DIR / "static"
TEMPLATE_DIRS: list[Path | PathLike[Any] | str] = [
    PORTAL_DIR / "templates",
    agent_console.TEMPLATES_DIR,
]


@get("/health", include_in_schema=True, tags=["system"], summary="Liveness and basic counts")
async def health(state: State) -> dict[str, object]:
    """Whether the process is up, its mode and database, and how many mails
    wait in quarantine."""
    runtime: Runtime = state.runtime
    return {
        "status": "ok",
        "version": __version__,
        "mode": "embedded" if runtime.settings.embedded else "scale-out",
        "database": "sqlite" if runtime.settings.is_sqlite else "postgresql",
        "quarantined_mail": await quarantined_count(),
    }


@get("/", include_in_schema=False)
async def home() -> Redirect:
    """The start page: the customer portal's home (sign in, the request form)."""
    return Redirect(path="/support/")


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
    with_worker = settings.embedded if run_worker is None else run_worker

    async def on_startup(app: Litestar) -> None:
        await runtime.start(run_worker=with_worker, run_mail=run_mail, serve_live=True)

    async def on_shutdown(app: Litestar) -> None:
        await runtime.stop()

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
        exception_handlers=exception_handlers(),
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
