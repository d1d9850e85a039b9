"""A deterministic stand-in for the embedding model, for unit tests that exercise ranking and index
plumbing without loading a model. Plain Python (no pytest), so that a test's subprocess can use it."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

import numpy as np

from search.chunking import WordCounter
from search.embedding import pool_spans

_WORD = re.compile(r"\w+")


class FakeEmbedder:
    """Bag-of-words vectors from hashed words: deterministic, instant, and texts sharing words are
    close — enough to test ranking plumbing without a model."""

    name = "fake-bow"
    passage_runtime = "fake"

    def __init__(self, dimension: int = 64, max_tokens: int = 60) -> None:
        self._dim = dimension
        self._max = max_tokens

    @property
    def dimension(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max

    @property
    def counter(self) -> WordCounter:
        return WordCounter()

    def _token_vectors(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        words = list(_WORD.finditer(text.lower()))
        vecs = np.zeros((max(len(words), 1), self._dim), dtype=np.float32)
        offsets = np.zeros((max(len(words), 1), 2), dtype=np.int64)
        for n, m in enumerate(words):
            h = int.from_bytes(hashlib.blake2b(m.group().encode(), digest_size=8).digest(), "little")
            vecs[n, h % self._dim] = 1.0
            vecs[n, (h >> 16) % self._dim] += 0.5
            offsets[n] = m.span()
        return vecs, offsets

    def _one(self, text: str) -> np.ndarray:
        v = self._token_vectors(text)[0].sum(axis=0)
        n = np.linalg.norm(v)
        return v / n if n > 0 else v

    def embed(self, texts: Sequence[str], batch_size: int = 32, progress: Callable | None = None) -> np.ndarray:
        out = np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, self._dim), np.float32)
        if progress:
            progress(len(texts))
        return out.astype(np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)

    def embed_passages(self, texts, spans, batch_size: int = 32, progress: Callable | None = None):
        vecs = self.embed(texts)
        parts = []
        for text, sp in zip(texts, spans):
            tokens, offsets = self._token_vectors(text)
            parts.append(pool_spans(tokens, offsets, np.ones(len(tokens)), sp))
        if progress:
            progress(len(texts))
        return vecs, parts
