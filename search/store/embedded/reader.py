"""Reading one published generation: vectors, passages, sentences and documents, safe to share between threads."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ...documents import Document
from ...errors import DocumentNotFound, IndexDamaged, IndexIncompatible, IndexMissing
from ...memo import Remembered
from ..base import (
    Actor,
    ConnectionPool,
    Filter,
    PassageRecord,
    actor_counts_sql,
    askers_among,
    one_name_each,
    pairs_of,
    turn_texts_sql,
)
from ..manifest import FORMAT_VERSION, Manifest
from ..sentences import Scored, Sentences, SentenceTable, group_sentences, score_sentences, sentence_maxima
from ..vectors import VectorIndex
from .fts import FtsSearch
from .layout import CURRENT, DB, MANIFEST, VECTORS, current_generation, damage_fix, read_manifest, sha256_file
from .schema import filter_sql

# Passage ids of filters remembered by a reader, in all (8 bytes each: 16 MB at most).
FILTERED_IDS = 2_000_000


class Preloaded:
    """What ``EmbeddedStore.preload`` keeps in memory: every sentence, and each passage's document."""

    def __init__(self, sentences: SentenceTable, passage_ids: np.ndarray, doc_ids: np.ndarray) -> None:
        self.sentences = sentences
        self.passage_ids, self.doc_ids = passage_ids, doc_ids

    @classmethod
    def read(cls, pool: ConnectionPool) -> Preloaded:
        table = SentenceTable.decode(
            pool.rows("SELECT passage, start, end, scale, vector, speaker FROM sentences ORDER BY passage, start")
        )
        owners = pool.rows("SELECT p.id, d.doc_id FROM passages p JOIN documents d ON d.id = p.doc ORDER BY p.id")
        passage_ids = np.fromiter((r[0] for r in owners), dtype=np.int64, count=len(owners))
        return cls(table, passage_ids, np.array([r[1] for r in owners], dtype=object))

    def docs_of(self, ids: Sequence[int]) -> dict[int, str]:
        if not len(self.passage_ids):
            return {}
        ids = np.asarray(ids, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.passage_ids, ids), len(self.passage_ids) - 1)
        found = self.passage_ids[at] == ids
        return dict(zip(ids[found].tolist(), self.doc_ids[at[found]].tolist()))


def _document(row: Sequence[Any]) -> Document:
    return Document(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6])


_SQLITE_DAMAGED = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ino


class _Readers(ConnectionPool[sqlite3.Connection]):
    """The store's SQLite readers. A read that finds the file damaged raises ``IndexDamaged`` naming
    the file and the fix, not SQLite's bare "database disk image is malformed"."""

    def __init__(self, connections: Sequence[sqlite3.Connection], root: Path, path: Path) -> None:
        super().__init__(connections)
        self._root, self._path = root, path

    @contextmanager
    def lend(self) -> Iterator[sqlite3.Connection]:
        try:
            with super().lend() as conn:
                yield conn
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in _SQLITE_DAMAGED:  # extended codes too
                raise
            raise IndexDamaged(f"{self._path} is damaged ({exc}): {damage_fix(self._root)}") from exc


