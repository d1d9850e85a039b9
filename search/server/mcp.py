"""The MCP tools mounted at ``/mcp`` on the HTTP server (with the ``server`` extra; without it ``/mcp``
says how to get them, and the rest of the API serves as before)."""

from __future__ import annotations

import contextlib
import json

from fastapi import FastAPI

from .. import config
from .settings import ApiSettings


class McpRoute:
    """The MCP tools at ``/mcp`` (streamable HTTP). Stateless, so that any worker of ``serve --workers N``
    answers any request; read-only, like the rest of the API without a token. Each run of the app's
    lifespan gets a session manager of its own (the SDK's runs only once)."""

    def __init__(self, app: FastAPI, settings: ApiSettings) -> None:
        from ..integrations.mcp import create_server, http_security

        self.server = create_server(lambda: app.state.holder.current(), settings.max_k, settings.max_query_chars)
        self.security = http_security(config.mcp_hosts())

    def running(self):
        self.server.streamable_http_app(
            streamable_http_path="/mcp", stateless_http=True, json_response=True, transport_security=self.security
        )
        return self.server.session_manager.run()

    async def __call__(self, scope, receive, send) -> None:
        await self.server.session_manager.handle_request(scope, receive, send)


class McpMissing:
    """``/mcp`` where the mcp package is not installed: a 501 whose detail says what to install."""

    def __init__(self, detail: str) -> None:
        self.detail = detail

    def running(self):
        return contextlib.nullcontext()

    async def __call__(self, scope, receive, send) -> None:
        body = json.dumps({"detail": self.detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 501,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def mcp_route(app: FastAPI, settings: ApiSettings) -> McpRoute | McpMissing:
    """The MCP tools for ``app``, or a route that says how to install them."""
    from ..errors import InvalidInput

    try:
        return McpRoute(app, settings)
    except InvalidInput as missing:
        return McpMissing(str(missing))
