"""The HTTP service: a FastAPI app built by ``create_app``; routes are thin and get the engine injected.

The index and the model are opened in ``lifespan`` and handed to routes with ``Depends(engine)``; tests
point the app at any index (or override ``engine``). Searches go through a ``Batcher`` (``Depends(searcher)``):
a few threads of its own answer the queries that wait at the same time in one batch. The service notices
when another process publishes a new index generation (``fpsearch add``/``remove``/``index``) and
switches to it between requests.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import os
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field, field_validator
from starlette.routing import Route
from threadpoolctl import threadpool_limits

from . import __version__
from .errors import FpsearchError, IndexDamaged, InvalidInput
from .models import canonical_name
from .positions import Quote
from .retrieval import MODES, Engine, Hit
from .retrieval.batching import Batcher
from .retrieval.live import LiveIndex
from .shutdown import Drain
from .store import Filter
from .strength import best as best_match

WEB = Path(__file__).resolve().parent / "web"


@dataclass(frozen=True)
class ApiSettings:
    """Limits that protect a small machine; each can be set with ``FPSEARCH_<NAME>`` or a serve option."""

    max_query_chars: int = 1000
    max_k: int = 100
    max_batch: int = 32
    max_body_bytes: int = 1_000_000
    max_embed_inputs: int = 256
    max_add_documents: int = 100
    reload_check_seconds: float = 1.0
    # Result lists remembered per index version (a repeated query is answered without searching).
    result_cache: int = 1024
    # Threads that run searches, batching the queries that wait together (0: one per core).
    batch_threads: int = 0

    def __post_init__(self) -> None:
        if self.result_cache < 0:
            raise InvalidInput("--result-cache (FPSEARCH_RESULT_CACHE) must be 0 (off) or more")
        if self.batch_threads < 0:
            raise InvalidInput("--batch-threads (FPSEARCH_BATCH_THREADS) must be 0 (one per core) or more")

    @classmethod
    def from_env(cls, **overrides: Any) -> ApiSettings:
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(f"FPSEARCH_{f.name.upper()}")
            if raw is not None:
                try:
                    values[f.name] = type(f.default)(raw)
                except ValueError:
                    kind = "a whole number" if isinstance(f.default, int) else "a number"
                    raise InvalidInput(f"FPSEARCH_{f.name.upper()} must be {kind}, not {raw!r}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def engine(request: Request) -> Engine:
    """The engine for this request (a FastAPI dependency; override it in tests)."""
    return request.app.state.holder.current()


async def searcher(request: Request) -> Batcher:
    """The batcher that runs this app's searches (a FastAPI dependency; override it in tests)."""
    return request.app.state.searcher


EngineDep = Annotated[Engine, Depends(engine)]
SinceQ = Annotated[str | None, Query(description="YYYY[-MM[-DD]]")]
UntilQ = Annotated[str | None, Query(description="YYYY[-MM[-DD]]")]
SourceQ = Annotated[list[str], Query()]
WhereQ = Annotated[list[str], Query(description="FIELD=VALUE or FIELD=A|B")]
SpeakerQ = Annotated[str | None, Query(description="Only sentences spoken by this actor (a name or a surname).")]
SearcherDep = Annotated[Batcher, Depends(searcher)]


# -- response and request models -------------------------------------------------------------


class HitModel(BaseModel):
    """A ranked passage. ``text == document.text[start:end]``; ``sentence_start``/``sentence_end`` mark
    the sentence closest to the query. ``score``: cosine (dense), BM25 (lexical), the weighted
    fusion of both scores, each scaled 0..1 (hybrid; or reciprocal-rank fusion), or reranker logit;
    ``cosine``: the passage vector against the query vector."""

    rank: int
    doc_id: str
    title: str
    date: str | None
    source: str
    score: float
    cosine: float | None
    start: int
    end: int
    text: str
    sentence_start: int
    sentence_end: int
    passage_id: int
    metadata: dict[str, Any]
    speaker: str | None = Field(None, description="Who speaks the best sentence (an actor of the index), or null.")
    speaker_kind: Literal["person", "floor"] | None = Field(
        None, description="person, floor (a question or remark from the floor) or null."
    )
    reading: str | None = Field(None, description="Set on the hits of the actor a question was read as naming.")
    match: Literal["strong", "weak", "none"] | None = Field(
        None, description="How well this passage matches the query, absolutely (from its cosine and how many "
        "of the query's words it holds): strong, weak or none.")


