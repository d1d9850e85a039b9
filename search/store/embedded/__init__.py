"""The embedded store: one folder holding FAISS vectors, a SQLite database (with FTS5) and a manifest.

Its layout (documented for users in ``index/README.md``) and how a change is published are in
``layout``; ``reader`` opens a generation, ``fts`` is its lexical search, ``writer`` writes the next one,
``check`` checks one and goes back to the previous one, ``schema`` is the SQLite schema.
"""

from __future__ import annotations

from pathlib import Path

from ..manifest import Recipe
from .check import check_index, rollback
from .layout import current_generation, damage_fix, index_exists, writer_lock
from .reader import EmbeddedStore
from .writer import GenerationWriter, write_generation

__all__ = [
    "EmbeddedStore",
    "EmbeddedTarget",
    "GenerationWriter",
    "check_index",
    "current_generation",
    "index_exists",
    "rollback",
    "write_generation",
    "writer_lock",
]


class EmbeddedTarget:
    """An index folder on this machine."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.location = str(self.root)

    def exists(self) -> bool:
        return index_exists(self.root)

    def open(self, model: str | None = None) -> EmbeddedStore:
        return EmbeddedStore.open(self.root, model)

    def lock(self):
        return writer_lock(self.root)

    def write(self, recipe: Recipe, base: EmbeddedStore | None):
        return write_generation(self.root, recipe, base)

    def checkpoints(self) -> Path:
        return self.root / ".build"

    def check(self, full: bool = True) -> tuple[list[str], list[str]]:
        return check_index(self.root, full)

    def repair(self) -> str:
        """What to do about the problems ``check`` found."""
        return damage_fix(self.root, check=False)

    def rollback(self) -> tuple[str, str]:
        return rollback(self.root)
