"""The composition root: builds the Litestar application and mounts every router."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from helpdesk import __version__
from helpdesk.api import api_router, exception_handlers
from helpdesk.runtime import Runtime, build_runtime
from helpdesk.settings import Settings, load_settings


@get("/health", include_in_schema=True, tags=["system"], summary="Liveness and basic counts")
async def health(state: State) -> dict[str, object]:
    """Whether the process is up, its mode and database."""
    runtime: Runtime = state.runtime
    return {
        "status": "ok",
        "version": __version__,
        "mode": "embedded" if runtime.settings.embedded else "scale-out",
        "database": "sqlite" if runtime.settings.is_sqlite else "postgresql",
    }


def create_app(settings: Settings | None = None, *, run_worker: bool | None = None) -> Litestar:
    """The Litestar app for ``settings`` (default: from the environment).

    ``run_worker`` (default: embedded mode) starts Dramatiq worker threads in
    this process; scale-out web processes leave the work to ``helpdesk worker``.
    """
    settings = settings or load_settings()
    runtime = build_runtime(settings)
    with_worker = settings.embedded if run_worker is None else run_worker

    async def on_startup(app: Litestar) -> None:
        await runtime.start(run_worker=with_worker)

    async def on_shutdown(app: Litestar) -> None:
        await runtime.stop()

    return Litestar(
        route_handlers=[health, api_router],
        state=State({"runtime": runtime, "settings": settings}),
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        exception_handlers=exception_handlers(),
        openapi_config=OpenAPIConfig(
            title="Helpdesk API",
            version=__version__,
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        debug=False,
    )
