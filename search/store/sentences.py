"""A passage's sentences as an index keeps them: spans, int8 vectors with a scale each, and a speaker.

Both stores write and read sentences through this codec (``quantize`` on the way in, ``SentenceTable``
on the way out), and score them against a query here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from ..chunking import Passage
from ..documents import Document
from ..speakers import attribute, document_turns


class Sentences(NamedTuple):
    """One passage's sentences: spans (n × 2, document offsets), unit vectors (n × dim) and the actor
    id of each (-1: nobody the index knows)."""

    spans: np.ndarray
    vectors: np.ndarray
    speakers: np.ndarray


class Scored(NamedTuple):
    """One passage's sentences scored against a query: spans (n × 2), cosines (n) and actor ids (n)."""

    spans: np.ndarray
    scores: np.ndarray
    speakers: np.ndarray


NO_SENTENCES = Sentences(np.zeros((0, 2), np.int64), np.zeros((0, 0), np.float32), np.zeros(0, np.int64))


def score_sentences(sentences: dict[int, Sentences], query: np.ndarray) -> dict[int, Scored]:
    """``Scored`` sentences from decoded ones (stores that keep no sentences in memory)."""
    return {
        pid: Scored(s.spans, s.vectors @ query if s.vectors.size else np.zeros(0, np.float32), s.speakers)
        for pid, s in sentences.items()
    }


def sentence_maxima(
    sentences: dict[int, Sentences], query: np.ndarray, speakers: Sequence[int] = ()
) -> dict[int, float]:
    """Per passage: the best cosine of its sentence vectors with ``query`` (with ``speakers``: of
    the sentences they speak; passages with none are left out)."""
    out = {}
    for pid, s in sentences.items():
        scores = s.vectors @ query if s.vectors.size else s.vectors
        if len(speakers) and len(scores):
            scores = scores[np.isin(s.speakers, speakers)]
        if len(scores):
            out[pid] = float(scores.max())
    return out


def quantize(vectors: np.ndarray) -> list[tuple[float, bytes]]:
    """Unit vectors as int8 with a per-vector scale: a quarter of the space, ample for ranking a
    passage's own sentences against each other."""
    vectors = np.asarray(vectors, dtype=np.float32)
    scales = np.abs(vectors).max(axis=1) if len(vectors) else np.zeros(0, dtype=np.float32)
    safe = np.where(scales > 0, scales, 1.0)[:, None]
    q = np.clip(np.rint(vectors / safe * 127), -127, 127).astype(np.int8)
    return [(float(s) / 127.0, row.tobytes()) for s, row in zip(scales, q)]


def attributed_rows(
    doc: Document,
    ids: Sequence[int],
    passages: Sequence[Passage],
    sentence_vectors: Sequence[np.ndarray] | None,
    actor_id: Callable[[str, str], int],
) -> tuple[list[tuple], list[tuple]]:
    """What a writer stores of a document's speakers: its turns as ``(start, body, end, label, actor
    id)`` and its passages' sentences as ``(passage id, start, end, scale, int8 vector, actor id or
    None)``; ``actor_id(name, kind)`` gives (or makes) the id of an actor."""
    turns = document_turns(doc.text, doc.metadata, doc.title)
    actors = [actor_id(t.actor, t.kind) for t in turns]
    turn_rows = [(t.start, t.body, t.end, t.label, a) for t, a in zip(turns, actors)]
    sentence_rows: list[tuple] = []
    for pid, passage, svecs in zip(ids, passages, sentence_vectors or ()):
        said = attribute(turns, passage.sentences, doc.text, doc.title)
        for (a, b), (scale, blob), t in zip(passage.sentences, quantize(svecs), said):
            sentence_rows.append((int(pid), a, b, scale, blob, None if t is None else actors[t]))
    return turn_rows, sentence_rows


class SentenceTable:
    """Sentence rows decoded into arrays sorted by passage: spans, int8 vectors and their scales, and
    each sentence's actor id (-1: none)."""

    def __init__(
        self, passages: np.ndarray, spans: np.ndarray, scales: np.ndarray, codes: np.ndarray, speakers: np.ndarray
    ) -> None:
        self.passages, self.spans, self.scales, self.codes = passages, spans, scales, codes
        self.speakers = speakers

    @classmethod
    def decode(cls, rows: Sequence[tuple]) -> SentenceTable:
        """From ``(passage, start, end, scale, int8 blob, speaker or None)`` rows sorted by passage."""
        passages = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        spans = np.array([(r[1], r[2]) for r in rows], dtype=np.int64).reshape(-1, 2)
        scales = np.fromiter((r[3] for r in rows), dtype=np.float32, count=len(rows))
        blob = b"".join(bytes(r[4]) for r in rows)
        codes = np.frombuffer(blob, dtype=np.int8).reshape(len(rows), -1) if rows else np.zeros((0, 0), np.int8)
        speakers = np.fromiter((-1 if r[5] is None else r[5] for r in rows), dtype=np.int64, count=len(rows))
        return cls(passages, spans, scales, codes, speakers)

    def _ranges(self, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ids = np.asarray(ids, dtype=np.int64)
        return ids, np.searchsorted(self.passages, ids), np.searchsorted(self.passages, ids + 1)

    def sentences(self, ids: Sequence[int]) -> dict[int, Sentences]:
        """Per passage id: its sentence spans, float32 unit vectors and speakers (passages without any
        left out)."""
        ids, lo, hi = self._ranges(ids)
        return {
            int(pid): Sentences(
                self.spans[a:b], self.codes[a:b].astype(np.float32) * self.scales[a:b, None], self.speakers[a:b]
            )
            for pid, a, b in zip(ids, lo, hi)
            if b > a
        }

    def _score(self, ids: Sequence[int], query: np.ndarray):
        """``(ids, lo, hi, starts, scores)``: every sentence of the passages ``ids`` that have any,
        scored against ``query`` in one product; passage n's scores are ``scores[starts[n]:]``."""
        ids, lo, hi = self._ranges(ids)
        held = hi > lo
        ids, lo, hi = ids[held], lo[held], hi[held]
        counts = hi - lo
        starts = np.cumsum(counts) - counts  # where each passage's sentences begin in ``rows``
        rows = np.arange(counts.sum()) + np.repeat(lo - starts, counts)
        scores = (self.codes[rows].astype(np.float32) @ np.asarray(query, dtype=np.float32)) * self.scales[rows]
        return ids, lo, hi, starts, scores

    def scored(self, ids: Sequence[int], query: np.ndarray) -> dict[int, Scored]:
        """All candidates' sentences scored in one product, kept per passage with spans and speakers."""
        ids, lo, hi, starts, scores = self._score(ids, query)
        return {
            int(pid): Scored(self.spans[a:b], scores[s : s + (b - a)], self.speakers[a:b])
            for pid, a, b, s in zip(ids.tolist(), lo.tolist(), hi.tolist(), starts.tolist())
        }

    def best_cosines(self, ids: Sequence[int], query: np.ndarray) -> dict[int, float]:
        """All candidates' sentences scored in one product, then the best per passage."""
        ids, _, _, starts, scores = self._score(ids, query)
        if not len(ids):
            return {}
        return dict(zip(ids.tolist(), np.maximum.reduceat(scores, starts).tolist()))


def group_sentences(rows: Sequence[tuple]) -> dict[int, Sentences]:
    """``(passage, start, end, scale, int8 blob, speaker)`` rows, sorted by passage, as per-passage
    ``Sentences`` — decoded in one pass, not row by row."""
    table = SentenceTable.decode(rows)
    return table.sentences(np.unique(table.passages))
