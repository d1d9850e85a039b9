"""Index stores behind one interface (``Store``); the embedded FAISS + SQLite store is the default."""

from .base import FORMAT_VERSION, Filter, PassageRecord, Store, StoreWriter
from .embedded import EmbeddedStore, index_exists, writer_lock

__all__ = [
    "FORMAT_VERSION",
    "EmbeddedStore",
    "Filter",
    "PassageRecord",
    "Store",
    "StoreWriter",
    "index_exists",
    "writer_lock",
]
