"""``Engine``: one index's searches, from a query to ranked ``Hit``s (see the package for the scores)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..embedding import Embedder, make_embedder
from ..errors import InvalidInput
from ..memo import Remembered
from ..models import canonical_name
from ..positions import Position
from ..positions import positions as rank_positions
from ..reading import MIN_SENTENCES, Reading, read_query
from ..speakers import FLOOR, KINDS, PERSON, match_actor
from ..store import Filter, Manifest, Store, Target, open_store
from ..store.base import Actor
from ..store.sentences import NO_SENTENCES
from ..strength import STRONG, WEAK, best, coverage, no_strong_match, strength, thresholds_for
from .hit import Hit
from .options import MAX_QUERY_CHARS, Preference, SearchOptions, check_query
from .ranking import fuse, group, mmr_order
from .rerank import CrossEncoderReranker, Reranker
from .sentence import best_sentence

QUERY_CACHE = 4096
# Lexical searches run on these threads beside the vector search (shared by every engine in a process).
_LEXICAL_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


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
        self._said: dict[str, dict[str, int]] = {}  # sentences per actor name, of each kind and of all

    @classmethod
    def open(
        cls,
        index: Path | str | Target,
        model: str | Embedder | None = None,
        rerank: str | None = None,
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
            self._embedder = make_embedder(self.store.manifest.model.name)
        return self._embedder

    @property
    def manifest(self) -> Manifest:
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
        """Ranked hits for one query; ``options`` are the fields of ``SearchOptions``."""
        return self.search_many([query], k=k, **options)[0]

    def search_many(self, queries: Sequence[str], k: int = 10, **options: Any) -> list[list[Hit]]:
        """Ranked hits for each query, embedding all queries in one batch; ``options`` are the fields of
        ``SearchOptions``. The library's edge: the queries and options are checked here, once."""
        return self.answer([check_query(q) for q in queries], SearchOptions(k=k, **options))

    def answer(self, queries: Sequence[str], options: SearchOptions) -> list[list[Hit]]:
        """Ranked hits for each query, from queries a caller has checked at its own edge (``check_query``,
        with its own limit: the batcher, the server) and options made once (a ``SearchOptions`` is valid)."""
        opts = self._with_speaker(options)
        readings = (
            [None] * len(queries) if opts.literal or opts.speaker is not None else [self.read(q) for q in queries]
        )
        plain = [q for q, r in zip(queries, readings) if r is None]
        found = iter(
            self._results.through(
                [(q, opts) for q in plain], lambda missing: self._search_many([q for q, _ in missing], opts)
            )
        )
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
        from ..language import note
        from ..models import model_languages

        name = self.manifest.model.name
        found = note(query, model_languages(name), name)
        out = [found] if found else []
        if hits is not None:
            level = best(h.match for h in hits)
            if level not in (STRONG, None):
                out.append(no_strong_match(level, len(hits)))
        return out

    def read(self, query: str) -> Reading | None:
        """The actor a question names, if it asks what one actor of the index says (``search.reading``)."""
        speakers = self.speaker_counts()
        countries = self.store.metadata_values("country") if "country" in self.store.metadata_fields() else {}
        return read_query(query, speakers, countries)

    def speaker_counts(self, kind: str | None = PERSON) -> dict[str, int]:
        """Sentences per actor name, of one ``kind`` (person by default) or, with None, of all (worked out
        once: the store is one immutable version)."""
        key = kind or ""
        if key not in self._said:
            counts: dict[str, int] = {}
            for a in self.store.actors.values():
                if kind is None or a.kind == kind:
                    counts[a.name] = counts.get(a.name, 0) + a.sentences
            self._said[key] = counts
        return self._said[key]

    def _search_read(self, query: str, opts: SearchOptions, reading: Reading) -> list[Hit]:
        """The actor's statements first, then the rest of the query's hits as it stands.

        The actor's statements: passages where they speak, and passages that report them by name where
        nobody's turn is given ("Mr Putin stressed that …"), in the order the query ranks them; a
        passage where they speak is shown with its best sentence among theirs."""
        if reading.field is None:
            ids = tuple(sorted(i for i, a in self.store.actors.items() if a.name == reading.actor))
            prefer = Preference(reading.describe(), speakers=ids, mention=reading.actor.split()[-1])
        else:
            prefer = Preference(reading.describe(), field=reading.field, values=reading.values or (reading.actor,))
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
            lexical = (
                pending.result() if pending is not None else self.store.search_lexical_many(queries, depth, opts.where)
            )
        return [
            self._one(
                q,
                opts,
                None if qvecs is None else qvecs[i],
                None if dense is None else dense[i],
                None if lexical is None else lexical[i],
            )
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

    def _candidates(
        self, query: str, qvec: np.ndarray | None, opts: SearchOptions, depth: int, dense_found=None, lexical_found=None
    ):
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
        rated = thresholds_for(self.manifest.model.name)
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
                    match=strength(cosines.get(pid), share, words, rated) if rated else None,
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
                narrowed = replace(where, where=(*where.where, (prefer.field, prefer.values)))
            extra, _ = self._candidates(query, qvec, replace(opts, where=narrowed, prefer=None), depth)
            first += [c for c in extra if c[0] not in preferred]
            preferred |= {c[0] for c in extra}
        return first + [c for c in ranked if c[0] not in preferred], preferred

    def _preferred(self, ranked: Sequence[tuple[int, float]], prefer: Preference) -> set[int]:
        """The candidates that ``prefer`` puts first (see ``Preference``)."""
        ids = [pid for pid, _ in ranked]
        if prefer.field is not None:
            records = self.store.passages(ids)
            return {p for p, r in records.items() if str(r.metadata.get(prefer.field)) in prefer.values}
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
        """The actor ids of the one actor ``name`` means (``speakers.match_actor``): the name in any case or
        spelling, a surname (or last words) that only one actor has, or only one with ``MIN_SENTENCES``
        sentences, or one with ten times the sentences of each other ("Biden": "President Biden"), or a
        full name whose surname one actor has with only a title ("John Kirby": "Mr. Kirby"). Ambiguous and
        unknown names are ``InvalidInput``, naming the candidates or the nearest."""
        chosen = match_actor(name, self.speaker_counts(None), MIN_SENTENCES)
        return tuple(sorted(i for i, a in self.store.actors.items() if a.name == chosen))

    def positions(
        self,
        topic: str,
        by: str = "speaker",
        n: int = 10,
        quotes: int = 2,
        where: Filter | None = None,
        speaker: str | None = None,
        max_chars: int = MAX_QUERY_CHARS,
    ) -> list[Position]:
        """What each actor (grouped ``by`` speaker, year or a metadata field) says about ``topic``:
        the ``n`` strongest, each with ``quotes`` quotes. See ``search.positions`` for the ranking.
        ``max_chars`` is the caller's limit on the topic's length (a server's may be lower)."""
        topic = check_query(topic, max_chars, "topic")
        if speaker is not None:
            where = replace(where or Filter(), speakers=self.resolve_speaker(speaker))
        return rank_positions(self, topic, by, n, quotes, where)

    def speakers(self, kind: str | None = None) -> list[Actor]:
        """The actors of the index (of one ``kind``: person or floor, if given), most sentences first,
        each marked ``asks`` if they ask more than they answer (interviewers, moderators)."""
        if kind is not None and kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        asking = self.store.askers() if kind != FLOOR else frozenset()
        actors: dict[tuple[str, str], Actor] = {}  # the ids of one actor's spellings, counted together
        for a in self.store.actors.values():
            if kind is not None and a.kind != kind:
                continue
            seen = actors.get((a.kind, a.name))
            if seen is None:
                actors[(a.kind, a.name)] = replace(a, asks=a.id in asking)
            else:
                actors[(a.kind, a.name)] = replace(
                    seen,
                    documents=seen.documents + a.documents,
                    passages=seen.passages + a.passages,
                    sentences=seen.sentences + a.sentences,
                )
        return sorted(actors.values(), key=lambda a: (-a.sentences, a.name))

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
