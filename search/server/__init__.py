"""The HTTP API (FastAPI): ``create_app`` builds it, ``fpsearch serve`` runs it.

Modules: ``app`` (the factory and its lifespan), ``routes/`` (one router per concern: search,
documents, embeddings, service), ``schemas`` (request and response bodies), ``deps`` (what routes get
injected, and the write token), ``settings`` (the limits), ``middleware`` (the body limit), ``mcp``
(the MCP tools at ``/mcp``).
"""

from __future__ import annotations

from .app import app_from_env, create_app
from .settings import ApiSettings

__all__ = ["ApiSettings", "app_from_env", "create_app"]
