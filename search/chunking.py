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

import ctypes
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

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
    """What the chunker needs from a tokenizer (special tokens excluded).

    A counter may also have ``additive = True``: the count of a text whose pieces are separated by
    ``SEPARATORS`` is the sum of the pieces' counts (no token crosses such a separator, and each
    word is tokenized alone, as BERT's WordPiece does), and every token has a non-empty span (so
    ``len(offsets(t)) == count([t])[0]``). The chunker then adds up sentence counts instead of
    tokenizing every passage again.
    """

    def count(self, texts: Sequence[str]) -> list[int]: ...

    def offsets(self, text: str) -> list[tuple[int, int]]: ...


# Characters BERT's normalizer keeps as a space: Python also calls the control characters U+000B,
# U+000C, U+001C-U+001F and U+0085 spaces, but BERT deletes them, joining the words on either side.
SEPARATORS = frozenset(" \t\n\r\u00a0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B))))


class WordCounter:
    """A whitespace tokenizer: every run of non-space characters is one token."""

    additive = True
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


def _separated(text: str, members: Sequence[tuple[int, int, int]]) -> bool:
    """Whether every member span starts and ends at a separator (or an end of ``text``), with only
    spaces between members: the joined text then tokenizes as the members do alone."""
    end = len(text)
    for n, (s, e, _) in enumerate(members):
        if (s and text[s - 1] not in SEPARATORS) or (e < end and text[e] not in SEPARATORS):
            return False
        if n and not text[members[n - 1][1] : s].isspace():
            return False
    return True


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text``: non-empty, whitespace-trimmed, in order, never overlapping, and
    together covering every non-space character (BlingFire's sentence starts are used as boundaries,
    so nothing it might skip between sentences is lost)."""
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        base, piece = line.start(), line.group()
        if not piece.strip():
            continue
        try:
            starts = sentence_starts(piece)
        except Exception:  # BlingFire rejects some inputs (e.g. lone surrogates): keep the line whole
            starts = []
        bounds = [0, *starts, len(piece)]
        for s, e in zip(bounds, bounds[1:]):
            s, e = _trim(text, base + s, base + e)
            if s < e:
                spans.append((s, e))
    return spans


def sentence_starts(piece: str) -> list[int]:
    """Where BlingFire starts a new sentence inside ``piece`` (one line): character offsets, each
    0 < offset < len(piece), ascending.

    The same starts as ``blingfire.text_to_sentences_and_offsets`` gives, without its pure-Python walk
    over every byte to turn UTF-8 offsets into character offsets (40% of chunking time): a character's
    offset is the count of UTF-8 lead bytes before it. Where that walk would fail (an offset that is
    not a character boundary, or out of order), BlingFire's answer is refused as it was: the line
    stays one sentence."""
    import blingfire  # imported here so that modules which only read an index do not need it

    raw = piece.encode("utf-8")  # lone surrogates raise here, as in BlingFire's own wrapper
    size = len(raw) * 2
    out = ctypes.create_string_buffer(size)
    begins, ends = (ctypes.c_int32 * size)(), (ctypes.c_int32 * size)()
    found = blingfire.blingfire.TextToSentencesWithOffsets(
        ctypes.c_char_p(raw),
        ctypes.c_int(len(raw)),
        ctypes.byref(out),
        ctypes.byref(begins),
        ctypes.byref(ends),
        ctypes.c_int(size),
    )
    if found == -1 or found > size:
        return []
    count = out.value.count(b"\n") + 1
    begin = np.frombuffer(begins, dtype=np.int32, count=count).astype(np.int64)
    ascii_only = len(raw) == len(piece)  # then every byte is a lead byte and offsets need no mapping
    lead = None if ascii_only else (np.frombuffer(raw, dtype=np.uint8) & 0xC0) != 0x80
    # BlingFire's wrapper matches begin₀, end₀+1, begin₁, … in order, each at a lead byte; an end that
    # runs to the last byte is the one offset allowed to stay unmatched.
    marks = np.empty(2 * count, dtype=np.int64)
    marks[0::2] = begin
    marks[1::2] = np.frombuffer(ends, dtype=np.int32, count=count) + 1
    inside = (marks >= 0) & (marks < len(raw))
    matched = inside if ascii_only else inside & lead[np.where(inside, marks, 0)]
    matched[1:] &= marks[1:] >= marks[:-1]
    unmatched = np.flatnonzero(~matched)
    if len(unmatched) and unmatched[0] < 2 * count - 1:
        return []
    offsets = begin if ascii_only else np.concatenate(([0], np.cumsum(lead)))[begin]  # lead bytes before
    return sorted({int(s) for s in offsets if 0 < s < len(piece)})


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
        # token boundary can re-tokenize longer): count every passage for real, unless the counter
        # is additive and the passage's sentences all stand between separators, and split the few
        # that do not fit until they do.
        additive = getattr(self.counter, "additive", False)
        counts: list[int | None] = [
            sum(m[2] for m in members) if additive and _separated(text, members) else None for _, _, members in groups
        ]
        recount = [i for i, n in enumerate(counts) if n is None]
        for i, n in zip(recount, self.counter.count([text[groups[i][0] : groups[i][1]] for i in recount])):
            counts[i] = n
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
