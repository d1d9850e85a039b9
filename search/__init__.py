"""fpsearch: semantic search over foreign-policy texts, with exact source spans.

Library entry points::

    from search import Engine, build
    build(["seeds"], "index")
    hits = Engine.open("index").search("Kuril Islands position", k=5)

Nothing heavy (torch, FAISS, the model, the index) is loaded at import time: the names below are
imported from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .version import __version__

_EXPORTS = {
    "Chunker": "chunking",
    "Passage": "chunking",
    "split_sentences": "chunking",
    "Document": "documents",
    "LoadReport": "documents",
    "load_documents": "documents",
    "Embedder": "embedding",
    "SentenceTransformerEmbedder": "embedding",
    "DocumentNotFound": "errors",
    "FpsearchError": "errors",
    "IndexBusy": "errors",
    "IndexDamaged": "errors",
    "IndexIncompatible": "errors",
    "IndexMissing": "errors",
    "InvalidInput": "errors",
    "SourceError": "errors",
    "IndexSettings": "indexing",
    "Progress": "progress",
    "Update": "progress",
    "Report": "indexing",
    "add": "indexing",
    "build": "indexing",
    "remove": "indexing",
    "Engine": "retrieval",
    "Hit": "retrieval",
    "SearchOptions": "retrieval",
    "Batcher": "retrieval.batching",
    "LiveIndex": "retrieval.live",
    "EmbeddedStore": "store",
    "Filter": "store",
    "Store": "store",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'search' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from .chunking import Chunker, Passage, split_sentences
    from .documents import Document, LoadReport, load_documents
    from .embedding import Embedder, SentenceTransformerEmbedder
    from .errors import (
        DocumentNotFound,
        FpsearchError,
        IndexBusy,
        IndexDamaged,
        IndexIncompatible,
        IndexMissing,
        InvalidInput,
        SourceError,
    )
    from .indexing import IndexSettings, Report, add, build, remove
    from .progress import Progress, Update
    from .retrieval import Engine, Hit, SearchOptions
    from .retrieval.batching import Batcher
    from .retrieval.live import LiveIndex
    from .store import EmbeddedStore, Filter, Store
