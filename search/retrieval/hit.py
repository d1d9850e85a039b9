"""A ranked passage with its source span, as every way into fpsearch returns it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Hit:
    """One ranked passage with its source span: ``document.text[start:end] == text``."""

    rank: int
    doc_id: str
    title: str
    date: str | None
    source: str
    score: float
    start: int
    end: int
    text: str
    sentence_start: int
    sentence_end: int
    passage_id: int
    cosine: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    speaker: str | None = None
    """Who speaks the best sentence (an actor of the index), or None where the index does not know."""
    speaker_kind: str | None = None
    """``person``, ``floor`` (a question or remark from the floor) or None."""
    reading: str | None = None
    """Set when the query was read as naming an actor and this hit is that actor's: e.g.
    "statements by Vladimir Putin" (see ``search.reading``)."""
    match: str | None = None
    """How well it matches the query, absolutely: ``strong``, ``weak`` or ``none`` (``search.strength``)."""

    @property
    def sentence(self) -> str:
        """The best-matching sentence (a slice of ``text``)."""
        return self.text[self.sentence_start - self.start : self.sentence_end - self.start]

    def as_dict(self) -> dict[str, Any]:
        """The fields as a dict (``metadata`` copied one level; ``dataclasses.asdict`` deep-copies every
        hit's metadata on every request)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["metadata"] = dict(self.metadata)
        return out
