"""Turning free text into a safe SQLite FTS5 query.

User input is never passed to FTS5 as syntax: it is cut into words, each word is quoted as an FTS5
string, and the words are OR-ed so BM25 ranks passages by how many of them, and how rare, they hold.
Quotes, ``AND``/``NEAR``, parentheses, ``*`` or column filters in the input are therefore just text.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+")

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
    that query terms can be looked up in the index's vocabulary exactly as FTS5 will match them."""

    def __init__(self, tokenize: str) -> None:
        import sqlite3
        import threading

        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        self._conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize = {tokenize!r})")
        self._conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        self._lock = threading.Lock()

    def stems(self, words: list[str]) -> list[list[str]]:
        """The FTS5 terms of each word (usually one; none for a word the tokenizer drops)."""
        out: list[list[str]] = [[] for _ in words]
        with self._lock:
            self._conn.execute("DELETE FROM t")
            self._conn.executemany("INSERT INTO t (rowid, x) VALUES (?, ?)", list(enumerate(words)))
            for doc, term in self._conn.execute("SELECT doc, term FROM v ORDER BY doc, offset"):
                out[doc].append(term)
        return out


# Below this many passages a posting list is cheap to score, however common the word.
COSTLY_POSTINGS = 5000


def select_words(words: list[str], stems: list[list[str]], df: dict[str, int], total: int,
                 common: float) -> list[str]:
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
