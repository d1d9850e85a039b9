"""How documents become vectors (``IndexSettings``, checked once), and what a change reports (``Report``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import config
from ..documents import Problem
from ..embedding import Embedder
from ..errors import InvalidInput
from ..store import Recipe
from ..store.manifest import Ann, Chunking, ModelInfo

DEFAULT_MAX_TOKENS = 200
DEFAULT_OVERLAP = 1
MIN_MAX_TOKENS = 16


@dataclass(frozen=True)
class IndexSettings:
    """How documents become vectors. Recorded in the manifest (as its ``Recipe``); ``add`` reuses the
    index's own."""

    max_tokens: int | None = DEFAULT_MAX_TOKENS
    overlap: int = DEFAULT_OVERLAP
    embed_title: bool = False
    batch_size: int = 32
    exact: bool = False
    ann_threshold: int | None = None

    def check(self) -> IndexSettings:
        if self.max_tokens is not None and self.max_tokens < MIN_MAX_TOKENS:
            raise InvalidInput(f"max_tokens must be at least {MIN_MAX_TOKENS}", "max_tokens")
        if self.overlap < 0:
            raise InvalidInput("overlap must be 0 or more", "overlap")
        if self.batch_size < 1:
            raise InvalidInput("batch_size must be at least 1", "batch_size")
        return self

    def recipe(self, embedder: Embedder) -> Recipe:
        """The recipe these settings make with ``embedder`` (passages never longer than it reads)."""
        import blingfire

        limit = embedder.max_tokens
        threshold = self.ann_threshold or config.number(config.ANN_THRESHOLD)
        return Recipe(
            ModelInfo(embedder.name, embedder.dimension, limit, embedder.passage_runtime),
            Chunking(
                f"blingfire {getattr(blingfire, '__version__', '0.1.8')}",
                min(self.max_tokens or limit, limit),
                self.overlap,
                self.embed_title,
            ),
            Ann(self.exact, threshold),
        )

    @classmethod
    def of(cls, recipe: Recipe) -> IndexSettings:
        """The settings an index was built with (a change to it keeps them)."""
        return cls(
            max_tokens=recipe.chunking.max_tokens,
            overlap=recipe.chunking.overlap,
            embed_title=recipe.chunking.embed_title,
            exact=recipe.ann.exact,
            ann_threshold=recipe.ann.threshold,
        )


@dataclass
class Report:
    """What an indexing operation did."""

    index: str = ""
    documents: int = 0
    passages: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    embedded: int = 0
    resumed: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    published: bool = False
    problems: list[Problem] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def passages_per_second(self) -> float:
        return self.embedded / self.embed_seconds if self.embed_seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "problems"}
        out["problems"] = [str(p) for p in self.problems]
        out["passages_per_second"] = round(self.passages_per_second, 1)
        return out
