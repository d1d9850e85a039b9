"""fpsearch: semantic search over foreign-policy texts, with exact source spans.

Library entry points::

    from search import Engine, build
    build(["seeds"], "index")
    hits = Engine.open("index").search("Kuril Islands position", k=5)

Nothing heavy (torch, the model, the index) is loaded at import time.
"""

__version__ = "0.1.0"

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
from .indexing import IndexSettings, Progress, Report, add, build, remove
from .retrieval import Engine, Hit, SearchOptions
from .store import EmbeddedStore, Filter, Store

__all__ = [
    "Chunker",
    "Document",
    "DocumentNotFound",
    "EmbeddedStore",
    "Embedder",
    "Engine",
    "Filter",
    "FpsearchError",
    "Hit",
    "IndexBusy",
    "IndexDamaged",
    "IndexIncompatible",
    "IndexMissing",
    "IndexSettings",
    "InvalidInput",
    "LoadReport",
    "Passage",
    "Progress",
    "Report",
    "SearchOptions",
    "SentenceTransformerEmbedder",
    "SourceError",
    "Store",
    "__version__",
    "add",
    "build",
    "load_documents",
    "remove",
    "split_sentences",
]
