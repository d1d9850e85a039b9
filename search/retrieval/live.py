"""``LiveIndex``: an engine that follows the index as other processes change it, as a server needs.

An ``Engine`` reads one version of an index for its whole life. A long-running program (``fpsearch
serve``, or any library user that answers queries for hours) wants the newest version instead: a
``LiveIndex`` looks, at most every ``check_seconds``, whether a new version was published (``fpsearch
add``/``remove``/``index``/``rollback``), and if so opens and prepares it while the old engine still
answers; it also refuses to answer from files that were damaged since they were opened.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from ..embedding import Embedder
from ..errors import IndexDamaged
from ..store import Target, open_store
from .engine import Engine


class LiveIndex:
    """The engine for the newest version of ``index``, swapped for a new one when the index moves on.

    ``preload`` keeps each version's sentence vectors in memory and scores its costly lexical words
    ahead (what a server does: more memory, faster queries); ``results`` is how many result lists
    each engine remembers. Opening refuses (``IndexDamaged``) an index whose files fail their checksums.
    """

    def __init__(
        self,
        index: Path | str | Target,
        model: str | Embedder | None = None,
        check_seconds: float = 1.0,
        results: int = 0,
        preload: bool = True,
        rerank: str | None = None,
    ) -> None:
        self.index = index
        self.check_seconds = check_seconds
        self.results = results
        self._preload = preload
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self.engine = self._prepared(Engine.open(index, model, rerank=rerank, results=results))
        # what is wrong with the served index's files: all hashed at each open, looked at each check
        self.problems: list[str] = self.engine.store.damage(full=True)
        if self.problems:
            self.engine.close()
            raise IndexDamaged(
                f"{'; '.join(self.problems)}: rebuild the index, or go back to the previous "
                "generation with `fpsearch rollback`"
            )

    def _prepared(self, engine: Engine) -> Engine:
        if self._preload:
            engine.store.preload()
            engine.speaker_counts()  # the actors, each person's names joined: read before the first query
        return engine

    def current(self) -> Engine:
        """The engine to answer with. Refuses (``IndexDamaged``) while the index's files are damaged:
        what a damaged file would give is not an answer, and a query that only needs what is in memory
        cannot be told apart from one that reads the file. It answers again once a new generation is
        published (rebuilt or rolled back)."""
        now = time.monotonic()
        if now - self._checked >= self.check_seconds:
            self._checked = now
            self.reload()
            self.problems = self.engine.store.damage()
        if self.problems:
            raise IndexDamaged(
                f"the index being served is damaged ({'; '.join(self.problems)}); run `fpsearch check`, "
                "then rebuild it or go back to the previous generation with `fpsearch rollback`: this "
                "server moves to the new generation by itself"
            )
        return self.engine

    def search(self, query: str, k: int = 10, **options):
        """``Engine.search`` on the newest version."""
        return self.current().search(query, k, **options)

    def reload(self, force: bool = False) -> bool:
        """Open the index again if a newer version was published (or ``force``); True if it did. The
        new engine keeps the old one's model and reranker (they do not change with the data)."""
        if not force and not self.engine.store.is_stale():
            return False
        with self._lock:
            if not force and not self.engine.store.is_stale():
                return False
            old = self.engine
            self.engine = self._prepared(Engine(open_store(self.index), old._embedder, old.reranker, self.results))
            self.problems = self.engine.store.damage(full=True)
        old.store.stop_warming()  # it still answers requests in flight, but is not worth preparing
        return True

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> LiveIndex:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