class EmbeddedStore:
    """A read-only view of one published generation; safe to share between threads."""

    def __init__(self, root: Path, gen: Path, manifest: Manifest, vectors: VectorIndex, readers: int = 4) -> None:
        self.root = root
        self.gen = gen
        self.manifest = manifest
        self.vectors = vectors
        uri = f"file:{(gen / DB).as_posix()}?mode=ro&immutable=1"
        # Connections are opened now, while the generation surely exists: a writer retires old
        # generations, and an open file stays readable after its name is gone.
        connections = [sqlite3.connect(uri, uri=True, check_same_thread=False) for _ in range(readers)]
        for conn in connections:
            conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, passages_fts, 'row')")
        self._pool = _Readers(connections, root, gen / DB)
        self._stamps = {name: _stamp(gen / name) for name in (DB, VECTORS)}
        self._verdicts: dict[tuple[str, tuple | None], str | None] = {}
        self.lexical = FtsSearch(self._pool, self.passage_count)
        self._memory: Preloaded | None = None
        self._actors: dict[int, Actor] | None = None
        self._askers: frozenset[int] | None = None
        self._fields: set[str] | None = None
        self._values: dict[str, dict[str, int]] = {}
        self._pairs: dict[tuple[str, str], dict[str, set[str]]] = {}
        # the passage ids of recent filters (a hybrid query reads them for both halves): a generation
        # never changes, and a filter over metadata or speakers costs tens of milliseconds to read
        self._filtered = Remembered(FILTERED_IDS, weigh=len)

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, root: Path | str, model: str | None = None) -> EmbeddedStore:
        """Open the live generation of ``root``; ``model`` (a canonical name), if given, must match."""
        root = Path(root)
        for _ in range(5):  # a writer may retire the generation between reading CURRENT and opening it
            gen = current_generation(root)
            if gen is None:
                if root.exists() and not root.is_dir():
                    raise IndexMissing(f"{root} is not a folder")
                raise IndexMissing(f"no index at {root}; build one with `fpsearch index PATH --index {root}`")
            if gen.is_dir():
                break
        else:
            raise IndexDamaged(f"{root}/{CURRENT} names {gen.name}, which does not exist; rebuild the index")
        manifest = read_manifest(gen)
        version = manifest.format_version
        if version != FORMAT_VERSION:
            raise IndexIncompatible(
                f"{root} has index format {version}, this fpsearch reads format {FORMAT_VERSION}; "
                f"rebuild it with `fpsearch index PATH --index {root}`"
            )
        built_with = manifest.model.name
        if model is not None and built_with != model:
            raise IndexIncompatible(
                f"{root} was built with model {built_with!r}, not {model!r}; query it without --model, "
                f"or rebuild it with `fpsearch index PATH --index {root} --model {model}`"
            )
        for name in (DB, VECTORS):
            expected = manifest.file(name).get("bytes")
            path = gen / name
            if not path.is_file():
                raise IndexDamaged(f"{path} is missing: {damage_fix(root)}")
            if expected is not None and path.stat().st_size != expected:
                raise IndexDamaged(
                    f"{path} is {path.stat().st_size} bytes, the manifest says {expected}: the file is "
                    f"damaged; {damage_fix(root)}"
                )
        # the vectors are read whole here anyway: checking their checksum costs little more
        want = manifest.file(VECTORS).get("sha256")
        if want and sha256_file(gen / VECTORS) != want:
            raise IndexDamaged(
                f"{gen / VECTORS} (the FAISS index) does not match its checksum in the manifest: the file "
                f"was changed or damaged; {damage_fix(root)}"
            )
        try:
            vectors = VectorIndex.read(gen / VECTORS, manifest.get("vectors"))
        except IndexDamaged as exc:
            raise IndexDamaged(f"{gen / VECTORS} is not a readable FAISS index: {damage_fix(root)}") from exc
        try:
            store = cls(root, gen, manifest, vectors)
            db_passages = store._pool.rows("SELECT count(*) FROM passages")[0][0]
        except sqlite3.DatabaseError as exc:
            raise IndexDamaged(f"{gen / DB} is not a readable SQLite database ({exc}): {damage_fix(root)}") from exc
        if not (vectors.ntotal == db_passages == manifest.passages):
            store.close()
            raise IndexDamaged(
                f"{gen}: {vectors.ntotal} vectors, {db_passages} passages in SQLite, manifest says "
                f"{manifest.passages}: {damage_fix(root)}"
            )
        return store

    def damage(self, full: bool = False) -> list[str]:
        """What is wrong with this generation's files now, in plain words (nothing: ``[]``). A
        generation never changes once published, so a file whose size, time or inode differ from
        when it was opened was damaged or replaced: it is hashed against the manifest, once per
        change. While nothing changes this costs one ``stat`` per file. ``full`` hashes every file
        (a server does when it opens a generation; a one-off query, which reads a few pages of the
        store, does not)."""
        problems = []
        for name, opened in self._stamps.items():
            path = self.gen / name
            stamp = _stamp(path)
            if stamp == opened and not full:
                continue
            if stamp is None and self.is_stale():
                continue  # retired by a newer generation (its readers move to that one), not damaged
            if (name, stamp) not in self._verdicts:
                try:
                    self._verdicts[name, stamp] = self._verdict(name, stamp)
                except FileNotFoundError:  # removed while it was read
                    if self.is_stale():
                        continue
                    self._verdicts[name, stamp] = f"{path} is missing"
            if self._verdicts[name, stamp]:
                problems.append(self._verdicts[name, stamp])
        return problems

    def _verdict(self, name: str, stamp: tuple[int, int, int] | None) -> str | None:
        path, want = self.gen / name, self.manifest.file(name)
        if stamp is None:
            return f"{path} is missing"
        if stamp[0] != want.get("bytes"):
            return f"{path} is {stamp[0]} bytes, the manifest says {want.get('bytes')}: the file is damaged"
        if sha256_file(path) != want.get("sha256"):
            return f"{path} does not match its checksum in the manifest: the file was changed or damaged"
        return None  # touched, not changed

    def stop_warming(self) -> None:
        """Stop scoring words ahead (a server does when a newer generation replaces this one)."""
        self.lexical.stop()

    def close(self) -> None:
        self.stop_warming()
        self._pool.close()

    # -- reading -----------------------------------------------------------------------------

    @property
    def location(self) -> str:
        return str(self.root)

    @property
    def version(self) -> str:
        return self.gen.name

    def is_stale(self) -> bool:
        try:
            return current_generation(self.root) != self.gen
        except IndexDamaged:
            return False

    def describe(self) -> dict[str, Any]:
        return {"index": str(self.root), "generation": self.gen.name, "sizes": self.file_sizes()}

    def vectors_of(self, ids: Sequence[int]) -> np.ndarray:
        return self.vectors.reconstruct(list(ids))

    @property
    def passage_count(self) -> int:
        return self.manifest.passages

    @property
    def document_count(self) -> int:
        return self.manifest.documents

    def filtered_ids(self, where: Filter) -> np.ndarray:
        """Passage ids whose document passes ``where`` (remembered)."""
        return self._filtered.through([where], lambda filters: [self._read_filtered(f) for f in filters])[0]

    def _read_filtered(self, where: Filter) -> np.ndarray:
        sql, args = filter_sql(where)
        rows = self._pool.rows(f"SELECT p.id FROM passages p JOIN documents d ON d.id = p.doc WHERE {sql}", args)
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        ids.setflags(write=False)  # shared by every query with this filter
        return ids

    def search_dense(
        self, vectors: np.ndarray, k: int, where: Filter | None = None, exact: bool = False
    ) -> list[list[tuple[int, float]]]:
        """Top ``k`` ``(passage id, cosine)`` per query vector, best first, filter applied before top-k.
        ``exact`` searches every inverted list of an approximate index."""
        allowed = None if where is None or where.empty else self.filtered_ids(where)
        return self.vectors.search(vectors, k, allowed, exact=exact)

    def search_lexical(self, query: str, k: int, where: Filter | None = None) -> list[tuple[int, float]]:
        """Top ``k`` ``(passage id, BM25)`` for ``query`` (higher is better), via FTS5 (see ``FtsSearch``)."""
        return self.search_lexical_many([query], k, where)[0]

    def search_lexical_many(
        self, queries: Sequence[str], k: int, where: Filter | None = None
    ) -> list[list[tuple[int, float]]]:
        """``search_lexical`` of each query (one stemming and one vocabulary lookup for all of them)."""
        return self.lexical.search_many(queries, k, None if where is None or where.empty else self.filtered_ids(where))

    @property
    def warming(self) -> bool:
        """Whether the lexical scores are still being prepared (see ``preload``)."""
        return self.lexical.warming

    def passages(self, ids: Sequence[int], text: bool = True, metadata: bool = True) -> dict[int, PassageRecord]:
        """The stored passages with these ids (ids not in the index are left out); ``text=False``
        leaves each ``text`` empty (reading a passage's text reads its whole document's), and
        ``metadata=False`` each ``metadata``."""
        out: dict[int, PassageRecord] = {}
        ids = [int(i) for i in ids]
        body = "substr(d.text, p.start + 1, p.end - p.start)" if text else "''"
        meta = "d.metadata" if metadata else "'{}'"
        for lo in range(0, len(ids), 500):
            part = ids[lo : lo + 500]
            rows = self._pool.rows(
                f"SELECT p.id, d.doc_id, d.title, d.date, d.source, p.start, p.end, {body}, {meta} "
                f"FROM passages p JOIN documents d ON d.id = p.doc WHERE p.id IN ({','.join('?' * len(part))})",
                part,
            )
            for r in rows:
                out[r[0]] = PassageRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], json.loads(r[8]))
        return out

    def preload(self, max_sentences: int = 5_000_000, warm: bool = True) -> bool:
        """For long-running servers: keep every sentence vector (int8, ~0.4 KB each) and which document
        each passage belongs to in memory, and give the vector index its quantized first pass, so that a
        query reads the database only for its lexical search and its final hits; with ``warm``, also
        score the costly lexical words ahead of queries, in a background thread (``warming`` says
        until when). The sentences are skipped above ``max_sentences``. True if they were loaded."""
        if warm:
            self.lexical.warm()
        if self._memory is not None:
            return True
        count = self._pool.rows("SELECT count(*) FROM sentences")[0][0]
        if count > max_sentences:
            return False
        # the big read first: its temporaries are then freed back to the system, not trapped in the
        # heap under the first pass's smaller allocations (70 MB more resident the other way round)
        self._memory = Preloaded.read(self._pool)
        self.vectors.accelerate()
        return True

    def passage_docs(self, ids: Sequence[int]) -> dict[int, str]:
        """``{passage id: doc id}`` for these passages (a cheap lookup, for grouping candidates)."""
        if self._memory is not None:
            return self._memory.docs_of(ids)
        out: dict[int, str] = {}
        ids = [int(i) for i in ids]
        for lo in range(0, len(ids), 900):
            part = ids[lo : lo + 900]
            out.update(
                self._pool.rows(
                    "SELECT p.id, d.doc_id FROM passages p JOIN documents d ON d.id = p.doc "
                    f"WHERE p.id IN ({','.join('?' * len(part))})",
                    part,
                )
            )
        return out

    def best_sentence_cosines(
        self, ids: Sequence[int], query: np.ndarray, speakers: Sequence[int] = ()
    ) -> dict[int, float]:
        """Per passage id: the cosine of its best-matching sentence with ``query`` (a unit vector),
        among the sentences ``speakers`` speak if given; passages without such sentences are left out."""
        if self._memory is not None and not len(speakers):
            return self._memory.sentences.best_cosines(ids, query)
        return sentence_maxima(self.sentences(ids), query, speakers)

    def sentence_scores(self, ids: Sequence[int], query: np.ndarray) -> dict[int, Scored]:
        """Per passage id: its sentences' cosines with ``query``, spans and speakers (one product for
        all of them when the sentences are in memory)."""
        if self._memory is not None:
            return self._memory.sentences.scored(ids, query)
        return score_sentences(self.sentences(ids), query)

    def sentences(self, ids: Sequence[int]) -> dict[int, Sentences]:
        """Per passage id: its sentence spans (n × 2, document offsets), unit vectors (n × dim) and
        speakers (actor ids, -1 for none)."""
        if self._memory is not None:
            return self._memory.sentences.sentences(ids)
        ids = [int(i) for i in ids]
        rows: list[tuple] = []
        for lo in range(0, len(ids), 900):
            part = ids[lo : lo + 900]
            rows.extend(
                self._pool.rows(
                    "SELECT passage, start, end, scale, vector, speaker FROM sentences "
                    f"WHERE passage IN ({','.join('?' * len(part))}) ORDER BY passage, start",
                    part,
                )
            )
        return group_sentences(rows)

    def metadata_values(self, field: str) -> dict[str, int]:
        """Documents per value of one metadata field (scalar values only; read once per field)."""
        if field not in self._values:
            rows = self._pool.rows(
                "SELECT CAST(json_extract(metadata, ?) AS TEXT), count(*) FROM documents "
                "WHERE json_type(metadata, ?) IN ('text', 'integer', 'real') GROUP BY 1",
                ['$."' + field.replace('"', '""') + '"'] * 2,
            )
            self._values[field] = {r[0]: r[1] for r in rows}
        return self._values[field]

    def metadata_pairs(self, field: str, other: str) -> dict[str, set[str]]:
        """Each (scalar) value of ``field``, and the values of ``other`` its documents hold (read once)."""
        if (field, other) not in self._pairs:
            paths = ['$."' + f.replace('"', '""') + '"' for f in (field, other)]
            rows = self._pool.rows(
                "SELECT DISTINCT CAST(json_extract(metadata, ?) AS TEXT), CAST(json_extract(metadata, ?) AS TEXT) "
                "FROM documents WHERE json_type(metadata, ?) IN ('text', 'integer', 'real') "
                "AND json_type(metadata, ?) IN ('text', 'integer', 'real')",
                paths + paths,
            )
            self._pairs[(field, other)] = pairs_of(rows)
        return self._pairs[(field, other)]

    def metadata_fields(self) -> set[str]:
        """The metadata field names any document of this generation has (read once)."""
        if self._fields is None:
            rows = self._pool.rows("SELECT DISTINCT j.key FROM documents d, json_each(d.metadata) j")
            self._fields = {r[0] for r in rows}
        return self._fields

    @property
    def actors(self) -> dict[int, Actor]:
        """Every actor with sentences in this generation, by id, with their counts, the spellings of one name
        under one (``one_name_each``; read once)."""
        if self._actors is None:
            self._actors = one_name_each(Actor(*r) for r in self._pool.rows(actor_counts_sql()))
        return self._actors

    def askers(self) -> frozenset[int]:
        """The actors who ask more than they answer (read once, a turn at a time)."""
        if self._askers is None:
            with self._pool.lend() as conn:
                self._askers = askers_among(self.actors, conn.execute(turn_texts_sql()))
        return self._askers

    def document(self, doc_id: str) -> Document:
        rows = self._pool.rows(
            "SELECT doc_id, text, title, date, source, metadata, hash FROM documents WHERE doc_id = ?", (doc_id,)
        )
        if not rows:
            raise DocumentNotFound(f"no document {doc_id!r} in {self.root}")
        return _document(rows[0])

    def document_passages(self, doc_id: str) -> list[tuple[int, int, int]]:
        """``(passage id, start, end)`` of one document's passages, in order."""
        return self._pool.rows(
            "SELECT p.id, p.start, p.end FROM passages p JOIN documents d ON d.id = p.doc "
            "WHERE d.doc_id = ? ORDER BY p.ordinal",
            (doc_id,),
        )

    def document_hashes(self) -> dict[str, str]:
        return dict(self._pool.rows("SELECT doc_id, hash FROM documents"))

    def iter_documents(self) -> Iterator[Document]:
        with self._pool.lend() as conn:
            for row in conn.execute(
                "SELECT doc_id, text, title, date, source, metadata, hash FROM documents ORDER BY id"
            ):
                yield _document(row)

    def file_sizes(self) -> dict[str, int]:
        return {name: (self.gen / name).stat().st_size for name in (MANIFEST, DB, VECTORS)}
