"""Turning free text into a safe SQLite FTS5 query.

User input is never passed to FTS5 as syntax: it is cut into words, each word is quoted as an FTS5
string, and the words are OR-ed so BM25 ranks passages by how many of them, and how rare, they hold.
Quotes, ``AND``/``NEAR``, parentheses, ``*`` or column filters in the input are therefore just text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from ..memo import Remembered

_WORD = re.compile(r"\w+")

# BM25 weight of a passage's document title against its text (both stores).
TITLE_WEIGHT = 0.5
# Query words found in more than this share of passages are left out of the lexical search (see
# select_words): measured on the dev set to cost nothing in quality while cutting the time.
COMMON_TERM_FRACTION = 0.4

# Words so common that matching them only costs time (every passage holds them); from the usual
# English stop lists, kept short so that a query made only of such words still searches them.
STOPWORDS = frozenset(
    """a an and are as at be been but by did do does for from had has have he her his how i if in into
    is it its me my no not of on or our she so than that the their them then there these they this to
    us was we were what when where which who whom why will with would you your""".split()
)


def query_words(text: str) -> list[str]:
    """The words of ``text`` that a lexical search should look for."""
    words = [w.lower() for w in _WORD.findall(text)]
    kept = [w for w in words if w not in STOPWORDS]
    return kept or words


def fts_query(text: str | list[str]) -> str | None:
    """An FTS5 MATCH expression for ``text`` (or for a list of words), or None when there is no word."""
    words = list(dict.fromkeys(query_words(text) if isinstance(text, str) else text))
    if not words:
        return None
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words)


class Stemmer:
    """The index's own FTS5 tokenizer applied to query words, through a private in-memory table, so
    that query terms can be looked up in the index's vocabulary exactly as FTS5 will match them.
    Remembers the terms of the last ``memory`` distinct words (a query's words mostly recur)."""

    def __init__(self, tokenize: str, memory: int = 100_000) -> None:
        import sqlite3
        import threading

        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        self._conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize = {tokenize!r})")
        self._conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        self._lock = threading.Lock()
        self._known = Remembered(memory)

    def stems(self, words: list[str]) -> list[list[str]]:
        """The FTS5 terms of each word (usually one; none for a word the tokenizer drops)."""
        return [list(terms) for terms in self._known.through(words, self._tokenize)]

    def _tokenize(self, words: list[str]) -> list[tuple[str, ...]]:
        out: list[list[str]] = [[] for _ in words]
        with self._lock:
            self._conn.execute("DELETE FROM t")
            self._conn.executemany("INSERT INTO t (rowid, x) VALUES (?, ?)", list(enumerate(words)))
            for doc, term in self._conn.execute("SELECT doc, term FROM v ORDER BY doc, offset"):
                out[doc].append(term)
        return [tuple(terms) for terms in out]


# Below this many passages a posting list is cheap to score, however common the word.
COSTLY_POSTINGS = 5000


def select_words(words: list[str], stems: list[list[str]], df: dict[str, int], total: int, common: float) -> list[str]:
    """The query words worth matching: those the index holds, less the very common ones (in more
    than ``common`` of all passages, and in more than ``COSTLY_POSTINGS``: BM25 gives them little
    weight, yet scoring their postings is most of the cost). When every word is that common, the
    rarest one is kept."""
    present = [(max((df.get(t, 0) for t in ts), default=0), w) for w, ts in zip(words, stems)]
    present = [(n, w) for n, w in present if n > 0]
    if not present:
        return []
    kept = [w for n, w in present if n <= max(common * total, COSTLY_POSTINGS)]
    return kept or [min(present)[1]]


class WordScores:
    """Each query term's BM25 share of every passage that holds it, remembered term by term.

    FTS5's ``bm25()`` of an OR query is a sum over its phrases: each phrase adds its own IDF (from the
    number of rows holding it) times its saturated frequency in the row (with the row's length). So the
    scores of a query equal the sums of its words' scores taken one word at a time, and a server that
    remembers each word's scored postings asks FTS5 only about words it has not seen yet, instead of
    rescoring thousands of postings for every query. Words are keyed by their FTS5 terms, so "talks"
    and "talk" share one entry. Bounded by the number of postings held; the least recently used terms
    are dropped first. Safe to share between threads.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._terms = Remembered(budget, weigh=lambda postings: max(1, len(postings[0])))

    def get(
        self, terms: tuple[str, ...], fetch: Callable[[], list[tuple[int, float]]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(passage ids, scores)`` of the word made of ``terms``; ``fetch()`` asks FTS5 when they
        are not remembered."""
        return self._terms.through([terms], lambda _: [_postings(fetch())])[0]

    def __contains__(self, terms: tuple[str, ...]) -> bool:
        return terms in self._terms

    def __len__(self) -> int:
        return len(self._terms)


def _postings(rows: list[tuple[int, float]]) -> tuple[np.ndarray, np.ndarray]:
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    scores = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
    return ids, scores


def top_sums(parts: Sequence[tuple[np.ndarray, np.ndarray]], k: int) -> list[tuple[int, float]]:
    """The ``k`` ids with the highest summed score over ``parts`` (each: ids, scores, ids unique
    within a part), best first, ties by id."""
    parts = [p for p in parts if len(p[0])]
    if not parts or k < 1:
        return []
    ids = np.concatenate([p[0] for p in parts])
    scores = np.concatenate([p[1] for p in parts])
    if len(parts) > 1:
        ids, scores = _summed(ids, scores)
    if len(scores) > k:
        # everything tied with the k-th best stays in, so that ties are broken by id, not by chance
        cut = np.partition(scores, len(scores) - k)[len(scores) - k]
        keep = scores >= cut
        ids, scores = ids[keep], scores[keep]
    order = np.lexsort((ids, -scores))[:k]
    return [(int(ids[i]), float(scores[i])) for i in order]


def _summed(ids: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct id once (ascending) with the sum of its scores."""
    top = int(ids.max()) + 1
    if top <= 16 * len(ids):
        # ids dense enough (the postings of common words): count into a table as long as the largest
        # id, no sort (np.unique sorted ~10,000 postings for 0.5 ms a query)
        held = np.zeros(top, dtype=bool)
        held[ids] = True
        distinct = np.flatnonzero(held)
        return distinct, np.bincount(ids, weights=scores, minlength=top)[distinct]
    distinct, where = np.unique(ids, return_inverse=True)
    return distinct, np.bincount(where, weights=scores)
