"""Building and changing an index: documents → passages → vectors → a new store version.

Every operation holds the index's writer lock, embeds what is new, and publishes a new version in
one step (see ``store.embedded``). Embeddings are checkpointed every few thousand passages, so an
interrupted build or add picks up where it stopped when the same command runs again.

Modules: ``settings`` (``IndexSettings``, ``Report``), ``checkpoints`` (resumable embedding),
``change`` (one change: chunk, embed, write, publish), ``operations`` (build, add, remove, copy).
"""

from __future__ import annotations

from .change import Change, embed_text
from .operations import add, add_documents, build, copy_index, remove
from .settings import DEFAULT_MAX_TOKENS, DEFAULT_OVERLAP, IndexSettings, Report

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_OVERLAP",
    "Change",
    "IndexSettings",
    "Report",
    "add",
    "add_documents",
    "build",
    "copy_index",
    "embed_text",
    "remove",
]
