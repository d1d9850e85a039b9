"""fpsearch as an MCP server: tools an LLM agent calls to search the index and quote from it.

Two ways to run it, with the same tools: ``fpsearch mcp`` speaks MCP over stdio (an agent starts it as
a subprocess), and ``fpsearch serve`` mounts it at ``/mcp`` (streamable HTTP, stateless, so any worker
answers any request). Tools:

- ``search``: ranked passages with their source spans;
- ``get_document``: a document's text, or one span of it;
- ``positions``: what each actor (speaker, country, year ...) says about a topic;
- ``speakers``: the actors the index attributes sentences to.

and a resource template, ``fpsearch://documents/{doc_id}``, for a document's text. Every passage an
agent gets carries ``doc_id``, ``title``, ``date`` and its span (``start``/``end``, character offsets
into the document's text), so what it quotes can be checked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote, unquote

from pydantic import BaseModel, Field

from .. import __version__
from ..errors import FpsearchError, InvalidInput
from ..retrieval import Engine, Hit, SearchOptions, check_query
from ..strength import best as best_match

try:
    from mcp.server import MCPServer
    from mcp.server.mcpserver.exceptions import ResourceError, ToolError
    from mcp.server.transport_security import TransportSecuritySettings
except ImportError as exc:  # pragma: no cover - the optional extra is missing
    raise InvalidInput("the MCP server needs the mcp package: pip install 'fpsearch[server]'") from exc

URI_TEMPLATE = "fpsearch://documents/{doc_id}"
LOCAL_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", "[::1]")

INSTRUCTIONS = """\
fpsearch searches a body of foreign-policy texts (speeches, statements, briefings, news) by meaning and
by words, and answers with passages you can quote. Call `search` with a question or a topic; cite a
passage by its title, date and doc_id. A passage's `text` is exactly the document's text from `start`
to `end` (character offsets); `sentence` is the sentence that matches the query best. Call
`get_document` with a doc_id (and a start/end) to read more around a passage. To compare who says what,
call `positions`; `speakers` lists the actors a `speaker` filter accepts."""

SCORE_NOTE = (
    "score: higher ranks first; compare scores only within one answer. In hybrid mode (the default) it "
    "is the mean of the passage's meaning match and word match, each scaled 0..1 among the answer's "
    "candidates, so it says how a passage compares with the others, not how well it matches; cosine "
    "(-1..1; about 0.5 and up is close in meaning) is the absolute measure."
)


class Passage(BaseModel):
    """A ranked passage and where it comes from."""

    rank: int
    doc_id: str
    title: str
    date: str | None = Field(description="YYYY, YYYY-MM or YYYY-MM-DD; null where the source gives none.")
    source: str = Field(description="The file or collection the document came from.")
    score: float
    cosine: float | None = Field(description="The passage's vector against the query's: -1..1.")
    start: int = Field(description="Character offset of the passage in the document's text.")
    end: int = Field(description="Character offset where the passage ends (exclusive).")
    text: str = Field(description="The passage: document text[start:end].")
    sentence: str = Field(description="The sentence that matches the query best: text[sentence_start:sentence_end].")
    sentence_start: int
    sentence_end: int
    speaker: str | None = Field(None, description="Who speaks that sentence, where the index knows.")
    speaker_kind: str | None = Field(None, description="person, floor (a question from the floor) or null.")
    match: str | None = Field(None, description="How well it matches the query, absolutely: strong, weak or none.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="The document's other fields (country, ...).")
    uri: str = Field(description="The document as an MCP resource.")

    @classmethod
    def of(cls, hit: Hit) -> Passage:
        return cls(
            rank=hit.rank,
            doc_id=hit.doc_id,
            title=hit.title,
            date=hit.date,
            source=hit.source,
            score=round(hit.score, 4),
            cosine=None if hit.cosine is None else round(hit.cosine, 4),
            start=hit.start,
            end=hit.end,
            text=hit.text,
            sentence=hit.sentence,
            sentence_start=hit.sentence_start,
            sentence_end=hit.sentence_end,
            speaker=hit.speaker,
            speaker_kind=hit.speaker_kind,
            match=hit.match,
            metadata=dict(hit.metadata),
            uri=document_uri(hit.doc_id),
        )


class SearchResult(BaseModel):
    query: str
    mode: str
    reading: str | None = Field(
        None,
        description="How the query was read when it asks what one actor says "
        '(e.g. "statements by Vladimir Putin"); those hits come first.',
    )
    match: str | None = Field(
        description="The strongest hit's match (null: not known for this index's model): weak or none means nothing in the index answers "
        "the query well, and the hits are only the closest passages: say so rather than cite them."
    )
    warnings: list[str] = Field(default_factory=list, description="What to know before trusting the hits.")
    hits: list[Passage]


class DocumentText(BaseModel):
    doc_id: str
    title: str
    date: str | None
    source: str
    metadata: dict[str, Any]
    length: int = Field(description="Characters in the whole text.")
    start: int
    end: int
    text: str = Field(description="The document's text from start to end.")
    uri: str


class Quote(BaseModel):
    doc_id: str
    title: str
    date: str | None
    start: int
    end: int
    sentence: str = Field(description="The actor's best sentence on the topic in this passage.")
    sentence_start: int
    sentence_end: int
    speaker: str | None
    score: float


class Position(BaseModel):
    actor: str
    kind: str | None
    score: float = Field(description="How strongly and how much this actor speaks to the topic (higher: more).")
    documents: int
    passages: int
    first_date: str | None
    last_date: str | None
    party: bool = Field(
        False, description="A party to the topic (named by it, or by others on it): listed so its side is heard."
    )
    quotes: list[Quote]


class PositionsResult(BaseModel):
    topic: str
    by: str
    positions: list[Position]


class Speaker(BaseModel):
    actor: str
    kind: str
    documents: int
    sentences: int
    asks: bool = Field(description="Asks more than answers (an interviewer): left out of positions unless chosen.")


def document_uri(doc_id: str) -> str:
    return URI_TEMPLATE.format(doc_id=quote(doc_id, safe=""))


def create_server(
    current: Callable[[], Engine], max_k: int = 100, max_query_chars: int = 1000, name: str = "fpsearch"
) -> MCPServer:
    """The MCP server over the engine ``current()`` returns (called per request, so a server that
    switches to a new index generation serves it here too)."""
    from ..store import Filter

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    server = MCPServer(name, instructions=INSTRUCTIONS, version=__version__)
    root.handlers[:], root.level = handlers, level  # the SDK sets up the root logger: the application's call

    def answer(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except FpsearchError as exc:  # the caller's mistake, said in words it can act on
            raise ToolError(str(exc)) from None

    @server.tool(
        description="Search the foreign-policy texts: ranked passages, each with doc_id, title, date, its "
        "span (start/end: character offsets into the document's text), the best-matching sentence and, "
        f"where the index knows, its speaker. {SCORE_NOTE} match (strong, weak, none) says how well the best "
        "passage answers the query; warnings say when it is weak or the query's language is one the index "
        "cannot read. Filters: since/until (YYYY[-MM[-DD]]), source, "
        "where (FIELD=VALUE or FIELD=A|B, e.g. country=Japan), speaker (an actor's name or surname).",
        structured_output=True,
    )
    def search(
        query: str,
        k: int = Field(10, ge=1, description="Number of passages."),
        mode: Literal["hybrid", "dense", "lexical"] = Field(
            "hybrid", description="hybrid: meaning and words (best on our evaluations); dense: meaning; lexical: words."
        ),
        since: str | None = Field(None, description="Earliest date, YYYY[-MM[-DD]]."),
        until: str | None = Field(None, description="Latest date, YYYY[-MM[-DD]]."),
        source: list[str] = Field(default_factory=list, description="Only documents from these sources."),
        where: list[str] = Field(default_factory=list, description="Metadata filters: FIELD=VALUE or FIELD=A|B."),
        speaker: str | None = Field(None, description="Only sentences spoken by this actor (see the speakers tool)."),
        per_doc: int = Field(2, ge=0, description="Most passages from one document (0: no limit)."),
    ) -> SearchResult:
        if k > max_k:
            raise ToolError(f"k is {k}; the limit is {max_k}")

        def run() -> SearchResult:
            options = SearchOptions(
                k=k, mode=mode, per_doc=per_doc, speaker=speaker, where=Filter.build(since, until, source, where)
            )
            text = check_query(query, max_query_chars)
            engine = current()
            hits = engine.answer([text], options)[0]
            reading = next((h.reading for h in hits if h.reading), None)
            return SearchResult(
                query=query,
                mode=mode,
                reading=reading,
                match=best_match(h.match for h in hits),
                warnings=engine.warnings(query, hits),
                hits=[Passage.of(h) for h in hits],
            )

        return answer(run)

    @server.tool(
        description="A document's text and fields, by doc_id (from a search hit). With start and end "
        "(character offsets, as in a hit's span) only that part of the text: widen a hit's span to read "
        "its context.",
        structured_output=True,
    )
    def get_document(
        doc_id: str,
        start: int | None = Field(None, ge=0, description="First character (default: the beginning)."),
        end: int | None = Field(None, ge=0, description="Character after the last (default: the end)."),
    ) -> DocumentText:
        doc = answer(lambda: current().document(doc_id))
        s = 0 if start is None else start
        e = len(doc.text) if end is None else min(end, len(doc.text))
        if s > e:
            raise ToolError(f"span {s}-{e} is outside the document (0-{len(doc.text)})")
        return DocumentText(
            doc_id=doc.doc_id,
            title=doc.title,
            date=doc.date,
            source=doc.source,
            metadata=dict(doc.metadata),
            length=len(doc.text),
            start=s,
            end=e,
            text=doc.text[s:e],
            uri=document_uri(doc.doc_id),
        )

    @server.tool(
        description="What each actor says about a topic: actors (grouped by speaker, year, source or a "
        "metadata field such as country) ranked by how strongly and how much they speak to it, each with "
        "its number of documents and passages, first and last date, and best quotes (each with doc_id and "
        "span, as search hits). The parties of the topic (actors it names, or that others' passages on it "
        "name) are searched in their own words and marked party=true; one may have no quote when nothing it "
        "says names what the topic is about.",
        structured_output=True,
    )
    def positions(
        topic: str,
        by: str = Field("speaker", description="speaker, year, source or a metadata field (country, ...)."),
        n: int = Field(10, ge=1, description="Number of actors."),
        quotes: int = Field(2, ge=0, description="Quotes per actor."),
        since: str | None = Field(None, description="Earliest date, YYYY[-MM[-DD]]."),
        until: str | None = Field(None, description="Latest date, YYYY[-MM[-DD]]."),
        source: list[str] = Field(default_factory=list),
        where: list[str] = Field(default_factory=list, description="FIELD=VALUE or FIELD=A|B."),
        speaker: str | None = Field(None, description="Only this actor's sentences."),
    ) -> PositionsResult:
        def run() -> PositionsResult:
            found = current().positions(
                topic,
                by=by,
                n=n,
                quotes=quotes,
                speaker=speaker,
                where=Filter.build(since, until, source, where),
                max_chars=max_query_chars,
            )
            out = []
            for p in found:
                qs = [
                    Quote(
                        doc_id=q.doc_id,
                        title=q.title,
                        date=q.date,
                        start=q.start,
                        end=q.end,
                        sentence=q.sentence,
                        sentence_start=q.sentence_start,
                        sentence_end=q.sentence_end,
                        speaker=q.speaker,
                        score=round(q.score, 4),
                    )
                    for q in p.quotes
                ]
                out.append(
                    Position(
                        actor=p.actor,
                        kind=p.kind,
                        score=round(p.score, 4),
                        documents=p.documents,
                        passages=p.passages,
                        first_date=p.first_date,
                        last_date=p.last_date,
                        party=p.party,
                        quotes=qs,
                    )
                )
            return PositionsResult(topic=topic, by=by, positions=out)

        return answer(run)

    @server.tool(
        description="The actors the index attributes sentences to (people, and questions from the floor), "
        "most sentences first: the names the speaker filter of search and positions accepts.",
        structured_output=True,
    )
    def speakers(
        kind: Literal["person", "floor"] | None = Field(None, description="Only this kind."),
        limit: int = Field(50, ge=1, le=1000, description="Most actors to list."),
    ) -> list[Speaker]:
        actors = answer(lambda: current().speakers(kind))
        return [
            Speaker(actor=a.name, kind=a.kind, documents=a.documents, sentences=a.sentences, asks=a.asks)
            for a in actors[:limit]
        ]

    @server.resource(
        URI_TEMPLATE,
        name="document",
        mime_type="text/plain",
        description="A document's full text (doc_id URL-encoded, as in a hit's uri).",
    )
    def document(doc_id: str) -> str:
        try:
            return current().document(unquote(doc_id)).text
        except FpsearchError as exc:
            raise ResourceError(str(exc)) from None

    return server


def http_security(hosts: str | None) -> TransportSecuritySettings:
    """DNS-rebinding protection for ``/mcp``: the Host header must be a local name, or one of the
    comma-separated ``hosts`` (``FPSEARCH_MCP_HOSTS``; ``*`` turns the check off)."""
    extra = [h.strip() for h in (hosts or "").split(",") if h.strip()]
    if "*" in extra:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    allowed = [*LOCAL_HOSTS, *extra]
    origins = [f"{scheme}://{h}" for h in allowed for scheme in ("http", "https")]
    return TransportSecuritySettings(allowed_hosts=allowed, allowed_origins=origins)


def run_stdio(index: str | None = None, model: str | None = None) -> None:
    """Serve the index over stdio until the client closes it (``fpsearch mcp``)."""
    from .. import config
    from ..retrieval.live import LiveIndex
    from ..server import ApiSettings

    logging.getLogger("mcp").setLevel(logging.WARNING)  # not a line on stderr for each refused call
    settings = ApiSettings.from_env()
    # as the HTTP service does: a new index generation (fpsearch add/remove/index) is served when published
    holder = LiveIndex(config.index_location(index), config.model_name(model), settings.reload_check_seconds)
    try:
        holder.engine.embed(["warm up"])  # load the model before the first call
        create_server(holder.current, settings.max_k, settings.max_query_chars).run("stdio")
    finally:
        holder.close()