class PositionModel(BaseModel):
    """An actor's stand on a topic. ``score``: the discounted sum of its passages' gains over the
    pool's anchor (see ``search.positions``); higher means it speaks to the topic more strongly and more."""

    actor: str
    kind: str | None = None
    score: float
    documents: int
    passages: int
    first_date: str | None
    last_date: str | None
    quotes: list[Quote] = Field(description="Its best quotes: ``text == document.text[start:end]`` and "
                                "``sentence == document.text[sentence_start:sentence_end]``.")


class PositionsResponse(BaseModel):
    topic: str
    by: str
    took_ms: float
    positions: list[PositionModel]


class SpeakerModel(BaseModel):
    actor: str
    kind: Literal["person", "floor"]
    documents: int
    passages: int
    sentences: int


class SearchResponse(BaseModel):
    query: str
    k: int
    mode: str
    took_ms: float = Field(description="Milliseconds from handing the query to the search threads to its hits "
                           "(waiting for a thread included).")
    reading: str | None = Field(None, description="How the query was read when it asks what one actor says: "
                                "e.g. \"statements by Vladimir Putin\", whose hits come first (null: read as written).")
    match: Literal["strong", "weak", "none"] | None = Field(
        "none", description="The strongest hit's match: \"weak\" or \"none\" means nothing in the index answers the "
        "query well, and the hits are only the closest passages (null: not known for this index's model).")
    warnings: list[str] = Field([], description="What to know before trusting the hits: no strong match, or a "
                                "query in a language the index's model does not read.")
    version: str | None = Field(None, description="The index version that answered (a generation of a folder "
                                "index): every hit comes from it, also while changes are being published.")
    hits: list[HitModel]


class BatchResponse(BaseModel):
    took_ms: float
    results: list[SearchResponse]


class SearchRequest(BaseModel):
    """One query (``query``) or a batch (``queries``), with the same options as GET /search."""

    query: str | None = None
    queries: list[str] | None = None
    k: int = Field(10, ge=1)
    mode: Literal["dense", "lexical", "hybrid"] = "hybrid"
    per_doc: int | None = Field(2, ge=0, description="Most passages per document (0 or null: no limit).")
    fusion: Literal["rrf", "weighted"] = "weighted"
    weight: float = Field(0.5, ge=0.0, le=1.0)
    since: str | None = None
    until: str | None = None
    source: list[str] = []
    where: list[str] = []
    speaker: str | None = Field(None, description="Only sentences spoken by this actor (a name or a surname).")
    literal: bool = Field(False, description="Never read the query as asking what one actor says.")


class DocumentResponse(BaseModel):
    doc_id: str
    title: str
    date: str | None
    source: str
    hash: str
    metadata: dict[str, Any]
    text: str
    start: int | None = None
    end: int | None = None
    span: str | None = None


