"""Serving an index: ``serve`` (HTTP) and ``mcp`` (MCP over stdio)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .. import config
from .common import (
    IndexOpt,
    ModelOpt,
    _err,
    app,
    handle_errors,
)


@app.command()
@handle_errors
def serve(
    index: IndexOpt = None,
    model: ModelOpt = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (each loads the model and index).")] = 1,
    rerank: Annotated[Optional[str], typer.Option(help="Cross-encoder to rerank the top hits with.")] = None,
    max_k: Annotated[Optional[int], typer.Option(help="Largest k a request may ask for [100].")] = None,
    max_query_chars: Annotated[Optional[int], typer.Option(help="Longest query [1000 characters].")] = None,
    max_batch: Annotated[Optional[int], typer.Option(help="Most queries in one POST /search [32].")] = None,
    max_body_bytes: Annotated[Optional[int], typer.Option(help="Largest request body [1000000 bytes].")] = None,
    result_cache: Annotated[
        Optional[int],
        typer.Option(
            help="Result lists remembered per index version, so a repeated query is not searched again; 0 turns it off [1024]."
        ),
    ] = None,
    batch_threads: Annotated[
        Optional[int],
        typer.Option(
            help="Threads that run searches, each answering the queries that wait together in one batch; 0: one per core [0]."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    grace: Annotated[
        float,
        typer.Option(
            help="Seconds a shutdown (SIGTERM, Ctrl-C) waits for running requests; new ones get a 503 meanwhile."
        ),
    ] = 10.0,
) -> None:
    """Run the HTTP API and the search page (FastAPI + uvicorn). SIGTERM or Ctrl-C drains it: running
    requests finish, new ones get a 503, and it exits 0 within --grace seconds."""
    import uvicorn

    from ..errors import InvalidInput
    from ..malloc import steady
    from ..server import ApiSettings, create_app
    from ..shutdown import serve as serve_drained
    from ..store import open_store

    steady()  # flat memory over many index reloads (see search/malloc.py)
    root = config.index_location(index)
    open_store(root).close()  # a missing or damaged index: say so now, not in a worker
    if workers < 1:
        raise InvalidInput("--workers must be at least 1")
    limits = {
        "max_k": max_k,
        "max_query_chars": max_query_chars,
        "max_batch": max_batch,
        "max_body_bytes": max_body_bytes,
        "result_cache": result_cache,
        "batch_threads": batch_threads,
    }
    settings = ApiSettings.from_env(**limits)
    if not _is_loopback(host) and not config.token():
        _err(
            f"warning: {host} is not a loopback address and FPSEARCH_TOKEN is not set: anyone who can "
            "reach this port can search the index (writes stay disabled without a token)"
        )
    if not _is_loopback(host) and not config.mcp_hosts():
        _err(
            "note: /mcp answers only requests addressed to localhost; set FPSEARCH_MCP_HOSTS to the names "
            "clients reach this server by (comma-separated, or * for any)"
        )
    _err(f"serving {root} on http://{host}:{port} (search page at /, API docs at /docs, MCP at /mcp)")
    if grace <= 0:
        raise InvalidInput("--grace must be more than 0 seconds")
    if workers == 1:
        serve_drained(create_app(root, model, settings, rerank), host, port, log_level, grace)
        return
    config.hand_to_workers(root, model, limits)
    uvicorn.run(
        "search.server:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        timeout_graceful_shutdown=grace,
    )  # uvicorn's own shutdown in each worker, bounded by --grace


@app.command()
@handle_errors
def mcp(index: IndexOpt = None, model: ModelOpt = None) -> None:
    """Serve the index to an LLM agent as MCP tools over stdio (search, get_document, positions, speakers).

    An agent starts it as a subprocess, e.g. `{"command": "fpsearch", "args": ["mcp", "--index", "/path/index"]}`.
    `fpsearch serve` offers the same tools over HTTP at /mcp."""
    from ..integrations.mcp import run_stdio
    from ..store import open_store

    root = config.index_location(index)
    open_store(root).close()  # a missing or damaged index: one line on stderr now, not an MCP error later
    _err(f"serving {root} as MCP tools on stdio")
    run_stdio(root, model)


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
