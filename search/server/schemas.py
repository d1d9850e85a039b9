"""The request and response bodies of the HTTP API (and so its OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from ..positions import Quote


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
        None,
        description="How well this passage matches the query, absolutely (from its cosine and how many "
        "of the query's words it holds): strong, weak or none.",
    )


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
    party: bool = Field(
        False,
        description="A party to the topic: named by it, or by others' passages on it. Its own passages are "
        "searched so that its side is heard, and it is listed if any comes near the topic. One short of the bar "
        "every actor must pass is quoted only from sentences that name what the topic is about, so it may have "
        "no quotes.",
    )
    quotes: list[Quote] = Field(
        description="Its best quotes: ``text == document.text[start:end]`` and "
        "``sentence == document.text[sentence_start:sentence_end]``."
    )


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
    asks: bool = Field(
        description="Asks more than answers in the index's transcripts (an interviewer, a moderator): "
        "left out of positions by speaker unless chosen."
    )


class SearchResponse(BaseModel):
    query: str
    k: int
    mode: str
    took_ms: float = Field(
        description="Milliseconds from handing the query to the search threads to its hits "
        "(waiting for a thread included)."
    )
    reading: str | None = Field(
        None,
        description="How the query was read when it asks what one actor says: "
        'e.g. "statements by Vladimir Putin", whose hits come first (null: read as written).',
    )
    match: Literal["strong", "weak", "none"] | None = Field(
        "none",
        description='The strongest hit\'s match: "weak" or "none" means nothing in the index answers the '
        "query well, and the hits are only the closest passages (null: not known for this index's model).",
    )
    warnings: list[str] = Field(
        [],
        description="What to know before trusting the hits: no strong match, or a "
        "query in a language the index's model does not read.",
    )
    version: str | None = Field(
        None,
        description="The index version that answered (a generation of a folder "
        "index): every hit comes from it, also while changes are being published.",
    )
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
