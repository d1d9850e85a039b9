"""Lexical search over a generation's FTS5 index: BM25 summed word by word, remembered, warmed ahead."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import partial

import numpy as np

from ...errors import IndexDamaged
from ...memo import Remembered
from ..base import ConnectionPool
from ..lexical import (
    COMMON_TERM_FRACTION,
    COSTLY_POSTINGS,
    TITLE_WEIGHT,
    Stemmer,
    WordScores,
    fts_query,
    query_words,
    select_words,
    top_sums,
)
from .schema import FTS_TOKENIZE

BM25 = f"bm25(passages_fts, {TITLE_WEIGHT}, 1.0)"
# Terms whose passage counts a store remembers (a few MB at most).
DF_CACHE = 200_000
# Scored postings a store remembers for its lexical search (16 bytes each: ~64 MB at most).
WORD_SCORES = 4_000_000
# A preloading server scores ahead every word held by at least this many passages (see _warm).
WARM_FROM = 50


class FtsSearch:
    """The lexical half of an ``EmbeddedStore``, over its readers."""

    def __init__(self, pool: ConnectionPool, passage_count: int) -> None:
        self._pool = pool
        self.passage_count = passage_count
        self._stemmer = Stemmer(FTS_TOKENIZE)
        self._df = Remembered(DF_CACHE)  # term → passages holding it
        self.word_scores = WordScores(WORD_SCORES)
        self._warmer: threading.Thread | None = None
        self._closing = threading.Event()

    def words(self, query: str) -> list[tuple[str, tuple[str, ...]]]:
        """The query words to match, each with its FTS5 terms."""
        return self.words_many([query])[0]

    def words_many(self, queries: Sequence[str]) -> list[list[tuple[str, tuple[str, ...]]]]:
        """``words`` of each query; the words of all of them are stemmed and counted together."""
        words_of = [list(dict.fromkeys(query_words(q))) for q in queries]
        distinct = list(dict.fromkeys(w for words in words_of for w in words))
        terms_of = {w: tuple(ts) for w, ts in zip(distinct, self._stemmer.stems(distinct))} if distinct else {}
        terms = sorted({t for ts in terms_of.values() for t in ts})
        df = self._document_frequencies(terms) if terms else {}
        out = []
        for words in words_of:
            stems = [list(terms_of[w]) for w in words]
            kept = select_words(words, stems, df, self.passage_count, COMMON_TERM_FRACTION)
            out.append([(w, terms_of[w]) for w in kept])
        return out

    def _document_frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many passages hold each term (0 if none). Remembered: a generation never changes, and
        the fts5vocab lookup costs more than a millisecond per query."""
        return dict(zip(terms, self._df.through(terms, self._count_passages)))

    def _count_passages(self, terms: list[str]) -> list[int]:
        found = dict(
            self._pool.rows(f"SELECT term, doc FROM temp.vocab WHERE term IN ({','.join('?' * len(terms))})", terms)
        )
        return [int(found.get(t, 0)) for t in terms]

    def search_many(
        self, queries: Sequence[str], k: int, allowed: np.ndarray | None = None
    ) -> list[list[tuple[int, float]]]:
        """Top ``k`` ``(passage id, BM25)`` of each query (higher is better), among the passage ids
        ``allowed`` if given (a filter's, applied before top-k).

        Each word's scores come from a one-word FTS5 query, remembered, and are added up
        (``WordScores``: the same figures FTS5 gives the whole OR query, since BM25 reads its
        statistics from the whole index, filter or not). A filter keeps the postings of its passages
        before the sums: FTS5 ranking the filtered rows itself scored every row that matched any word,
        seconds for a common one. One stemming and one vocabulary lookup serve all the queries."""
        out: list[list[tuple[int, float]]] = []
        held = None
        if allowed is not None and len(allowed):
            held = np.zeros(int(allowed.max()) + 2, dtype=bool)  # the last cell stands for every larger id
            held[allowed] = True
        for words in self.words_many(queries):
            if not words or k < 1 or (allowed is not None and held is None):
                out.append([])
                continue
            parts = [self.word_scores.get(ts, partial(self._postings, w)) for w, ts in words]
            if held is not None:
                kept = [(ids, scores, held[np.minimum(ids, len(held) - 1)]) for ids, scores in parts]
                parts = [(ids[keep], scores[keep]) for ids, scores, keep in kept if keep.any()]
            out.append(top_sums(parts, k))
        return out

    def _postings(self, word: str) -> list[tuple[int, float]]:
        """Every ``(passage id, BM25 share)`` of one query word."""
        return self._pool.rows(
            f"SELECT rowid, -{BM25} FROM passages_fts WHERE passages_fts MATCH ?", [fts_query([word])]
        )

    def warm(self) -> None:
        """Start scoring the costly words ahead of the queries, in a background thread (once)."""
        if self._warmer is None:
            self._warmer = threading.Thread(target=self._warm, name="fpsearch-warm", daemon=True)
            self._warmer.start()

    def _warm(self) -> None:
        """Score ahead of the queries the words that cost most on first use: every term held by
        ``WARM_FROM`` passages or more (rarer ones take well under a millisecond) and not pruned as
        common, those with the most postings first, while ``WORD_SCORES`` lasts. Runs beside a
        starting server (about 4 s of one core for the 25,000-passage Kremlin index)."""
        try:
            self._score_costly_words()
        except IndexDamaged:
            pass  # a damaged store: its server refuses to answer from it and says why (see damage())

    def _score_costly_words(self) -> None:
        cap = max(COMMON_TERM_FRACTION * self.passage_count, COSTLY_POSTINGS)
        rows = self._pool.rows(
            "SELECT term, doc FROM temp.vocab WHERE doc >= ? AND doc <= ? ORDER BY doc DESC, term", [WARM_FROM, cap]
        )
        held = 0
        for (term, count), stems in zip(rows, self._stemmer.stems([t for t, _ in rows])):
            if self._closing.is_set() or held + count > self.word_scores.budget:
                return
            if stems == [term]:  # a term that is also a word stemming to itself (nearly all)
                self.word_scores.get((term,), partial(self._postings, term))
                held += count

    @property
    def warming(self) -> bool:
        return self._warmer is not None and self._warmer.is_alive()

    def stop(self) -> None:
        """Stop scoring words ahead (and wait for the thread that does)."""
        self._closing.set()
        if self._warmer is not None:
            self._warmer.join()
