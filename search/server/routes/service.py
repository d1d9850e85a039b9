"""The service itself: ``/health``, ``/info``, ``/reload``, and the search page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from ...errors import IndexDamaged
from ...retrieval import MODES
from ...retrieval.live import LiveIndex
from ..deps import EngineDep, SettingsDep, require_token
from ..schemas import ChangeResponse
from .documents import changed

WEB = Path(__file__).resolve().parent.parent.parent / "web"

router = APIRouter()


@router.post("/reload", response_model=ChangeResponse, tags=["service"], dependencies=[Depends(require_token)])
def reload(request: Request) -> ChangeResponse:
    """Switch to the index's live generation now (needs the token; it also happens by itself)."""
    from ...indexing import Report

    request.app.state.holder.reload(force=True)
    return changed(request, Report())


@router.get(
    "/health",
    tags=["service"],
    responses={503: {"description": "The served index is damaged: `problems` names each damaged file."}},
)
def health(request: Request) -> Any:
    """Liveness and what is being served; a 503 with ``status: damaged`` and the ``problems`` when
    the index's files were damaged under the server."""
    holder: LiveIndex = request.app.state.holder
    try:
        engine = holder.current()
    except IndexDamaged as exc:
        return JSONResponse(
            {
                "status": "damaged",
                "detail": str(exc),
                "problems": holder.problems,
                "generation": holder.engine.store.version,
            },
            status_code=503,
        )
    return {
        "status": "ok",
        "generation": engine.store.version,
        "documents": engine.store.document_count,
        "passages": engine.store.passage_count,
        "warming": engine.store.warming,
    }


@router.get("/info", tags=["service"])
def info(engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    """The index manifest, file sizes and the service limits."""
    store = engine.store
    return {
        **store.describe(),
        **store.manifest,
        "limits": settings.__dict__,
        "modes": list(MODES),
    }


@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(WEB / "index.html")


@router.get("/view", include_in_schema=False)
def view() -> FileResponse:
    return FileResponse(WEB / "view.html")


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return Response(status_code=204)
