"""The HTTP app: ``create_app`` puts the routers, the error handlers and the middleware together, and
its lifespan opens the index (a ``LiveIndex``), the model and the search threads.

Routes get the engine injected (``deps.engine``; tests point the app at any index, or override it).
Searches go through a ``Batcher`` (``deps.searcher``): a few threads of its own answer the queries that
wait at the same time in one batch. The live index notices when another process publishes a new index
generation (``fpsearch add``/``remove``/``index``) and switches to it between requests.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.routing import Route
from threadpoolctl import threadpool_limits

from .. import config
from ..errors import FpsearchError
from ..retrieval.batching import Batcher
from ..retrieval.live import LiveIndex
from ..shutdown import Drain
from ..version import __version__
from .mcp import mcp_route
from .middleware import BodyLimit
from .routes import documents, embeddings, search, service
from .routes.service import WEB
from .settings import ApiSettings


def create_app(
    index: Path | str | None = None,
    model: str | None = None,
    settings: ApiSettings | None = None,
    rerank: str | None = None,
) -> FastAPI:
    """The fpsearch HTTP app for the index at ``index`` (default: the configured index folder)."""
    root = config.index_location(index)
    settings = settings or ApiSettings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        holder = LiveIndex(
            root, config.model_name(model), settings.reload_check_seconds, settings.result_cache, rerank=rerank
        )
        app.state.holder = holder
        holder.engine.embed(["warm up"])  # load the model before the first request
        holder.engine.warnings("warm up")  # and the language detector's
        app.state.searcher = Batcher(
            holder.current, threads=settings.batch_threads, max_query_chars=settings.max_query_chars
        )
        # Searches already run side by side, one per core: a matrix product that fanned out over every
        # core (numpy's BLAS default) would only make them wait on each other.
        blas = threadpool_limits(1, user_api="blas")
        try:
            async with agents.running():
                yield
        finally:
            blas.restore_original_limits()
            app.state.searcher.close()
            holder.close()

    # /docs and /redoc with Swagger UI and ReDoc served from the fastapi-offline package, not a CDN
    app = FastAPIOffline(
        static_url="/docs-assets",
        title="fpsearch",
        version=__version__,
        summary="Semantic search over foreign-policy texts, with exact source spans.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.index = root
    app.state.token = config.token()
    agents = mcp_route(app, settings)
    app.router.routes.append(Route("/mcp", agents))  # on our app: our body limit and error handlers apply

    @app.exception_handler(FpsearchError)
    async def library_error(request: Request, exc: FpsearchError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    for module in (search, documents, embeddings, service):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=WEB), name="static")
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.state.draining = threading.Event()  # set when the server shuts down: see search.shutdown
    app.add_middleware(Drain, flag=app.state.draining)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (used by ``fpsearch serve --workers N``)."""
    from ..malloc import steady

    steady()  # each worker is a process of its own
    return create_app(config.index_location(), config.model_name())
