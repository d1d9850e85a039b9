"""Splitting documents into passages that fit the model, with exact character spans.

Sentences come from BlingFire (Microsoft's finite-state tokenizer): it ships compiled English sentence
rules that know abbreviations ("Mr.", "U.S.", "Jan. 5"), returns character offsets into the input, and
splits the 350 M characters of the full archive in about a minute and a half on one core — pySBD and
syntok are pure Python and many times slower, and NLTK's Punkt needs trained data downloaded at run
time. Lines are split first (speeches and transcripts put one speaker turn per line), then sentences
inside each line.

Passages are runs of whole sentences packed up to ``max_tokens`` word pieces of the embedding model's
own tokenizer, with ``overlap`` sentences repeated between neighbours. A sentence longer than the
budget is cut at token boundaries, so nothing the model would truncate is ever stored as one passage.
Every passage satisfies ``doc.text[start:end] == passage.text``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .documents import Document

_LINE = re.compile(r"[^\r\n]+")


@dataclass(frozen=True)
class Passage:
    """A run of sentences of one document: ``text == document.text[start:end]``."""

    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str
    sentences: tuple[tuple[int, int], ...] = ()
    """Spans (in document offsets) of the sentences, or sentence pieces, the passage is made of."""


class TokenCounter(Protocol):
    """What the chunker needs from a tokenizer (special tokens excluded)."""

    def count(self, texts: Sequence[str]) -> list[int]: ...

    def offsets(self, text: str) -> list[tuple[int, int]]: ...


class WordCounter:
    """A whitespace tokenizer: every run of non-space characters is one token."""

    _word = re.compile(r"\S+")

    def count(self, texts: Sequence[str]) -> list[int]:
        return [len(self._word.findall(t)) for t in texts]

    def offsets(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in self._word.finditer(text)]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text``: non-empty, whitespace-trimmed, in order, never overlapping, and
    together covering every non-space character (BlingFire's sentence starts are used as boundaries,
    so nothing it might skip between sentences is lost)."""
    import blingfire  # imported here so that modules which only read an index do not need it

    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        base, piece = line.start(), line.group()
        if not piece.strip():
            continue
        try:
            _, offsets = blingfire.text_to_sentences_and_offsets(piece)
        except Exception:  # BlingFire rejects some inputs (e.g. lone surrogates): keep the line whole
            offsets = []
        starts = sorted({s for s, _ in offsets if 0 < s < len(piece)})
        bounds = [0, *starts, len(piece)]
        for s, e in zip(bounds, bounds[1:]):
            s, e = _trim(text, base + s, base + e)
            if s < e:
                spans.append((s, e))
    return spans


@dataclass
class Chunker:
    """Packs sentences into passages of at most ``max_tokens`` tokens with ``overlap`` shared sentences."""

    counter: TokenCounter
    max_tokens: int = 200
    overlap: int = 1

    def __post_init__(self) -> None:
        if self.max_tokens < 8:
            raise ValueError("max_tokens must be at least 8")
        if self.overlap < 0:
            raise ValueError("overlap must be 0 or more")

    def units(self, text: str) -> list[tuple[int, int, int]]:
        """Sentence spans with their token counts; sentences over budget are cut at token boundaries."""
        sentences = split_sentences(text)
        counts = self.counter.count([text[s:e] for s, e in sentences])
        units: list[tuple[int, int, int]] = []
        for (s, e), n in zip(sentences, counts):
            if n <= self.max_tokens:
                units.append((s, e, n))
            else:
                units.extend(self._cut(text, s, e))
        return units

    def _cut(self, text: str, start: int, end: int, budget: int | None = None) -> list[tuple[int, int, int]]:
        budget = budget or self.max_tokens
        offsets = self.counter.offsets(text[start:end])
        pieces = []
        for i in range(0, len(offsets), budget):
            window = offsets[i : i + budget]
            s, e = _trim(text, start + window[0][0], start + window[-1][1])
            if s < e:
                pieces.append((s, e, len(window)))
        return pieces or [(start, end, 0)]

    def spans(self, text: str) -> list[tuple[int, int, list[tuple[int, int, int]]]]:
        """Passage spans of ``text``, each with the sentence units it is made of."""
        units = self.units(text)
        groups = []
        i = 0
        while i < len(units):
            total = units[i][2]
            j = i
            while j + 1 < len(units) and total + units[j + 1][2] <= self.max_tokens:
                j += 1
                total += units[j][2]
            groups.append((units[i][0], units[j][1], units[i : j + 1]))
            if j == len(units) - 1:
                break
            i = max(i + 1, j + 1 - self.overlap)
        return self._fit(text, groups)

    def _fit(self, text: str, groups: list) -> list[tuple[int, int, list[tuple[int, int, int]]]]:
        # Summed sentence counts can differ from the count of the joined text (and a piece cut at a
        # token boundary can re-tokenize longer): count every passage for real and split the few
        # that do not fit until they do.
        counts = self.counter.count([text[s:e] for s, e, _ in groups])
        spans: list[tuple[int, int, list[tuple[int, int, int]]]] = []
        for (s, e, members), n in zip(groups, counts):
            if n <= self.max_tokens:
                spans.append((s, e, members))
            elif len(members) > 1:
                half = len(members) // 2
                parts = [members[:half], members[half:]]
                spans.extend(self._fit(text, [(p[0][0], p[-1][1], p) for p in parts]))
            else:
                budget = max(1, min(self.max_tokens, n) * self.max_tokens // max(n, 1) - 1)
                pieces = self._cut(text, s, e, budget)
                if len(pieces) == 1 and pieces[0][:2] == (s, e):
                    spans.append((s, e, members))  # cannot be cut further (one token): keep it whole
                else:
                    spans.extend(self._fit(text, [(a, b, [(a, b, k)]) for a, b, k in pieces]))
        return spans

    def chunk(self, doc: Document) -> list[Passage]:
        """The passages of one document, in order."""
        return [
            Passage(doc.doc_id, n, s, e, doc.text[s:e], tuple((a, b) for a, b, _ in members))
            for n, (s, e, members) in enumerate(self.spans(doc.text))
        ]
