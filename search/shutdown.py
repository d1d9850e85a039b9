"""Stopping a server under load without dropping a request: ``fpsearch serve`` on SIGTERM or SIGINT.

uvicorn's own shutdown closes every idle keep-alive connection at once, so a client whose next request
is already on its way sees the connection drop without an answer. Here the server drains instead:

1. it stops accepting connections (a new one is refused: the client knows nothing was sent);
2. a request that arrives on an open connection gets a 503 with ``Connection: close`` and
   ``Retry-After``, so the client moves on cleanly, while requests already running finish;
3. connections close as their clients read that 503, or as they reach the keep-alive timeout (5 s);
4. after ``grace`` seconds (default 10) whatever still runs is cancelled, and the app shuts down.

A drained shutdown exits 0, for SIGINT as for SIGTERM (uvicorn would re-raise the signal and exit
143). A second SIGINT skips the wait.
"""

from __future__ import annotations

import asyncio
import threading
import time

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

GRACE_SECONDS = 10.0
_DRAINING = "the server is shutting down: send the request again (it is answered once it has restarted)"


class Drain:
    """ASGI middleware: once ``flag`` is set, each new HTTP request is answered 503 (and the
    connection closed); requests that came in before it run to the end."""

    def __init__(self, app, flag: threading.Event) -> None:
        self.app = app
        self.flag = flag

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self.flag.is_set():
            refusal = JSONResponse(
                {"detail": _DRAINING}, status_code=503, headers={"Connection": "close", "Retry-After": "1"}
            )
            return await refusal(scope, receive, send)
        return await self.app(scope, receive, send)


class DrainingServer(uvicorn.Server):
    """uvicorn's server with the drain above; ``flag`` is the app's ``Drain`` flag."""

    def __init__(self, config: uvicorn.Config, flag: threading.Event, grace: float = GRACE_SECONDS) -> None:
        super().__init__(config)
        self.flag = flag
        self.grace = grace

    async def shutdown(self, sockets=None) -> None:
        self.flag.set()
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        deadline = time.monotonic() + self.grace
        while self.server_state.connections and time.monotonic() < deadline and not self.force_exit:
            await asyncio.sleep(0.05)
        # the rest as uvicorn does it: close what is left, wait out what runs, then the app's shutdown
        self.config.timeout_graceful_shutdown = max(0.5, deadline - time.monotonic())
        await super().shutdown(sockets)
        captured = getattr(self, "_captured_signals", None)  # uvicorn ≥ 0.29 re-raises them after shutdown
        if captured is not None:
            captured.clear()  # drained: exit 0 rather than by the signal


def serve(app: FastAPI, host: str, port: int, log_level: str, grace: float = GRACE_SECONDS) -> None:
    """Run ``app`` (made by ``create_app``, which installs its ``Drain``) until SIGTERM or SIGINT."""
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level)
    DrainingServer(config, app.state.draining, grace).run()
