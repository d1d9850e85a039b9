"""Searching: ``/search`` (GET, and POST for batches), ``/positions`` and ``/speakers``."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ...errors import InvalidInput
from ...retrieval import Engine, SearchOptions
from ...retrieval.batching import Batcher
from ...store import Filter
from ...strength import best as best_match
from ..deps import (
    EngineDep,
    SearcherDep,
    SettingsDep,
    SinceQ,
    SourceQ,
    SpeakerQ,
    UntilQ,
    WhereQ,
    as_json,
    check_k,
    hit_models,
)
from ..schemas import BatchResponse, PositionsResponse, SearchRequest, SearchResponse, SpeakerModel
from ..settings import ApiSettings

router = APIRouter(tags=["search"])


async def run_search(
    searcher: Batcher, engine: Engine, settings: ApiSettings, queries: list[str], k: int, **options: Any
) -> list[SearchResponse]:
    """The request's options made into ``SearchOptions`` once; the batcher checks each query against
    the server's own length limit."""
    check_k(k, settings)
    opts = SearchOptions(k=k, **options)
    started = time.perf_counter()
    futures = [searcher.submit(q, opts) for q in queries]
    results = await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
    took = round((time.perf_counter() - started) * 1000, 2)
    return [
        SearchResponse(
            query=q,
            k=k,
            mode=options["mode"],
            took_ms=took,
            hits=hit_models(h),
            reading=next((hit.reading for hit in h if hit.reading), None),
            match=best_match(hit.match for hit in h),
            warnings=engine.warnings(q, h),
            version=getattr(h, "version", None),
        )
        for q, h in zip(queries, results)
    ]


@router.get("/search", response_model=SearchResponse)
async def search_get(
    searcher: SearcherDep,
    engine: EngineDep,
    settings: SettingsDep,
    q: Annotated[str, Query(description="The query text.")],
    k: Annotated[int, Query(ge=1, description="Number of hits.")] = 10,
    mode: Annotated[Literal["dense", "lexical", "hybrid"], Query()] = "hybrid",
    per_doc: Annotated[int, Query(ge=0, description="Most passages per document (0: no limit).")] = 2,
    fusion: Annotated[Literal["rrf", "weighted"], Query()] = "weighted",
    weight: Annotated[float, Query(ge=0.0, le=1.0)] = 0.5,
    since: SinceQ = None,
    until: UntilQ = None,
    source: SourceQ = [],
    where: WhereQ = [],
    speaker: SpeakerQ = None,
    literal: Annotated[bool, Query(description="Never read the query as asking what one actor says.")] = False,
) -> Response:
    """Ranked passages for one query, with source spans and the best-matching sentence. A question
    that asks what one actor of the index says gets that actor's statements first (see ``reading``)."""
    where_ = Filter.build(since, until, source, where)
    return as_json(
        (
            await run_search(
                searcher,
                engine,
                settings,
                [q],
                k,
                mode=mode,
                per_doc=per_doc,
                fusion=fusion,
                weight=weight,
                where=where_,
                speaker=speaker,
                literal=literal,
            )
        )[0]
    )


@router.get("/positions", response_model=PositionsResponse)
def positions_get(
    engine: EngineDep,
    settings: SettingsDep,
    q: Annotated[str, Query(description="The topic.")],
    by: Annotated[str, Query(description="speaker, year, source or a metadata field (country, ...).")] = "speaker",
    n: Annotated[int, Query(description="Number of actors.")] = 10,
    quotes: Annotated[int, Query(description="Quotes per actor.")] = 2,
    since: SinceQ = None,
    until: UntilQ = None,
    source: SourceQ = [],
    where: WhereQ = [],
    speaker: SpeakerQ = None,
) -> Response:
    """What each actor says about a topic: actors ranked by how strongly and how much they speak
    to it, each with counts, first and last date and best quotes."""
    started = time.perf_counter()
    found = engine.positions(
        q,
        by=by,
        n=n,
        quotes=quotes,
        where=Filter.build(since, until, source, where),
        speaker=speaker,
        max_chars=settings.max_query_chars,
    )
    took = round((time.perf_counter() - started) * 1000, 2)
    return as_json(PositionsResponse(topic=q, by=by, took_ms=took, positions=[p.as_dict() for p in found]))


@router.get("/speakers", response_model=list[SpeakerModel])
def speakers_get(
    engine: EngineDep, kind: Annotated[Literal["person", "floor"] | None, Query()] = None
) -> list[SpeakerModel]:
    """The actors the index attributes sentences to (of one kind, if given), most sentences first."""
    return [SpeakerModel(**a.as_dict()) for a in engine.speakers(kind)]


@router.post("/search", response_model=SearchResponse | BatchResponse)
async def search_post(searcher: SearcherDep, engine: EngineDep, settings: SettingsDep, body: SearchRequest) -> Response:
    """One query (``query``) or a batch (``queries``): the same hits as GET /search."""
    if (body.query is None) == (body.queries is None):
        raise InvalidInput("give either 'query' or 'queries'")
    queries = [body.query] if body.query is not None else list(body.queries or [])
    if not queries:
        raise InvalidInput("'queries' is empty")
    if len(queries) > settings.max_batch:
        raise InvalidInput(f"{len(queries)} queries; the batch limit is {settings.max_batch}")
    where_ = Filter.build(body.since, body.until, body.source, body.where)
    started = time.perf_counter()
    results = await run_search(
        searcher,
        engine,
        settings,
        queries,
        body.k,
        mode=body.mode,
        per_doc=body.per_doc,
        fusion=body.fusion,
        weight=body.weight,
        where=where_,
        speaker=body.speaker,
        literal=body.literal,
    )
    if body.query is not None:
        return as_json(results[0])
    return as_json(BatchResponse(took_ms=round((time.perf_counter() - started) * 1000, 2), results=results))
