"""From a query to ranked ``Hit``s: dense, lexical or hybrid retrieval, filters, per-document grouping
and the best-matching sentence of every hit.

Scores:

- ``dense``: cosine similarity of the query and passage vectors, mixed half and half (by default)
  with the cosine of the passage's best-matching sentence (-1..1, higher is closer);
- ``lexical``: SQLite FTS5 BM25 (0..∞, higher is better; comparable only within one query);
- ``hybrid`` (default ``fusion="weighted"``): 0.5 × the dense score + 0.5 × the BM25 score, each
  scaled from its list's score at rank ``FUSION_ANCHOR`` (0) to its best (1), below the anchor 0
  (0..1, comparable only within one query); or with ``fusion="rrf"`` reciprocal-rank fusion,
  ``Σ 1 / (60 + rank)``;
- with a reranker: the cross-encoder's relevance logit.

Every hit also carries ``cosine`` (its passage vector against the query, when the query was embedded)
and ``sentence_start``/``sentence_end``: the sentence of the passage closest to the query.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from .embedding import Embedder, make_embedder
from .errors import InvalidInput
from .memo import Remembered
from .models import canonical_name
from .positions import Position
from .positions import positions as rank_positions
from .reading import Reading, read_query
from .speakers import FLOOR, KINDS, PERSON, match_actor
from .store import Filter, PassageRecord, Store, Target, open_store
from .store.base import Actor
from .store.lexical import query_words
from .store.sentences import NO_SENTENCES, Sentences
from .strength import STRONG, WEAK, best, calibrated, coverage, no_strong_match, strength

Mode = Literal["dense", "lexical", "hybrid"]
MODES: tuple[str, ...] = ("dense", "lexical", "hybrid")
RRF_K = 60
# Weighted fusion scales each list from its score at this rank (0) to its best score (1). Anchoring
# at a fixed rank, not at the list's last candidate, keeps the scale the same however deep the
# candidate lists go and however small the corpus is: when the lists hold the whole of a small
# corpus, their minimum is a passage about something else, and min-max would let a passage that
# only matches one incidental query word win with a poor cosine.
FUSION_ANCHOR = 20
QUERY_CACHE = 4096
# Lexical searches run on these threads beside the vector search (shared by every engine in a process).
_LEXICAL_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
LEXICAL_RRF_WEIGHT = 1.0
MAX_QUERY_CHARS = 2000
# A best sentence shorter than this ("Thank you.", "Question:") is shown with its better neighbour.
SHORT_SENTENCE = 30
# Taken off the cosine of a question or remark from the floor when choosing a hit's best sentence for
# a query that is not a question: the journalist who restates the topic gives way to the answer.
FLOOR_PENALTY = 0.1
_QUESTION_WORDS = frozenset(
    "what why how when where who whom whose which did does do is are was were can could will would should "
    "has have had may might".split()
)


@dataclass(frozen=True)
class Hit:
    """One ranked passage with its source span: ``document.text[start:end] == text``."""

    rank: int
    doc_id: str
    title: str
    date: str | None
    source: str
    score: float
    start: int
    end: int
    text: str
    sentence_start: int
    sentence_end: int
    passage_id: int
    cosine: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    speaker: str | None = None
    """Who speaks the best sentence (an actor of the index), or None where the index does not know."""
    speaker_kind: str | None = None
    """``person``, ``floor`` (a question or remark from the floor) or None."""
    reading: str | None = None
    """Set when the query was read as naming an actor and this hit is that actor's: e.g.
    "statements by Vladimir Putin" (see ``search.reading``)."""
    match: str | None = None
    """How well it matches the query, absolutely: ``strong``, ``weak`` or ``none`` (``search.strength``)."""

    @property
    def sentence(self) -> str:
        """The best-matching sentence (a slice of ``text``)."""
        return self.text[self.sentence_start - self.start : self.sentence_end - self.start]

    def as_dict(self) -> dict[str, Any]:
        """The fields as a dict (``metadata`` copied one level; ``dataclasses.asdict`` deep-copies every
        hit's metadata on every request)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["metadata"] = dict(self.metadata)
        return out


@dataclass(frozen=True)
class Preference:
    """Whose candidates come first for a query read as naming an actor: passages where one of
    ``speakers`` speaks, passages nobody speaks in that name ``mention`` (a report: "Mr Putin
    stressed …"), or passages whose document has ``field`` = ``value``; ``label`` says so on the hits."""

    label: str
    speakers: tuple[int, ...] = ()
    mention: str | None = None
    field: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class SearchOptions:
    """How to search; the defaults are the ones that won on the evaluation sets (see BENCHMARKS.md)."""

    k: int = 10
    mode: Mode = "hybrid"
    per_doc: int | None = 2  # most passages from one document; 0 or None: no limit
    where: Filter | None = None
    fusion: Literal["rrf", "weighted"] = "weighted"
    weight: float = 0.5
    depth: int = 100
    mmr: float | None = None
    rerank_depth: int = 30
    exact: bool = False
    sentence_weight: float = 0.5
    speaker: str | None = None  # only sentences spoken by this actor count (a name; see Engine.resolve_speaker)
    literal: bool = False  # never read the query as naming an actor (see search.reading)
    prefer: Preference | None = None  # set by the engine for a query read as naming an actor

    def check(self) -> SearchOptions:
        if not isinstance(self.k, int) or self.k < 1:
            raise InvalidInput(f"k must be a whole number of at least 1, not {self.k!r}")
        if self.mode not in MODES:
            raise InvalidInput(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.per_doc is not None and (not isinstance(self.per_doc, int) or self.per_doc < 0):
            raise InvalidInput(f"per-doc must be a whole number, 0 for no limit, not {self.per_doc!r}")
        if self.fusion not in ("rrf", "weighted"):
            raise InvalidInput(f"fusion must be rrf or weighted, not {self.fusion!r}")
        if not 0.0 <= self.weight <= 1.0:
            raise InvalidInput("weight must be between 0 and 1")
        if self.mmr is not None and not 0.0 <= self.mmr <= 1.0:
            raise InvalidInput("mmr (relevance weight λ) must be between 0 and 1")
        if not 0.0 <= self.sentence_weight <= 1.0:
            raise InvalidInput("sentence weight must be between 0 and 1")
        if self.depth < 1 or self.rerank_depth < 1:
            raise InvalidInput("depth must be at least 1")
        if self.speaker is not None and (not isinstance(self.speaker, str) or not self.speaker.strip()):
            raise InvalidInput("speaker is empty: give an actor's name")
        if self.per_doc == 0:
            return replace(self, per_doc=None)  # 0 and None both mean no limit, as in the CLI and HTTP
        return self


def check_query(query: str) -> str:
    if not isinstance(query, str) or not query.strip():
        raise InvalidInput("the query is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"the query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}")
    return query


def fuse(
    dense: Sequence[tuple[int, float]],
    lexical: Sequence[tuple[int, float]],
    method: str = "weighted",
    weight: float = 0.5,
    anchor: int = FUSION_ANCHOR,
) -> list[tuple[int, float]]:
    """Merge two ranked lists of ``(id, score)`` into one, best first.

    ``weighted``: ``weight`` × the dense score + (1 − ``weight``) × the lexical score, each anchored
    at ``anchor`` (see ``_anchored``) and counted from 0 up: below the anchor of a list, or missing
    from it, a candidate gets nothing from that list. Candidates below both anchors (score 0) keep the
    order of their unclipped sums, a missing score counting as its list's last. ``rrf``:
    reciprocal-rank fusion, ``Σ 1/(60 + rank)``.
    """
    if method == "rrf":
        fused: dict[int, float] = {}
        for ranked, w in ((dense, 1.0), (lexical, LEXICAL_RRF_WEIGHT)):
            for rank, (pid, _) in enumerate(ranked, 1):
                fused[pid] = fused.get(pid, 0.0) + w / (RRF_K + rank)
        return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
    # In arrays: the same float64 arithmetic as one candidate at a time (195 → 110 µs for 2 × 100 candidates).
    ids, d, lx = _aligned(dense, lexical, anchor)
    fused = weight * np.maximum(d, 0.0) + (1 - weight) * np.maximum(lx, 0.0)
    below = weight * d + (1 - weight) * lx
    order = np.lexsort((ids, -below, -fused))
    return list(zip(ids[order].tolist(), fused[order].tolist()))


def _aligned(
    dense: Sequence[tuple[int, float]], lexical: Sequence[tuple[int, float]], anchor: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every candidate id of either list, and its anchored score in each (a list's last where missing)."""
    (d_ids, d), (lx_ids, lx) = _anchored(dense, anchor), _anchored(lexical, anchor)
    ids, where = np.unique(np.concatenate([d_ids, lx_ids]), return_inverse=True)
    columns = []
    for scores, at in ((d, where[: len(d)]), (lx, where[len(d) :])):
        column = np.full(len(ids), scores.min() if len(scores) else 0.0)
        column[at] = scores
        columns.append(column)
    return ids, columns[0], columns[1]


def _anchored(ranked: Sequence[tuple[int, float]], anchor: int = FUSION_ANCHOR) -> tuple[np.ndarray, np.ndarray]:
    """A ranked list as ``(ids, scores)`` arrays, each score scaled so that the ``anchor``-th best (or
    the last, in a shorter list) is 0 and the best is 1; below the anchor it goes negative."""
    if not ranked:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    pids, values = zip(*ranked)
    ids, scores = np.array(pids, dtype=np.int64), np.array(values, dtype=np.float64)
    hi, lo = scores.max(), np.sort(scores)[::-1][min(anchor, len(scores)) - 1]
    span = hi - lo
    return ids, (scores - lo) / span if span > 0 else np.ones(len(scores))


def group(ranked: Sequence[tuple[int, float]], doc_of: dict[int, str], per_doc: int | None, k: int) -> list[tuple[int, float]]:
    """The first ``k`` entries of ``ranked`` with at most ``per_doc`` passages from any one document."""
    seen: dict[str, int] = {}
    out = []
    for pid, score in ranked:
        doc = doc_of.get(pid)
        if doc is None:
            continue
        if per_doc is not None and seen.get(doc, 0) >= per_doc:
            continue
        seen[doc] = seen.get(doc, 0) + 1
        out.append((pid, score))
        if len(out) == k:
            break
    return out


def mmr_order(
    ranked: Sequence[tuple[int, float]], vectors: np.ndarray, lam: float, limit: int
) -> list[tuple[int, float]]:
    """Maximal marginal relevance: pick, one at a time, the candidate with the best
    ``λ·relevance − (1−λ)·(highest cosine to anything already picked)``; relevance is the candidate's
    min-max normalised score. Returns up to ``limit`` entries with their original scores."""
    if not ranked:
        return []
    rel = _anchored(ranked, len(ranked))[1].astype(np.float32)
    picked: list[int] = []
    closest = np.full(len(ranked), -np.inf, dtype=np.float32)
    left = np.ones(len(ranked), dtype=bool)
    for _ in range(min(limit, len(ranked))):
        penalty = np.where(np.isfinite(closest), closest, 0.0)
        gain = np.where(left, lam * rel - (1 - lam) * penalty, -np.inf)
        best = int(np.argmax(gain))
        picked.append(best)
        left[best] = False
        closest = np.maximum(closest, vectors @ vectors[best])
    return [ranked[i] for i in picked]


def is_question(query: str) -> bool:
    """Whether the query asks something ("What did Putin say ...?") rather than names a topic."""
    text = query.strip().lower()
    return text.endswith("?") or text.split(" ", 1)[0] in _QUESTION_WORDS


def best_sentence(
    sentences: Sentences, query_vec: np.ndarray | None, record: PassageRecord, query: str,
    speakers: frozenset[int] = frozenset(), floor: frozenset[int] = frozenset(),
) -> tuple[int, int, int]:
    """``(start, end, i)``: the span of the sentence closest to the query and its index in
    ``sentences`` (-1 for none): by cosine when the query was embedded, else by the number of query
    words it contains. With ``speakers``, only their sentences are chosen from. Unless the query is a
    question, a sentence spoken from the ``floor`` (a journalist's question that restates the topic)
    gives way to a statement that scores nearly as well. A very short best sentence is joined with its
    neighbour of the same speaker that scores higher, so the highlight is never a bare fragment."""
    spans, vectors, said = sentences
    if len(spans) == 0:
        return record.start, record.end, -1
    if query_vec is not None and vectors.size:
        scores = (vectors @ query_vec).astype(np.float64)
    else:
        words = set(query_words(query))
        scores = np.array(
            [
                len(words & set(query_words(record.text[a - record.start : b - record.start])))
                for a, b in spans
            ],
            dtype=np.float64,
        )
    if floor and not is_question(query):
        scores = scores - FLOOR_PENALTY * np.isin(said, list(floor))
    if speakers:
        allowed = np.isin(said, list(speakers))
        if allowed.any():
            scores = np.where(allowed, scores, -np.inf)
    best = int(np.argmax(scores))
    start, end = int(spans[best][0]), int(spans[best][1])
    if end - start < SHORT_SENTENCE and len(spans) > 1:
        left = scores[best - 1] if best > 0 and said[best - 1] == said[best] else -np.inf
        right = scores[best + 1] if best + 1 < len(spans) and said[best + 1] == said[best] else -np.inf
        if np.isfinite(max(left, right)):
            other = best - 1 if left >= right else best + 1
            start, end = min(start, int(spans[other][0])), max(end, int(spans[other][1]))
    return start, end, best


class Reranker(Protocol):
    """Scores (query, passage) pairs; higher is more relevant."""

    def score(self, query: str, passages: Sequence[str]) -> list[float]: ...


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder``; its scores are the model's raw relevance logits."""

    def __init__(self, model: str) -> None:
        self.ref = model
        self._model = None
        self._lock = threading.Lock()

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import CrossEncoder

                    try:
                        self._model = CrossEncoder(self.ref, device="cpu")
                    except Exception as exc:
                        raise InvalidInput(f"cannot load reranker {self.ref!r}: {exc}") from exc
        if not passages:
            return []
        scores = self._model.predict([(query, p) for p in passages], show_progress_bar=False)
        return [float(s) for s in np.asarray(scores).reshape(len(passages), -1)[:, -1]]


class Engine:
    """Search over one index. Thread-safe; load once and share."""

    def __init__(
        self, store: Store, embedder: Embedder | None = None, reranker: Reranker | None = None, results: int = 0
    ) -> None:
        """``results``: how many recent result lists to remember (0: none). The store is one immutable
        version of the index, so a remembered list stays right for this engine's whole life; a server
        keeps some (``fpsearch serve --result-cache``), the library keeps none by default."""
        self.store = store
        self._embedder = embedder
        self.reranker = reranker
        self._cache = Remembered(QUERY_CACHE)  # query text → vector
        self._results = Remembered(results)  # (query text, options) → hits
        self._speakers: dict[str, int] | None = None

    @classmethod
    def open(
        cls, index: Path | str | Target, model: str | Embedder | None = None, rerank: str | None = None,
        results: int = 0,
    ) -> Engine:
        """Open the index at ``index``. ``model`` defaults to the one the index was built with; a
        different one is refused, since its vectors would not be comparable. ``rerank`` names a
        sentence-transformers cross-encoder (folder or hub name) that reorders the top candidates;
        ``results`` is how many result lists to remember (see ``__init__``)."""
        reranker = CrossEncoderReranker(rerank) if rerank else None
        if isinstance(model, str):
            store = open_store(index, model=canonical_name(model))
            return cls(store, make_embedder(model), reranker, results)
        store = open_store(index)
        return cls(store, model, reranker, results)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.store.manifest["model"]["name"])
        return self._embedder

    @property
    def manifest(self) -> dict[str, Any]:
        return self.store.manifest

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Query-side vectors of ``texts`` with the index's model: unit length, so dot = cosine.

        Recent queries are remembered (``QUERY_CACHE`` of them), so a repeated query costs no model call.
        """
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        out = self._cache.through(texts, lambda missing: list(self.embedder.embed_queries(missing)))
        return np.stack(out).astype(np.float32, copy=False)

    def search(self, query: str, k: int = 10, **options: Any) -> list[Hit]:
        """Ranked hits for one query; see ``SearchOptions`` for the options."""
        return self.search_many([query], k=k, **options)[0]

    def search_many(self, queries: Sequence[str], k: int = 10, **options: Any) -> list[list[Hit]]:
        """Ranked hits for each query, embedding all queries in one batch."""
        opts = self._with_speaker(SearchOptions(k=k, **options).check())
        queries = [check_query(q) for q in queries]
        readings = [None] * len(queries) if opts.literal or opts.speaker is not None else [self.read(q) for q in queries]
        plain = [q for q, r in zip(queries, readings) if r is None]
        found = iter(self._results.through(
            [(q, opts) for q in plain], lambda missing: self._search_many([q for q, _ in missing], opts)
        ))
        answers = [list(next(found)) if r is None else self._search_read(q, opts, r) for q, r in zip(queries, readings)]
        return [self._unread(hits) if hits and self.warnings(q) else hits for q, hits in zip(queries, answers)]

    @staticmethod
    def _unread(hits: list[Hit]) -> list[Hit]:
        """The hits of a query in a language the model does not read: whatever their cosines, none is a
        strong match (MiniLM gives Cyrillic queries cosines of 0.4-0.5 with unrelated passages)."""
        return [replace(h, match=WEAK) if h.match == STRONG else h for h in hits]

    def warnings(self, query: str, hits: Sequence[Hit] | None = None) -> list[str]:
        """What the user should know before trusting the hits of ``query``: a note when it is in a
        language the index's model does not read (``search.language``), and, given its ``hits``,
        when none of them is a strong match (``search.strength``)."""
        from .language import note
        from .models import model_languages

        name = self.manifest["model"]["name"]
        found = note(query, model_languages(name), name)
        out = [found] if found else []
        if hits is not None:
            level = best(h.match for h in hits)
            if level not in (STRONG, None):
                out.append(no_strong_match(level, len(hits)))
        return out

    def read(self, query: str) -> Reading | None:
        """The actor a question names, if it asks what one actor of the index says (``search.reading``)."""
        speakers = self._speaker_counts()
        countries = self.store.metadata_values("country") if "country" in self.store.metadata_fields() else {}
        return read_query(query, speakers, countries)

    def _speaker_counts(self) -> dict[str, int]:
        """Sentences per person actor (worked out once: the store is one immutable version)."""
        if self._speakers is None:
            counts: dict[str, int] = {}
            for a in self.store.actors.values():
                if a.kind == PERSON:
                    counts[a.name] = counts.get(a.name, 0) + a.sentences
            self._speakers = counts
        return self._speakers

    def _search_read(self, query: str, opts: SearchOptions, reading: Reading) -> list[Hit]:
        """The actor's statements first, then the rest of the query's hits as it stands.

        The actor's statements: passages where they speak, and passages that report them by name where
        nobody's turn is given ("Mr Putin stressed that …"), in the order the query ranks them; a
        passage where they speak is shown with its best sentence among theirs."""
        if reading.field is None:
            ids = tuple(sorted(i for i, a in self.store.actors.items() if a.name == reading.actor))
            prefer = Preference(reading.describe(), speakers=ids, mention=reading.actor.split()[-1])
        else:
            prefer = Preference(reading.describe(), field=reading.field, value=reading.actor)
        read = replace(opts, prefer=prefer)
        return list(self._results.through([(query, read)], lambda m: self._search_many([query], read))[0])

    def _search_many(self, queries: list[str], opts: SearchOptions) -> list[list[Hit]]:
        if not queries:
            return []
        depth = max(opts.depth, opts.k * 3)
        pending = None
        if opts.mode == "hybrid":
            # The lexical searches run beside the query embedding and the vector search (SQLite, ONNX
            # Runtime and FAISS all release the GIL), so a hybrid query costs about the slower of the two.
            pending = self._pool().submit(self.store.search_lexical_many, queries, depth, opts.where)
        qvecs = dense = lexical = None
        if opts.mode != "lexical":
            qvecs = self.embed(queries)
            dense = self.store.search_dense(qvecs, depth, opts.where, opts.exact)  # one pass for all
        if opts.mode != "dense":
            lexical = pending.result() if pending is not None else self.store.search_lexical_many(queries, depth, opts.where)
        return [
            self._one(q, opts, None if qvecs is None else qvecs[i], None if dense is None else dense[i],
                      None if lexical is None else lexical[i])
            for i, q in enumerate(queries)
        ]

    @staticmethod
    def _pool() -> ThreadPoolExecutor:
        global _LEXICAL_POOL
        if _LEXICAL_POOL is None:
            with _POOL_LOCK:
                if _LEXICAL_POOL is None:
                    _LEXICAL_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fpsearch-lexical")
        return _LEXICAL_POOL

    def _candidates(self, query: str, qvec: np.ndarray | None, opts: SearchOptions, depth: int,
                    dense_found=None, lexical_found=None):
        """Fused (or single-mode) candidates to ``depth``; ``*_found``: the lists searched to ``depth``
        already, for the whole batch."""
        dense = lexical = []
        if opts.mode != "lexical":
            dense = dense_found
            if dense is None:
                dense = self.store.search_dense(qvec[None, :], depth, opts.where, opts.exact)[0]
            if opts.sentence_weight > 0:
                speakers = opts.where.speakers if opts.where is not None else ()
                dense = self._sentence_rescore(dense, qvec, opts.sentence_weight, speakers)
        if opts.mode != "dense":
            lexical = lexical_found
            if lexical is None:
                lexical = self.store.search_lexical(query, depth, opts.where)
        if opts.mode == "dense":
            return dense, len(dense) < depth
        if opts.mode == "lexical":
            return lexical, len(lexical) < depth
        return fuse(dense, lexical, opts.fusion, opts.weight), len(dense) < depth and len(lexical) < depth

    def _one(self, query: str, opts: SearchOptions, qvec: np.ndarray | None, dense=None, lexical=None) -> list[Hit]:
        depth = max(opts.depth, opts.k * 3)
        total = self.store.passage_count
        while True:
            ranked, exhausted = self._candidates(query, qvec, opts, depth, dense, lexical)
            dense = lexical = None  # a deeper look searches again
            if opts.mmr is not None and ranked:
                vecs = self.store.vectors_of([pid for pid, _ in ranked])
                ranked = mmr_order(ranked, vecs, opts.mmr, len(ranked))
            if self.reranker is not None:
                ranked = self._rerank(query, ranked, opts)
            preferred: set[int] = set()
            if opts.prefer is not None:
                ranked, preferred = self._preferred_first(query, qvec, ranked, opts, depth)
            doc_of = self.store.passage_docs([pid for pid, _ in ranked])
            chosen = group(ranked, doc_of, opts.per_doc, opts.k)
            if len(chosen) >= opts.k or exhausted or depth >= total:
                break
            depth *= 4  # grouping dropped too many: look deeper
        records = self.store.passages([pid for pid, _ in chosen])
        sentences = self.store.sentences([pid for pid, _ in chosen])
        cosines = self._cosines([pid for pid, _ in chosen], qvec)
        actors = self.store.actors
        speakers = frozenset(opts.where.speakers) if opts.where is not None else frozenset()
        if opts.prefer is not None and opts.prefer.speakers:
            speakers = speakers | frozenset(opts.prefer.speakers)  # their sentence, where they speak in it
        floor = frozenset(i for i, a in actors.items() if a.kind == FLOOR)
        rated = calibrated(self.manifest["model"]["name"])
        hits = []
        for rank, (pid, score) in enumerate(chosen, 1):
            rec = records[pid]
            found = sentences.get(pid, NO_SENTENCES)
            s_start, s_end, i = best_sentence(found, qvec, rec, query, speakers, floor)
            actor = actors.get(int(found.speakers[i])) if i >= 0 else None
            share, words = coverage(query, rec.text) if rated else (0.0, 0)
            hits.append(
                Hit(
                    rank=rank,
                    doc_id=rec.doc_id,
                    title=rec.title,
                    date=rec.date,
                    source=rec.source,
                    score=round(float(score), 6),
                    start=rec.start,
                    end=rec.end,
                    text=rec.text,
                    sentence_start=s_start,
                    sentence_end=s_end,
                    passage_id=pid,
                    cosine=cosines.get(pid),
                    metadata=rec.metadata,
                    speaker=actor.name if actor else None,
                    speaker_kind=actor.kind if actor else None,
                    reading=opts.prefer.label if opts.prefer is not None and pid in preferred else None,
                    match=strength(cosines.get(pid), share, words) if rated else None,
                )
            )
        return hits

    def _preferred_first(self, query: str, qvec, ranked: list[tuple[int, float]], opts: SearchOptions, depth: int):
        """``(ranked, preferred ids)``: the candidates ``opts.prefer`` names first, in their order; when
        the query's candidates hold fewer than k of them, the actor's own best passages (searched with
        the actor as a filter) join them."""
        prefer = opts.prefer
        preferred = self._preferred(ranked, prefer)
        first = [c for c in ranked if c[0] in preferred]
        if len(first) < opts.k and (prefer.speakers or prefer.field):
            where = opts.where or Filter()
            if prefer.field is None:
                narrowed = replace(where, speakers=prefer.speakers)
            else:
                narrowed = replace(where, where=(*where.where, (prefer.field, (prefer.value,))))
            extra, _ = self._candidates(query, qvec, replace(opts, where=narrowed, prefer=None), depth)
            first += [c for c in extra if c[0] not in preferred]
            preferred |= {c[0] for c in extra}
        return first + [c for c in ranked if c[0] not in preferred], preferred

    def _preferred(self, ranked: Sequence[tuple[int, float]], prefer: Preference) -> set[int]:
        """The candidates that ``prefer`` puts first (see ``Preference``)."""
        ids = [pid for pid, _ in ranked]
        if prefer.field is not None:
            records = self.store.passages(ids)
            return {p for p, r in records.items() if str(r.metadata.get(prefer.field)) == prefer.value}
        sentences = self.store.sentences(ids)
        wanted = np.asarray(prefer.speakers, dtype=np.int64)
        out = {p for p, s in sentences.items() if np.isin(s.speakers, wanted).any()}
        if prefer.mention:
            unspoken = [p for p in ids if p not in out and not (sentences.get(p, NO_SENTENCES).speakers >= 0).any()]
            records = self.store.passages(unspoken)
            out |= {p for p, r in records.items() if prefer.mention in r.text}
        return out

    def _with_speaker(self, opts: SearchOptions) -> SearchOptions:
        """``opts`` with its speaker's name turned into the filter on their actor ids."""
        if opts.speaker is None:
            return opts
        ids = self.resolve_speaker(opts.speaker)
        return replace(opts, where=replace(opts.where or Filter(), speakers=ids))

    def resolve_speaker(self, name: str) -> tuple[int, ...]:
        """The actor ids of the one actor ``name`` means: the canonical name in any case, or a
        surname (or last words) that only one actor has. Ambiguous and unknown names are
        ``InvalidInput``, naming the candidates or the nearest actors."""
        actors = self.store.actors
        chosen = match_actor(name, [a.name for a in actors.values()])
        return tuple(sorted(i for i, a in actors.items() if a.name == chosen))

    def positions(
        self, topic: str, by: str = "speaker", n: int = 10, quotes: int = 2, where: Filter | None = None,
        speaker: str | None = None,
    ) -> list[Position]:
        """What each actor (grouped ``by`` speaker, year or a metadata field) says about ``topic``:
        the ``n`` strongest, each with ``quotes`` quotes. See ``search.positions`` for the ranking."""
        if speaker is not None:
            where = replace(where or Filter(), speakers=self.resolve_speaker(speaker))
        return rank_positions(self, topic, by, n, quotes, where)

    def speakers(self, kind: str | None = None) -> list[Actor]:
        """The actors of the index (of one ``kind``: person or floor, if given), most sentences first."""
        if kind is not None and kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        actors = [a for a in self.store.actors.values() if kind is None or a.kind == kind]
        return sorted(actors, key=lambda a: (-a.sentences, a.name))

    def _sentence_rescore(
        self, dense: list[tuple[int, float]], qvec: np.ndarray, weight: float, speakers: Sequence[int] = ()
    ):
        """Mix each candidate's cosine with its best sentence's: ``(1−w)·passage + w·best sentence``.

        A passage that holds one sentence squarely on the query beats one that is only broadly about
        it; the sentence vectors were pooled from the passage's own forward pass at index time, so this
        costs no model call (on the Kremlin dev set it lifts dense nDCG@10 from 0.60 to 0.63). With
        ``speakers``, only their sentences count: the answer is ranked by what they said."""
        best = self.store.best_sentence_cosines([pid for pid, _ in dense], qvec, speakers)
        rescored = [(pid, (1 - weight) * cos + weight * best.get(pid, cos)) for pid, cos in dense]
        return sorted(rescored, key=lambda item: (-item[1], item[0]))

    def _rerank(self, query: str, ranked, opts: SearchOptions) -> list[tuple[int, float]]:
        """Reorder the first ``rerank_depth`` (at least 3·k) candidates by the cross-encoder's score."""
        head = list(ranked[: max(opts.rerank_depth, opts.k * 3)])
        records = self.store.passages([pid for pid, _ in head])
        head = [(pid, s) for pid, s in head if pid in records]
        scores = self.reranker.score(query, [records[pid].text for pid, _ in head])
        reordered = sorted(zip([pid for pid, _ in head], scores), key=lambda x: -x[1])
        seen = {pid for pid, _ in head}
        return [(pid, float(s)) for pid, s in reordered] + [(p, s) for p, s in ranked if p not in seen]

    def _cosines(self, ids: list[int], qvec: np.ndarray | None) -> dict[int, float]:
        if qvec is None or not ids:
            return {}
        vecs = self.store.vectors_of(ids)
        return {pid: round(float(v @ qvec), 6) for pid, v in zip(ids, vecs)}

    def document(self, doc_id: str):
        return self.store.document(doc_id)

    def close(self) -> None:
        self.store.close()