class EmbeddingRequest(BaseModel):
    """OpenAI-compatible: ``input`` is a string or a list of strings."""

    input: str | list[str]
    model: str = "default"
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None
    user: str | None = None

    @field_validator("input")
    @classmethod
    def not_empty(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not value:
            raise ValueError("input must not be an empty list")
        items = [value] if isinstance(value, str) else value
        empty = [i for i, text in enumerate(items) if text == ""]
        if empty:  # as OpenAI does: an empty string has no embedding
            where = "input" if isinstance(value, str) else f"input {empty[0]}"
            raise ValueError(f"{where} is an empty string; give text to embed")
        return value


class DocumentIn(BaseModel):
    """A document to add or replace (same id and content: nothing changes)."""

    doc_id: str = Field(min_length=1, max_length=1000)
    text: str = Field(min_length=1)
    title: str = ""
    date: str | None = None
    source: str = "api"
    metadata: dict[str, Any] = {}

    @field_validator("text")
    @classmethod
    def has_words(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty")
        return value


class AddRequest(BaseModel):
    documents: list[DocumentIn] = Field(min_length=1)


class ChangeResponse(BaseModel):
    generation: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    missing: list[str] = []
    passages: int = 0
    seconds: float = 0.0


class EmbeddingItem(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingItem]
    model: str
    usage: EmbeddingUsage


# -- the app ---------------------------------------------------------------------------------


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, whether or not Content-Length is sent."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                if int(declared) > self.max_bytes:
                    return await self._too_big()(scope, receive, send)
            except ValueError:
                return await JSONResponse({"detail": "bad Content-Length"}, status_code=400)(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await self._too_big()(scope, receive, send)

    def _too_big(self) -> JSONResponse:
        # made only when needed: building a response for every request cost ~0.15 ms of the event loop
        return JSONResponse({"detail": f"request body is over the limit of {self.max_bytes} bytes"}, status_code=413)


class _BodyTooLarge(Exception):
    pass


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


def _check_k(k: int, settings: ApiSettings) -> None:
    if k > settings.max_k:
        raise InvalidInput(f"k is {k}; the limit is {settings.max_k}")


def _check_query(query: str, settings: ApiSettings) -> None:
    if len(query) > settings.max_query_chars:
        raise InvalidInput(f"the query is {len(query)} characters; the limit is {settings.max_query_chars}")


def _hits(hits: list[Hit]) -> list[HitModel]:
    return [HitModel(**h.as_dict()) for h in hits]


def _json(model: BaseModel) -> Response:
    """``model`` serialised once, by pydantic's core. Returned as a model, FastAPI would validate it
    again against the route's ``response_model`` and encode it twice more; the route still declares
    ``response_model`` for the OpenAPI schema."""
    return Response(model.model_dump_json(), media_type="application/json")


def create_app(
    index: Path | str | None = None,
    model: str | None = None,
    settings: ApiSettings | None = None,
    rerank: str | None = None,
) -> FastAPI:
    """The fpsearch HTTP app for the index at ``index`` (default: the configured index folder)."""
    from . import config

    root = config.index_location(index)
    settings = settings or ApiSettings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        holder = LiveIndex(root, config.model_name(model), settings.reload_check_seconds, settings.result_cache,
                           rerank=rerank)
        app.state.holder = holder
        holder.engine.embed(["warm up"])  # load the model before the first request
        holder.engine.warnings("warm up")  # and the language detector's
        app.state.searcher = Batcher(holder.current, threads=settings.batch_threads)
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
    app.state.token = os.environ.get("FPSEARCH_TOKEN") or None
    agents = _McpRoute(app, settings)
    app.router.routes.append(Route("/mcp", agents))  # on our app: our body limit and error handlers apply

    @app.exception_handler(FpsearchError)
    async def library_error(request: Request, exc: FpsearchError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    async def run_search(searcher: Batcher, engine: Engine, queries: list[str], k: int,
                         **options: Any) -> list[SearchResponse]:
        for q in queries:
            _check_query(q, settings)
        _check_k(k, settings)
        started = time.perf_counter()
        futures = [searcher.submit(q, k, **options) for q in queries]
        results = await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
        took = round((time.perf_counter() - started) * 1000, 2)
        return [
            SearchResponse(query=q, k=k, mode=options["mode"], took_ms=took, hits=_hits(h),
                           reading=next((hit.reading for hit in h if hit.reading), None),
                           match=best_match(hit.match for hit in h), warnings=engine.warnings(q, h),
                           version=getattr(h, "version", None))
            for q, h in zip(queries, results)
        ]

    @app.get("/search", response_model=SearchResponse, tags=["search"])
    async def search_get(
        searcher: SearcherDep,
        engine: EngineDep,
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
        return _json((await run_search(
            searcher, engine, [q], k, mode=mode, per_doc=per_doc, fusion=fusion, weight=weight, where=where_,
            speaker=speaker, literal=literal,
        ))[0])

    @app.get("/positions", response_model=PositionsResponse, tags=["search"])
    def positions_get(
        engine: EngineDep,
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
        _check_query(q, settings)
        started = time.perf_counter()
        found = engine.positions(q, by=by, n=n, quotes=quotes, where=Filter.build(since, until, source, where),
                                 speaker=speaker)
        took = round((time.perf_counter() - started) * 1000, 2)
        return _json(PositionsResponse(topic=q, by=by, took_ms=took, positions=[p.as_dict() for p in found]))

    @app.get("/speakers", response_model=list[SpeakerModel], tags=["search"])
    def speakers_get(
        engine: EngineDep, kind: Annotated[Literal["person", "floor"] | None, Query()] = None
    ) -> list[SpeakerModel]:
        """The actors the index attributes sentences to (of one kind, if given), most sentences first."""
        return [SpeakerModel(**a.as_dict()) for a in engine.speakers(kind)]

    @app.post("/search", response_model=SearchResponse | BatchResponse, tags=["search"])
    async def search_post(searcher: SearcherDep, engine: EngineDep, body: SearchRequest) -> Response:
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
            searcher, engine, queries, body.k, mode=body.mode, per_doc=body.per_doc, fusion=body.fusion,
            weight=body.weight, where=where_, speaker=body.speaker, literal=body.literal,
        )
        if body.query is not None:
            return _json(results[0])
        return _json(BatchResponse(took_ms=round((time.perf_counter() - started) * 1000, 2), results=results))

    @app.get("/documents/{doc_id:path}", response_model=DocumentResponse, tags=["documents"])
    def get_document(
        engine: EngineDep,
        doc_id: str,
        start: Annotated[int | None, Query(ge=0)] = None,
        end: Annotated[int | None, Query(ge=0)] = None,
    ) -> DocumentResponse:
        """A stored document; with ``start``/``end`` also that span of its text."""
        doc = engine.document(doc_id)
        out = DocumentResponse(
            doc_id=doc.doc_id, title=doc.title, date=doc.date, source=doc.source, hash=doc.hash,
            metadata=doc.metadata, text=doc.text,
        )
        if start is not None or end is not None:
            s = 0 if start is None else start
            e = len(doc.text) if end is None else end
            if not s <= e <= len(doc.text):
                raise InvalidInput(f"span {s}-{e} is outside the document (0-{len(doc.text)})")
            out.start, out.end, out.span = s, e, doc.text[s:e]
        return out

    def changed(request: Request, report) -> ChangeResponse:
        holder: LiveIndex = request.app.state.holder
        holder.reload()
        return ChangeResponse(
            generation=holder.engine.store.version, added=report.added, updated=report.updated,
            unchanged=report.unchanged, removed=report.removed, missing=report.missing,
            passages=report.passages, seconds=round(report.seconds, 3),
        )

    @app.post("/documents", response_model=ChangeResponse, tags=["documents"],
              dependencies=[Depends(require_token)])
    def add_docs(request: Request, engine: EngineDep, body: AddRequest) -> ChangeResponse:
        """Add documents or replace changed ones, then serve the new index generation (needs the token)."""
        from .documents import Document, clean_text
        from .indexing import add_documents

        if len(body.documents) > settings.max_add_documents:
            raise InvalidInput(f"{len(body.documents)} documents; the limit is {settings.max_add_documents}")
        docs = [
            Document(doc_id=clean_text(d.doc_id), text=clean_text(d.text), title=clean_text(d.title),
                     date=d.date, source=d.source, metadata=d.metadata)
            for d in body.documents
        ]
        return changed(request, add_documents(docs, root, model=engine.embedder))

    @app.delete("/documents/{doc_id:path}", response_model=ChangeResponse, tags=["documents"],
                dependencies=[Depends(require_token)])
    def remove_doc(request: Request, doc_id: str) -> ChangeResponse:
        """Remove a document from the index (needs the token)."""
        from .indexing import remove

        return changed(request, remove([doc_id], root))

    @app.post("/reload", response_model=ChangeResponse, tags=["service"], dependencies=[Depends(require_token)])
    def reload(request: Request) -> ChangeResponse:
        """Switch to the index's live generation now (needs the token; it also happens by itself)."""
        from .indexing import Report

        request.app.state.holder.reload(force=True)
        return changed(request, Report())

    @app.post("/v1/embeddings", response_model=EmbeddingResponse, tags=["embeddings"])
    def embeddings(engine: EngineDep, body: EmbeddingRequest) -> EmbeddingResponse:
        """OpenAI-compatible embeddings with the index's own model: unit vectors, so a dot product with
        them ranks passages exactly as fpsearch does."""
        name = engine.manifest["model"]["name"]
        accepted = {"default", "fpsearch", name, name.rsplit("/", 1)[-1]}
        if body.model not in accepted and canonical_name(body.model) != name:
            raise ModelNotServed(f"model {body.model!r} is not served here; use {name!r} (or 'default')")
        texts = [body.input] if isinstance(body.input, str) else list(body.input)
        if len(texts) > settings.max_embed_inputs:
            raise InvalidInput(f"{len(texts)} inputs; the limit is {settings.max_embed_inputs}")
        dim = int(engine.manifest["model"]["dimension"])
        if body.dimensions is not None and body.dimensions != dim:
            raise InvalidInput(f"this model gives {dim} dimensions, not {body.dimensions}")
        counter = engine.embedder.counter
        counts = counter.count(texts)
        limit = engine.embedder.max_tokens
        for i, n in enumerate(counts):
            if n > limit:
                raise InvalidInput(f"input {i} is {n} tokens; the model reads at most {limit}")
        vectors = engine.embed(texts)
        data = []
        for i, v in enumerate(vectors):
            if body.encoding_format == "base64":
                emb: list[float] | str = base64.b64encode(np.asarray(v, dtype="<f4").tobytes()).decode()
            else:
                emb = [float(x) for x in v]
            data.append(EmbeddingItem(index=i, embedding=emb))
        tokens = sum(counts) + 2 * len(texts)
        return EmbeddingResponse(data=data, model=name, usage=EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens))

    @app.get("/health", tags=["service"], responses={503: {"description": "The served index is damaged: "
                                                          "`problems` names each damaged file."}})
    def health(request: Request) -> Any:
        """Liveness and what is being served; a 503 with ``status: damaged`` and the ``problems`` when
        the index's files were damaged under the server."""
        holder: LiveIndex = request.app.state.holder
        try:
            engine = holder.current()
        except IndexDamaged as exc:
            return JSONResponse({"status": "damaged", "detail": str(exc), "problems": holder.problems,
                                 "generation": holder.engine.store.version}, status_code=503)
        return {
            "status": "ok",
            "generation": engine.store.version,
            "documents": engine.store.document_count,
            "passages": engine.store.passage_count,
            "warming": engine.store.warming,
        }

    @app.get("/info", tags=["service"])
    def info(engine: EngineDep) -> dict[str, Any]:
        """The index manifest, file sizes and the service limits."""
        store = engine.store
        return {
            **store.describe(),
            **store.manifest,
            "limits": settings.__dict__,
            "modes": list(MODES),
        }

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(WEB / "index.html")

    @app.get("/view", include_in_schema=False)
    def view() -> FileResponse:
        return FileResponse(WEB / "view.html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    app.mount("/static", StaticFiles(directory=WEB), name="static")
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.state.draining = threading.Event()  # set when the server shuts down: see search.shutdown
    app.add_middleware(Drain, flag=app.state.draining)
    return app


class _McpRoute:
    """The MCP tools at ``/mcp`` (streamable HTTP). Stateless, so that any worker of ``serve --workers N``
    answers any request; read-only, like the rest of the API without a token. Each run of the app's
    lifespan gets a session manager of its own (the SDK's runs only once)."""

    def __init__(self, app: FastAPI, settings: ApiSettings) -> None:
        from .integrations.mcp import create_server, http_security

        self.server = create_server(lambda: app.state.holder.current(), settings.max_k, settings.max_query_chars)
        self.security = http_security(os.environ.get("FPSEARCH_MCP_HOSTS"))

    def running(self):
        self.server.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, json_response=True,
                                        transport_security=self.security)
        return self.server.session_manager.run()

    async def __call__(self, scope, receive, send) -> None:
        await self.server.session_manager.handle_request(scope, receive, send)


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (used by ``fpsearch serve --workers N``)."""
    from .malloc import steady

    steady()  # each worker is a process of its own
    return create_app(os.environ.get("FPSEARCH_INDEX"), os.environ.get("FPSEARCH_MODEL"))
