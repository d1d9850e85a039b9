"""fpsearch as a LangChain retriever (``pip install 'fpsearch[langchain]'``).

    from search.integrations.langchain import FpsearchRetriever

    retriever = FpsearchRetriever(index="index", k=5)                 # an index folder, searched in-process
    retriever = FpsearchRetriever(url="http://127.0.0.1:8000", k=5)   # or a running fpsearch serve
    docs = retriever.invoke("Kuril Islands position", since="2016")  # any search option, per call

Each ``Document`` is one passage: ``page_content`` is its text, and ``metadata`` holds where it comes
from (``doc_id``, ``title``, ``date``, ``source``, ``start``/``end``: character offsets into the
document's text, ``sentence_start``/``sentence_end`` and ``sentence``: the best-matching sentence),
its ``rank``, ``score``, ``cosine`` and ``match`` (strong, weak or none), its ``speaker`` where the
index knows, and the document's own metadata fields (``country``, ...).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Literal

from ..errors import FpsearchError, IndexMissing, InvalidInput

try:
    from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
    from pydantic import model_validator
except ImportError as exc:  # pragma: no cover - the optional extra is missing
    raise InvalidInput("the LangChain retriever needs langchain-core: pip install 'fpsearch[langchain]'") from exc

# Options a call may set (``retriever.invoke(query, k=3, since="2016")``), as in ``Engine.search``.
OPTIONS = ("k", "mode", "per_doc", "fusion", "weight", "since", "until", "source", "where", "speaker", "literal")
# Hit fields that become a Document's metadata (the text is its page_content).
FIELDS = (
    "doc_id",
    "title",
    "date",
    "source",
    "start",
    "end",
    "sentence_start",
    "sentence_end",
    "rank",
    "score",
    "cosine",
    "match",
    "speaker",
    "speaker_kind",
    "passage_id",
    "reading",
)

_engines: dict[tuple[str, str | None], Any] = {}
_engines_lock = threading.Lock()


def _engine(index: str, model: str | None):
    """One engine per index and model in this process: retrievers are cheap to make, models are not."""
    from ..retrieval import Engine

    key = (index, model)
    with _engines_lock:
        if key not in _engines:
            _engines[key] = Engine.open(index, model)
        return _engines[key]


class FpsearchRetriever(BaseRetriever):
    """Passages from an fpsearch index (``index``, a folder or a ``postgresql://`` URL) or a running
    ``fpsearch serve`` (``url``); with neither, the configured default index. The search options are
    fields here and can be overridden per call as keyword arguments of ``invoke``."""

    index: str | None = None
    url: str | None = None
    model: str | None = None
    k: int = 4
    mode: Literal["hybrid", "dense", "lexical"] = "hybrid"
    per_doc: int = 2
    fusion: Literal["weighted", "rrf"] = "weighted"
    weight: float = 0.5
    since: str | None = None
    until: str | None = None
    source: list[str] = []
    where: list[str] = []
    speaker: str | None = None
    literal: bool = False
    timeout: float = 60.0

    @model_validator(mode="after")
    def _one_place(self) -> FpsearchRetriever:
        if self.index is not None and self.url is not None:
            raise ValueError("give index or url, not both")
        if self.k < 1:
            raise ValueError(f"k must be at least 1, not {self.k}")
        if self.url is not None:
            self.url = self.url.rstrip("/")
        return self

    def _options(self, overrides: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(overrides) - set(OPTIONS))
        if unknown:
            raise InvalidInput(f"unknown search option {unknown[0]!r}: use {', '.join(OPTIONS)}")
        return {name: overrides.get(name, getattr(self, name)) for name in OPTIONS}

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        options = self._options(kwargs)
        if self.url is not None:
            import httpx

            return self._documents(
                self._answer(lambda: httpx.post(f"{self.url}/search", json=_body(query, options), timeout=self.timeout))
            )
        return self._documents([h.as_dict() for h in self._search_here(query, options)])

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        if self.url is None:  # in-process: the search itself is CPU work, run it off the event loop
            import asyncio

            return await asyncio.to_thread(self._get_relevant_documents, query, run_manager=None, **kwargs)
        import httpx

        options = self._options(kwargs)
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            response = await client.post(f"{self.url}/search", json=_body(query, options))
        return self._documents(self._answer(lambda: response))

    def _search_here(self, query: str, options: dict[str, Any]):
        from .. import config
        from ..store import Filter

        location = self.index if self.index is not None else str(config.index_location(None))
        engine = _engine(str(Path(location)) if "://" not in location else location, config.model_name(self.model))
        where = Filter.build(options.pop("since"), options.pop("until"), options.pop("source"), options.pop("where"))
        k = options.pop("k")
        return engine.search(query, k=k, where=where, **options)

    def _answer(self, send) -> list[dict[str, Any]]:
        import httpx

        try:
            response = send()
        except httpx.HTTPError as exc:
            raise IndexMissing(f"cannot reach fpsearch at {self.url}: {exc}") from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail")
            except ValueError:
                detail = response.text[:200]
            if isinstance(detail, list):  # request validation: [{"loc": [...], "msg": ...}]
                detail = "; ".join(f"{'.'.join(map(str, d.get('loc', [])[1:]))}: {d.get('msg')}" for d in detail)
            error = InvalidInput if response.status_code in (400, 404, 413, 422) else FpsearchError
            raise error(f"fpsearch at {self.url} answered {response.status_code}: {detail}")
        return response.json()["hits"]

    @staticmethod
    def _documents(hits: list[dict[str, Any]]) -> list[Document]:
        out = []
        for h in hits:
            meta = {**h.get("metadata", {})}  # the document's own fields first: ours win a clash
            meta.update({name: h.get(name) for name in FIELDS})
            meta["sentence"] = h["text"][h["sentence_start"] - h["start"] : h["sentence_end"] - h["start"]]
            out.append(Document(page_content=h["text"], metadata=meta, id=f"{h['doc_id']}:{h['start']}-{h['end']}"))
        return out


def _body(query: str, options: dict[str, Any]) -> dict[str, Any]:
    return {"query": query, **{k: v for k, v in options.items() if v is not None}}
