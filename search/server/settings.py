"""The server's limits, each settable with ``FPSEARCH_<NAME>`` or a ``serve`` option."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from .. import config
from ..errors import InvalidInput
from ..retrieval.options import MAX_QUERY_CHARS


@dataclass(frozen=True)
class ApiSettings:
    """Limits that protect a small machine; each can be set with ``FPSEARCH_<NAME>`` or a serve option."""

    max_query_chars: int = MAX_QUERY_CHARS
    max_k: int = 100
    max_batch: int = 32
    max_body_bytes: int = 1_000_000
    max_embed_inputs: int = 256
    max_add_documents: int = 100
    reload_check_seconds: float = 1.0
    # Result lists remembered per index version (a repeated query is answered without searching).
    result_cache: int = 1024
    # Threads that run searches, batching the queries that wait together (0: one per core).
    batch_threads: int = 0

    def __post_init__(self) -> None:
        if self.result_cache < 0:
            raise InvalidInput("result_cache (FPSEARCH_RESULT_CACHE) must be 0 (off) or more", "result_cache")
        if self.batch_threads < 0:
            raise InvalidInput(
                "batch_threads (FPSEARCH_BATCH_THREADS) must be 0 (one per core) or more", "batch_threads"
            )

    @classmethod
    def from_env(cls, **overrides: Any) -> ApiSettings:
        values: dict[str, Any] = {f.name: config.server_limit(f.name, f.default) for f in fields(cls)}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
