"""One change to one index (``Change``): documents chunked, embedded resumably and written into a new
version, under the index's writer lock (``writing``), published all at once or not at all."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np

from ..chunking import Chunker, Passage
from ..documents import Document
from ..embedding import Embedder
from ..errors import DiskFull, is_disk_full
from ..progress import Progress
from ..store import Recipe, Store, Target
from .checkpoints import Checkpoints, embed_resumably
from .settings import Report


def embed_text(doc: Document, passage: Passage, embed_title: bool) -> str:
    """The text the model sees for a passage (the stored span stays ``passage.text``)."""
    return f"{doc.title}\n{passage.text}" if embed_title and doc.title else passage.text


@dataclass
class Prepared:
    """Documents with their passages and vectors, ready to be written."""

    docs: Sequence[Document] = ()
    passages: Sequence[Sequence[Passage]] = ()
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    sentence_vectors: Sequence[np.ndarray] = ()

    @property
    def passage_count(self) -> int:
        return sum(len(p) for p in self.passages)


@dataclass
class Change:
    """One change to ``root``: its vectors follow ``recipe`` and come from ``embedder``; it tells
    ``progress`` how it goes and records what it did in ``report``."""

    root: Target
    recipe: Recipe
    embedder: Embedder | None  # None for a change that embeds nothing (remove)
    progress: Progress
    report: Report
    batch_size: int = 32

    def prepare(self, docs: Sequence[Document]) -> Prepared:
        """Chunk ``docs`` and embed their passages (and sentences), resuming an interrupted run."""
        passages = self._chunk(docs)
        texts, spans = [], []
        embed_title = self.recipe.chunking.embed_title
        for doc, parts in zip(docs, passages):
            for p in parts:
                text = embed_text(doc, p, embed_title)
                shift = len(text) - len(p.text) - p.start  # where the passage starts inside ``text``
                texts.append(text)
                spans.append([(a + shift, b + shift) for a, b in p.sentences])
        keys = (f"{d.doc_id}\0{d.hash}" for d in docs)
        vectors, svecs = embed_resumably(
            self.root, self.recipe, self.embedder, texts, spans, keys, self.batch_size, self.progress, self.report
        )
        return Prepared(docs, passages, vectors, svecs)

    def _chunk(self, docs: Sequence[Document]) -> list[list[Passage]]:
        chunking = self.recipe.chunking
        chunker = Chunker(self.embedder.counter, max_tokens=chunking.max_tokens, overlap=chunking.overlap)
        self.progress.stage("chunking", total=len(docs))
        out = []
        for doc in docs:
            if chunking.embed_title and doc.title:  # the title is embedded with each passage: leave it room
                title_tokens = chunker.counter.count([doc.title])[0] + 1
                budget = max(chunking.max_tokens // 2, chunking.max_tokens - title_tokens)
                out.append(replace(chunker, max_tokens=budget).chunk(doc))
            else:
                out.append(chunker.chunk(doc))
            self.progress.advance(1)
        return out

    def write(self, base: Store | None, prepared: Prepared | None = None, remove: Sequence[str] = ()) -> None:
        """Write a new version: ``base``'s content (or nothing), less ``remove``, plus ``prepared``;
        published when every row is in, and the checkpoints go."""
        prepared = prepared or Prepared()
        self.progress.stage("writing", total=len(prepared.docs) + len(remove))
        with self.root.write(self.recipe, base) as writer:
            for doc_id in remove:
                if writer.remove(doc_id):
                    self.report.removed += 1
                self.progress.advance(1)
            offset = 0
            for doc, parts in zip(prepared.docs, prepared.passages):
                end = offset + len(parts)
                writer.add(doc, parts, prepared.vectors[offset:end], prepared.sentence_vectors[offset:end])
                offset = end
                self.progress.advance(1)
        self.report.published = True
        Checkpoints.discard(self.root)


@contextmanager
def writing(root: Target) -> Iterator[None]:
    """Hold ``root``'s writer lock for one change. If the device fills up on the way, the change is
    not published (the store never publishes half a write), this run's checkpoints go too, so
    that nothing it wrote is left taking space, and the caller gets ``DiskFull``."""

    def full() -> DiskFull:
        return DiskFull(
            f"no space left on the device that holds {root.location}: the index is as it was before, and "
            "the partial files of this run were removed; free some space and run it again"
        )

    try:
        with root.lock():
            try:
                yield
            except Exception as exc:
                if not is_disk_full(exc):
                    raise
                Checkpoints.discard(root)
                raise full() from exc
    except DiskFull:
        raise
    except Exception as exc:  # the lock itself (a fresh index folder on a full device)
        if not is_disk_full(exc):
            raise
        raise full() from exc
