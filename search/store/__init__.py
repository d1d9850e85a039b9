"""Index stores behind one interface (``Store``, opened and changed through a ``Target``).

The embedded store (a folder: FAISS + SQLite/FTS5) is the default; a ``postgresql://`` URL selects the
PostgreSQL + pgvector store, shared by any number of servers and writers.
"""

from __future__ import annotations

from pathlib import Path

from ..config import is_database_url
from .base import Filter, PassageRecord, Store, StoreWriter, Target
from .embedded import EmbeddedStore, EmbeddedTarget, index_exists, writer_lock
from .manifest import FORMAT_VERSION, Manifest, Recipe

__all__ = [
    "FORMAT_VERSION",
    "Manifest",
    "Recipe",
    "EmbeddedStore",
    "EmbeddedTarget",
    "Filter",
    "PassageRecord",
    "Store",
    "StoreWriter",
    "Target",
    "index_exists",
    "is_database_url",
    "open_store",
    "target",
    "writer_lock",
]


def target(location: str | Path | Target) -> Target:
    """The target for an index location: a folder path, or a ``postgresql://`` URL."""
    if not isinstance(location, (str, Path)):
        return location
    if is_database_url(location):
        from .postgres import PostgresTarget

        return PostgresTarget(str(location))
    return EmbeddedTarget(Path(location))


def open_store(location: str | Path | Target, model: str | None = None) -> Store:
    """Open the index at ``location`` (checking the model, if given, against the one it was built with)."""
    return target(location).open(model)
