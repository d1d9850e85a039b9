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

Modules: ``options`` (``SearchOptions``, checked once), ``ranking`` (fusion, grouping, MMR),
``sentence`` (a hit's best sentence), ``rerank``, ``hit`` (``Hit``), ``engine`` (``Engine``),
``batching`` (concurrent searches as batches) and ``live`` (``LiveIndex``: an engine that follows
the index's new versions).
"""

from __future__ import annotations

from .engine import Engine
from .hit import Hit
from .options import MAX_QUERY_CHARS, MODES, Mode, Preference, SearchOptions, check_query
from .ranking import FUSION_ANCHOR, RRF_K, fuse, group, mmr_order
from .rerank import CrossEncoderReranker, Reranker
from .sentence import best_sentence, is_question

__all__ = [
    "FUSION_ANCHOR",
    "MAX_QUERY_CHARS",
    "MODES",
    "RRF_K",
    "CrossEncoderReranker",
    "Engine",
    "Hit",
    "Mode",
    "Preference",
    "Reranker",
    "SearchOptions",
    "best_sentence",
    "check_query",
    "fuse",
    "group",
    "is_question",
    "mmr_order",
]
