"""Rerankers: a model that rescores (query, passage) pairs to reorder the first candidates."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ..errors import InvalidInput


class Reranker(Protocol):
    """Scores (query, passage) pairs; higher is more relevant."""

    def score(self, query: str, passages: Sequence[str]) -> list[float]: ...


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder``; its scores are the model's raw relevance logits."""

    def __init__(self, model: str) -> None:
        self.ref = model
        self._model = None
        self._lock = threading.Lock()

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import CrossEncoder

                    try:
                        self._model = CrossEncoder(self.ref, device="cpu")
                    except Exception as exc:
                        raise InvalidInput(f"cannot load reranker {self.ref!r}: {exc}") from exc
        if not passages:
            return []
        scores = self._model.predict([(query, p) for p in passages], show_progress_bar=False)
        return [float(s) for s in np.asarray(scores).reshape(len(passages), -1)[:, -1]]
