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


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression for ``text``, or None when it holds no word at all."""
    words = list(dict.fromkeys(query_words(text)))
    if not words:
        return None
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
