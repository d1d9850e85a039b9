"""Writing a new generation: SQLite rows, FTS5 entries and vectors together, published on success."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ...chunking import Passage
from ...documents import Document
from ...errors import IndexDamaged
from ..base import document_row
from ..manifest import FORMAT_VERSION, Manifest, Recipe, utc_now
from ..sentences import attributed_rows
from ..vectors import VectorIndex
from .layout import DB, MANIFEST, VECTORS, _fsync_dir, _fsync_file, publish, sha256_file
from .reader import EmbeddedStore
from .schema import SCHEMA


@contextmanager
def write_generation(root: Path | str, recipe: Recipe, base: EmbeddedStore | None = None) -> Iterator[GenerationWriter]:
    """Write a new generation (starting from ``base``'s content, or empty) and publish it on success.

    The caller must hold ``writer_lock(root)``. If the block raises, nothing is published.
    """
    root = Path(root)
    tmp = root / f".tmp-{uuid.uuid4().hex[:12]}"
    tmp.mkdir(parents=True)
    try:
        writer = GenerationWriter(tmp, recipe, base)
        yield writer
        writer.finish()
        publish(root, tmp)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


class GenerationWriter:
    """Builds one generation in a private folder: SQLite rows, FTS5 entries and vectors together."""

    def __init__(self, folder: Path, recipe: Recipe, base: EmbeddedStore | None) -> None:
        self.folder = folder
        self.recipe = recipe
        self.created = base.manifest.created if base else utc_now()
        if base is not None:
            shutil.copyfile(base.gen / DB, folder / DB)
            self.vectors = VectorIndex.read(base.gen / VECTORS, base.manifest.get("vectors"))
        else:
            self.vectors = VectorIndex.empty(recipe.model.dimension)
        self.conn = sqlite3.connect(folder / DB, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = OFF")  # a private file: a crash discards it anyway
        self.conn.execute("PRAGMA synchronous = OFF")
        if base is None:
            self.conn.executescript(SCHEMA)
            self.conn.execute("INSERT INTO meta VALUES ('format_version', ?)", (str(FORMAT_VERSION),))
        self.conn.execute("BEGIN")
        row = self.conn.execute("SELECT coalesce(max(id), -1) + 1 FROM passages").fetchone()
        self.next_id = int(row[0])
        self.actor_ids = {(name, kind): i for i, name, kind in self.conn.execute("SELECT id, name, kind FROM actors")}
        self.added = 0
        self.removed = 0

    def add(
        self,
        doc: Document,
        passages: Sequence[Passage],
        vectors: np.ndarray,
        sentence_vectors: Sequence[np.ndarray] | None = None,
    ) -> None:
        """Store ``doc`` with its passages and their vectors, replacing a document with the same id.

        ``sentence_vectors[i]`` holds one vector per entry of ``passages[i].sentences``.
        """
        if len(passages) != len(vectors):
            raise ValueError("one vector per passage is required")
        self.remove(doc.doc_id)
        cur = self.conn.execute(
            "INSERT INTO documents (doc_id, title, date, date_lo, date_hi, source, hash, metadata, text) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            document_row(doc),
        )
        rowid = cur.lastrowid
        ids = np.arange(self.next_id, self.next_id + len(passages), dtype=np.int64)
        self.next_id += len(passages)
        self.conn.executemany(
            "INSERT INTO passages (id, doc, ordinal, start, end) VALUES (?, ?, ?, ?, ?)",
            [(int(i), rowid, p.ordinal, p.start, p.end) for i, p in zip(ids, passages)],
        )
        self.conn.executemany(
            "INSERT INTO passages_fts (rowid, title, text) VALUES (?, ?, ?)",
            [(int(i), doc.title, p.text) for i, p in zip(ids, passages)],
        )
        turns, sentences = attributed_rows(doc, ids, passages, sentence_vectors, self._actor)
        self.conn.executemany("INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?)", [(rowid, *t) for t in turns])
        self.conn.executemany("INSERT INTO sentences VALUES (?, ?, ?, ?, ?, ?)", sentences)
        if len(passages):
            self.vectors.add(np.asarray(vectors, dtype=np.float32), ids)
        self.added += 1

    def _actor(self, name: str, kind: str) -> int:
        key = (name, kind)
        if key not in self.actor_ids:
            cur = self.conn.execute("INSERT INTO actors (name, kind) VALUES (?, ?)", key)
            self.actor_ids[key] = int(cur.lastrowid)
        return self.actor_ids[key]

    def remove(self, doc_id: str) -> bool:
        """Drop a document and everything derived from it; False if it was not there."""
        row = self.conn.execute("SELECT id FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None:
            return False
        rows = self.conn.execute(
            "SELECT id, title, text FROM passage_texts WHERE id IN (SELECT id FROM passages WHERE doc = ?)",
            (row[0],),
        ).fetchall()
        self.conn.executemany(
            "INSERT INTO passages_fts (passages_fts, rowid, title, text) VALUES ('delete', ?, ?, ?)", rows
        )
        self.conn.execute("DELETE FROM sentences WHERE passage IN (SELECT id FROM passages WHERE doc = ?)", (row[0],))
        self.conn.execute("DELETE FROM turns WHERE doc = ?", (row[0],))
        self.conn.execute("DELETE FROM passages WHERE doc = ?", (row[0],))
        self.conn.execute("DELETE FROM documents WHERE id = ?", (row[0],))
        if rows:
            self.vectors.remove(np.array([r[0] for r in rows], dtype=np.int64))
        self.removed += 1
        return True

    def finish(self) -> None:
        """Commit, write the vectors and the manifest, and flush everything to disk."""
        documents = self.conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        passages = self.conn.execute("SELECT count(*) FROM passages").fetchone()[0]
        sources = dict(self.conn.execute("SELECT source, count(*) FROM documents GROUP BY source").fetchall())
        self.conn.execute("COMMIT")
        self.conn.execute("INSERT INTO passages_fts (passages_fts) VALUES ('optimize')")
        self.conn.execute("PRAGMA optimize")
        self.conn.close()
        if passages != self.vectors.ntotal:
            raise IndexDamaged(f"internal error: {passages} passages but {self.vectors.ntotal} vectors")
        self.vectors.finalize(self.recipe.ann)
        self.vectors.write(self.folder / VECTORS)
        files = {}
        for name in (DB, VECTORS):
            path = self.folder / name
            _fsync_file(path)
            files[name] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
        manifest = Manifest.new(
            self.recipe, self.created, documents, passages, sources, vectors=self.vectors.describe(), files=files
        )
        with open(self.folder / MANIFEST, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(self.folder)
