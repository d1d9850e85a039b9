"""What routes get injected: the engine, the search threads, the settings, the write token; and
the small checks and encoders every route shares."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from ..errors import InvalidInput
from ..retrieval import Engine, Hit
from ..retrieval.batching import Batcher
from .schemas import HitModel
from .settings import ApiSettings


def engine(request: Request) -> Engine:
    """The engine for this request (a FastAPI dependency; override it in tests)."""
    return request.app.state.holder.current()


async def searcher(request: Request) -> Batcher:
    """The batcher that runs this app's searches (a FastAPI dependency; override it in tests)."""
    return request.app.state.searcher


def settings(request: Request) -> ApiSettings:
    """This app's limits."""
    return request.app.state.settings


EngineDep = Annotated[Engine, Depends(engine)]
SinceQ = Annotated[str | None, Query(description="YYYY[-MM[-DD]]")]
UntilQ = Annotated[str | None, Query(description="YYYY[-MM[-DD]]")]
SourceQ = Annotated[list[str], Query()]
WhereQ = Annotated[list[str], Query(description="FIELD=VALUE or FIELD=A|B")]
SpeakerQ = Annotated[str | None, Query(description="Only sentences spoken by this actor (a name or a surname).")]
SearcherDep = Annotated[Batcher, Depends(searcher)]
SettingsDep = Annotated[ApiSettings, Depends(settings)]


class ModelNotServed(InvalidInput):
    """The embeddings request names a model this server does not run (404, as OpenAI answers)."""

    http_status = 404


def require_token(request: Request) -> None:
    """Writes need ``Authorization: Bearer $FPSEARCH_TOKEN`` (compared in constant time); without a
    configured token they are disabled."""
    token = request.app.state.token
    if not token:
        raise HTTPException(403, "writes are disabled: start the server with FPSEARCH_TOKEN set")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})


def check_k(k: int, settings: ApiSettings) -> None:
    if k > settings.max_k:
        raise InvalidInput(f"k is {k}; the limit is {settings.max_k}")


def hit_models(hits: list[Hit]) -> list[HitModel]:
    return [HitModel(**h.as_dict()) for h in hits]


def as_json(model: BaseModel) -> Response:
    """``model`` serialised once, by pydantic's core. Returned as a model, FastAPI would validate it
    again against the route's ``response_model`` and encode it twice more; the route still declares
    ``response_model`` for the OpenAPI schema."""
    return Response(model.model_dump_json(), media_type="application/json")
