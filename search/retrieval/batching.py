"""Concurrent single-query searches, run together: a server's requests become ``search_many`` batches.

Under load most of a query's cost is its embedding, and one model call for eight queries costs less
than eight calls; the vector search and the Python around it also run once per batch instead of once
per query. A ``Batcher`` keeps a queue and a few threads of its own: each thread takes the oldest
waiting query and every other waiting query with the same options (up to ``max_batch``), and answers
them with one ``Engine.search_many``. Nothing waits for a batch to fill: a query that arrives alone
runs at once, so batches grow only when queries queue up anyway. A handful of threads also keeps the
cores busy with fewer GIL hand-offs than one thread per request.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from .. import config
from .engine import Engine
from .hit import Hit
from .options import MAX_QUERY_CHARS, SearchOptions, check_query

MAX_BATCH = 16  # measured on 2 cores: 4 to 16 queries a batch cost about the same per query


class Answer(list):
    """One query's hits, with the ``version`` of the index that found them (all come from it)."""

    version: str | None = None


@dataclass
class _Waiting:
    query: str
    options: SearchOptions
    future: Future = field(default_factory=Future)


class Batcher:
    """Answers ``submit(query, options)`` from ``threads`` worker threads (0: one per core), batching
    queries that wait at the same time. ``engine`` gives the engine to search with (asked once per batch,
    so a server can swap in a new index version between batches); a query is checked on submission
    against ``max_query_chars``, the caller's own limit."""

    def __init__(
        self,
        engine: Callable[[], Engine],
        threads: int = 0,
        max_batch: int = MAX_BATCH,
        max_query_chars: int = MAX_QUERY_CHARS,
    ) -> None:
        if threads < 0 or max_batch < 1:
            raise ValueError("a batcher needs a thread count of 0 (one per core) or more and a batch of at least one")
        threads = threads or os.cpu_count() or 1
        # These threads run one search per core already; the tokenizer's own thread pool (on by default,
        # which suits indexing's large batches) would only contend with them. Read on every call.
        config.quiet_tokenizers()
        self._engine = engine
        self.max_batch = max_batch
        self.max_query_chars = max_query_chars
        self._waiting: deque[_Waiting] = deque()
        self._ready = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"fpsearch-batch-{n}", daemon=True) for n in range(threads)
        ]
        for t in self._threads:
            t.start()

    def submit(self, query: str, options: SearchOptions | None = None) -> Future:
        """A future of the hits for ``query`` (what ``Engine.search`` returns). An empty or too long
        query raises here, in the caller."""
        waiting = _Waiting(check_query(query, self.max_query_chars), options or SearchOptions())
        with self._ready:
            if self._closed:
                raise RuntimeError("the batcher is closed")
            self._waiting.append(waiting)
            self._ready.notify()
        return waiting.future

    def search(self, query: str, options: SearchOptions | None = None) -> list[Hit]:
        """``submit`` and wait: the same hits as ``Engine.search``."""
        return self.submit(query, options).result()

    def close(self) -> None:
        """Answer what is waiting, then stop the threads."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        for t in self._threads:
            t.join()

    def _next_batch(self) -> list[_Waiting] | None:
        with self._ready:
            while not self._waiting:
                if self._closed:
                    return None
                self._ready.wait()
            first = self._waiting.popleft()
            batch, others = [first], []
            while self._waiting and len(batch) < self.max_batch:
                item = self._waiting.popleft()
                (batch if item.options == first.options else others).append(item)
            self._waiting.extendleft(reversed(others))
            if self._waiting:
                self._ready.notify()  # more is waiting: another thread may start on it now
            return batch

    def _work(self) -> None:
        while (batch := self._next_batch()) is not None:
            batch = [w for w in batch if w.future.set_running_or_notify_cancel()]
            if batch:
                self._answer(batch)

    def _answer(self, batch: list[_Waiting]) -> None:
        try:
            engine = self._engine()
            found = engine.answer([w.query for w in batch], batch[0].options)
        except BaseException as exc:  # noqa: BLE001  (handed to the callers, never lost)
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            for w in batch:  # one query's trouble must not fail the others: each on its own
                self._answer([w])
            return
        for w, hits in zip(batch, found):
            answer = Answer(hits)
            answer.version = getattr(getattr(engine, "store", None), "version", None)
            w.future.set_result(answer)
