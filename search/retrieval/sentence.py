"""A hit's best sentence: the one closest to the query, preferring a statement to a question from the floor."""

from __future__ import annotations

import numpy as np

from ..speakers import label_at
from ..store import PassageRecord
from ..store.lexical import query_words
from ..store.sentences import Sentences

# A best sentence shorter than this ("Thank you.", "Question:") is shown with its better neighbour.
SHORT_SENTENCE = 30
# Taken off the cosine of a question or remark from the floor when choosing a hit's best sentence for
# a query that is not a question: the journalist who restates the topic gives way to the answer.
FLOOR_PENALTY = 0.1
_QUESTION_WORDS = frozenset(
    "what why how when where who whom whose which did does do is are was were can could will would should "
    "has have had may might".split()
)


def is_question(query: str) -> bool:
    """Whether the query asks something ("What did Putin say ...?") rather than names a topic."""
    text = query.strip().lower()
    return text.endswith("?") or text.split(" ", 1)[0] in _QUESTION_WORDS


def best_sentence(
    sentences: Sentences,
    query_vec: np.ndarray | None,
    record: PassageRecord,
    query: str,
    speakers: frozenset[int] = frozenset(),
    floor: frozenset[int] = frozenset(),
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
            [len(words & set(query_words(record.text[a - record.start : b - record.start]))) for a, b in spans],
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
    if said[best] >= 0:  # a sentence someone speaks: quoted from after their label
        start = _past_label(record, start, end)
    return start, end, best


def _past_label(record: PassageRecord, start: int, end: int) -> int:
    """Where a sentence's words start: after the speaker label that opens its turn ("Vladimir Putin: To
    hell with those sanctions." is quoted from "To hell"; the hit's ``speaker`` says who)."""
    offset = start - record.start
    if offset > 0 and record.text[offset - 1] != "\n":
        return start
    found = label_at(record.text[offset : end - record.start])
    return start + found[0] if found is not None and start + found[0] < end else start
