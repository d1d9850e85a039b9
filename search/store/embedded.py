"""The embedded store: one folder holding FAISS vectors, a SQLite database (with FTS5) and a manifest.

Layout (documented for users in ``index/README.md``)::

    INDEX/
      CURRENT            name of the live generation, replaced atomically (write + fsync + rename)
      gen-000007/        one immutable generation
        manifest.json    format version, model, settings, counts, sha256 of the two files below
        store.sqlite     documents, passages (spans), FTS5 lexical index
        vectors.faiss    FAISS index whose ids are the passage ids of store.sqlite
      .lock              writer lock (flock): one writer at a time
      .tmp-*/            a generation being written; removed if a writer dies

A generation is never modified once published. Every change — a build, an add, a remove — writes a new
generation beside the live one and then swaps ``CURRENT``: a crash at any moment leaves the index
exactly as it was before or after the change, and readers keep a consistent view until they reload.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..chunking import Passage
from ..documents import Document
from ..errors import DocumentNotFound, IndexBusy, IndexDamaged, IndexIncompatible, IndexMissing
from ..memo import Remembered
from .base import (
    FORMAT_VERSION,
    Actor,
    ConnectionPool,
    Filter,
    PassageRecord,
    Scored,
    Sentences,
    actor_counts_sql,
    attributed_rows,
    date_range,
    score_sentences,
    sentence_maxima,
)
from .lexical import COSTLY_POSTINGS, Stemmer, WordScores, fts_query, query_words, select_words, top_sums
from .vectors import VectorIndex

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
DB = "store.sqlite"
VECTORS = "vectors.faiss"
LOCK = ".lock"
_GEN = re.compile(r"^gen-(\d{6,})$")
# BM25 weight of a passage's document title against its text (FTS5 column weights).
TITLE_WEIGHT = 0.5
BM25 = f"bm25(passages_fts, {TITLE_WEIGHT}, 1.0)"
# Query words found in more than this share of passages are left out of the lexical search (see
# lexical.select_words): measured on the dev set to cost nothing in quality while cutting the time.
COMMON_TERM_FRACTION = 0.4
# Terms whose passage counts a store remembers (a few MB at most).
DF_CACHE = 200_000
# Scored postings a store remembers for its lexical search (16 bytes each: ~64 MB at most).
WORD_SCORES = 4_000_000
# A preloading server scores ahead every word held by at least this many passages (see _warm_lexical).
WARM_FROM = 50

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents (
    id       INTEGER PRIMARY KEY,
    doc_id   TEXT NOT NULL UNIQUE,
    title    TEXT NOT NULL,
    date     TEXT,
    date_lo  TEXT,
    date_hi  TEXT,
    source   TEXT NOT NULL,
    hash     TEXT NOT NULL,
    metadata TEXT NOT NULL,
    text     TEXT NOT NULL
);
CREATE INDEX documents_source ON documents (source);
CREATE INDEX documents_date ON documents (date_lo, date_hi);
CREATE TABLE passages (
    id      INTEGER PRIMARY KEY,
    doc     INTEGER NOT NULL REFERENCES documents (id),
    ordinal INTEGER NOT NULL,
    start   INTEGER NOT NULL,
    end     INTEGER NOT NULL
);
CREATE INDEX passages_doc ON passages (doc);
CREATE TABLE actors (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    UNIQUE (name, kind)
);
CREATE TABLE turns (
    doc   INTEGER NOT NULL REFERENCES documents (id),
    start INTEGER NOT NULL,
    body  INTEGER NOT NULL,
    end   INTEGER NOT NULL,
    label TEXT NOT NULL,
    actor INTEGER NOT NULL REFERENCES actors (id)
);
CREATE INDEX turns_doc ON turns (doc);
CREATE TABLE sentences (
    passage INTEGER NOT NULL REFERENCES passages (id),
    start   INTEGER NOT NULL,
    end     INTEGER NOT NULL,
    scale   REAL NOT NULL,
    vector  BLOB NOT NULL,
    speaker INTEGER REFERENCES actors (id)
);
CREATE INDEX sentences_passage ON sentences (passage);
CREATE INDEX sentences_speaker ON sentences (speaker) WHERE speaker IS NOT NULL;
CREATE VIEW passage_texts AS
    SELECT p.id AS id, d.title AS title, substr(d.text, p.start + 1, p.end - p.start) AS text
    FROM passages p JOIN documents d ON d.id = p.doc;
CREATE VIRTUAL TABLE passages_fts USING fts5 (
    title, text, content = 'passage_texts', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
"""
FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def current_generation(root: Path) -> Path | None:
    """The live generation folder of ``root``, or None if no index was ever published there."""
    try:
        name = (root / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexDamaged(f"{root}: cannot read {CURRENT} ({exc.strerror})") from exc
    if not _GEN.match(name):
        raise IndexDamaged(f"{root}/{CURRENT} names {name!r}, which is not a generation folder")
    return root / name


def index_exists(root: Path) -> bool:
    return (root / CURRENT).is_file()


@contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """Hold the index's writer lock; a second writer fails at once with ``IndexBusy``.

    A writer that publishes nothing into a folder that held nothing (a build whose input was bad)
    leaves no trace: the lock file goes, and so does the folder if the lock made it."""
    made = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    held = False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise IndexBusy(f"{root} is being changed by {holder}; try again when it finishes") from None
        held = True
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()}".encode(), 0)
        _remove_leftovers(root)
        yield
    finally:
        if held and [p.name for p in root.iterdir()] == [LOCK]:
            (root / LOCK).unlink(missing_ok=True)  # still locked by us, so no other writer is inside
            if made:
                with contextlib.suppress(OSError):
                    root.rmdir()
        os.close(fd)


def check_index(root: Path | str, full: bool = True) -> tuple[list[str], list[str]]:
    """Check an index without trusting it: ``(facts, problems)`` in plain words; no problems = healthy.

    Verifies the manifest, file sizes and SHA-256 checksums, SQLite's own integrity check, the FTS5
    index against its content, and that the same passage ids are in SQLite and FAISS with spans that lie
    inside their documents. ``full=False`` skips the checksums and the FTS5 check (the slow parts).
    """
    root = Path(root)
    facts: list[str] = []
    try:
        gen = current_generation(root)
    except IndexDamaged as exc:
        return facts, [str(exc)]
    if gen is None:
        return facts, [f"no index at {root} ({CURRENT} is missing)"]
    if not gen.is_dir():
        return facts, [f"{CURRENT} names {gen.name}, which does not exist"]
    facts.append(f"live generation {gen.name}")
    return check_generation(root, gen, full, facts)


def check_generation(
    root: Path, gen: Path, full: bool = True, facts: list[str] | None = None
) -> tuple[list[str], list[str]]:
    """``check_index`` of one generation folder of ``root``, live or not."""
    facts = [] if facts is None else facts
    problems: list[str] = []
    try:
        manifest = read_manifest(gen)
    except IndexDamaged as exc:
        return facts, [str(exc)]
    if manifest.get("format_version") != FORMAT_VERSION:
        problems.append(f"format version {manifest.get('format_version')} is not {FORMAT_VERSION}")
    for name in (DB, VECTORS):
        path = gen / name
        want = manifest.get("files", {}).get(name, {})
        if not path.is_file():
            problems.append(f"{path} is missing")
            continue
        size = path.stat().st_size
        if size != want.get("bytes"):
            problems.append(f"{path} is {size} bytes; the manifest says {want.get('bytes')}")
        elif full and sha256_file(path) != want.get("sha256"):
            problems.append(f"{path} does not match its checksum in the manifest (the file was changed or damaged)")
        else:
            facts.append(f"{name}: {size:,} bytes" + (", checksum ok" if full else ""))
    if problems:
        return facts, problems
    try:
        vectors = VectorIndex.read(gen / VECTORS, manifest.get("vectors"))
        faiss_ids = np.sort(vectors.ids())
    except IndexDamaged as exc:
        return facts, [str(exc)]
    counts = manifest.get("counts", {})
    try:
        conn = sqlite3.connect(f"file:{(gen / DB).as_posix()}?mode=ro&immutable=1", uri=True)
        with closing(conn):
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                problems.append(f"SQLite reports damage: {result}")
            db_ids = np.array([r[0] for r in conn.execute("SELECT id FROM passages ORDER BY id")], dtype=np.int64)
            docs = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
            bad_spans = conn.execute(
                "SELECT count(*) FROM passages p LEFT JOIN documents d ON d.id = p.doc "
                "WHERE d.id IS NULL OR p.start < 0 OR p.end <= p.start OR p.end > length(d.text)"
            ).fetchone()[0]
            orphans = conn.execute(
                "SELECT count(*) FROM sentences s LEFT JOIN passages p ON p.id = s.passage WHERE p.id IS NULL"
            ).fetchone()[0]
    except sqlite3.DatabaseError as exc:
        return facts, [*problems, f"{DB} cannot be read as SQLite ({exc})"]
    if bad_spans:
        problems.append(f"{bad_spans} passages point outside their document or to no document")
    if orphans:
        problems.append(f"{orphans} sentence rows belong to no passage")
    if docs != counts.get("documents"):
        problems.append(f"{docs} documents in SQLite; the manifest says {counts.get('documents')}")
    if len(db_ids) != counts.get("passages"):
        problems.append(f"{len(db_ids)} passages in SQLite; the manifest says {counts.get('passages')}")
    if not np.array_equal(db_ids, faiss_ids):
        only_db = len(np.setdiff1d(db_ids, faiss_ids))
        only_faiss = len(np.setdiff1d(faiss_ids, db_ids))
        problems.append(
            f"FAISS and SQLite disagree: {only_db} passages have no vector, {only_faiss} vectors have no passage"
        )
    else:
        facts.append(f"{docs:,} documents, {len(db_ids):,} passages, the same ids in SQLite and FAISS")
    if full and not problems:
        problems.extend(_check_fts(root, gen))
        if not problems:
            facts.append("FTS5 index matches the passages")
    leftovers = [e.name for e in root.iterdir() if e.name.startswith(".tmp-")]
    if leftovers:
        facts.append(f"unfinished writes to clean up at the next change: {', '.join(leftovers)}")
    if (root / ".build").exists():
        facts.append("an interrupted build or add left embedding checkpoints in .build (run it again to resume)")
    return facts, problems


def previous_generation(root: Path) -> Path | None:
    """The generation published just before the live one, if it is still kept (see ``_remove_leftovers``)."""
    try:
        live = current_generation(root)
    except IndexDamaged:
        return None
    if live is None:
        return None
    previous = root / f"gen-{_gen_number(live) - 1:06d}"
    return previous if (previous / MANIFEST).is_file() else None


def damage_fix(root: Path, check: bool = True) -> str:
    """What to do about a damaged live generation: go back to the kept previous one, or rebuild
    (after ``fpsearch check``, unless ``check`` is false: it was just run)."""
    previous = previous_generation(root)
    back = f"`fpsearch rollback --index {root}` goes back to {previous.name}, or " if previous else ""
    first = f"run `fpsearch check --index {root}`; " if check else ""
    return f"{first}{back}rebuild it with `fpsearch index PATH --index {root}`"


def rollback(root: Path | str) -> tuple[str, str]:
    """Make the kept previous generation live again, after checking it in full; the generation it
    replaces is deleted. Returns ``(replaced, live)`` generation names. Readers (a running server)
    move to it as to any newly published generation."""
    root = Path(root)
    with writer_lock(root):
        live = current_generation(root)
        if live is None:
            raise IndexMissing(f"no index at {root}")
        previous = previous_generation(root)
        if previous is None:
            raise IndexMissing(
                f"{root} keeps no generation before {live.name} to go back to; rebuild it with "
                f"`fpsearch index PATH --index {root}`"
            )
        _, problems = check_generation(root, previous)
        if problems:
            raise IndexDamaged(f"{previous} fails its check too ({'; '.join(problems)}); rebuild the index")
        _point(root, previous)
        _fsync_dir(root)
        shutil.rmtree(live, ignore_errors=True)
        return live.name, previous.name


def _check_fts(root: Path, gen: Path) -> list[str]:
    # FTS5's integrity check is a write statement: run it on a private copy, in memory, so that a
    # check never needs free space on the index's device (a full disk is when one checks).
    source = sqlite3.connect(f"file:{(gen / DB).as_posix()}?mode=ro&immutable=1", uri=True)
    conn = sqlite3.connect(":memory:")
    try:
        source.backup(conn)
        conn.execute("INSERT INTO passages_fts (passages_fts, rank) VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError as exc:
        return [f"the FTS5 lexical index does not match the passages ({exc})"]
    finally:
        conn.close()
        source.close()
    return []


class EmbeddedTarget:
    """An index folder on this machine."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.location = str(self.root)

    def exists(self) -> bool:
        return index_exists(self.root)

    def open(self, model: str | None = None) -> EmbeddedStore:
        return EmbeddedStore.open(self.root, model)

    def lock(self):
        return writer_lock(self.root)

    def write(self, settings: dict[str, Any], base: EmbeddedStore | None):
        return EmbeddedStore.write(self.root, settings, base)

    def checkpoints(self) -> Path:
        return self.root / ".build"

    def check(self, full: bool = True) -> tuple[list[str], list[str]]:
        return check_index(self.root, full)

    def repair(self) -> str:
        """What to do about the problems ``check`` found."""
        return damage_fix(self.root, check=False)

    def rollback(self) -> tuple[str, str]:
        return rollback(self.root)


def _gen_number(path: Path) -> int:
    return int(_GEN.match(path.name).group(1))


def _remove_leftovers(root: Path, keep_previous: bool = True) -> None:
    """Delete what is no longer needed: unfinished generations of dead writers, generations that were
    never published, and retired ones — except the one just before the live generation, which readers
    that have not reloaded yet may still be opening."""
    live = current_generation(root)
    live_n = _gen_number(live) if live else 0
    for entry in root.iterdir():
        m = _GEN.match(entry.name)
        stale = m is not None and (int(m.group(1)) > live_n or int(m.group(1)) < live_n - int(keep_previous))
        if entry.name.startswith((".tmp-", ".check-")) or stale:
            shutil.rmtree(entry, ignore_errors=True)
    (root / (CURRENT + ".tmp")).unlink(missing_ok=True)


def read_manifest(gen: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexDamaged(f"{gen}: {MANIFEST} is missing; rebuild the index with `fpsearch index`") from None
    except (OSError, ValueError) as exc:
        raise IndexDamaged(f"{gen}/{MANIFEST} cannot be read ({exc}); rebuild the index") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != "fpsearch-index":
        raise IndexDamaged(f"{gen}/{MANIFEST} is not an fpsearch manifest")
    return manifest


def group_sentences(rows: Sequence[tuple]) -> dict[int, Sentences]:
    """``(passage, start, end, scale, int8 blob, speaker)`` rows, sorted by passage, as per-passage
    ``Sentences`` — decoded in one pass, not row by row."""
    table = SentenceTable.decode(rows)
    return table.sentences(np.unique(table.passages))


class SentenceTable:
    """Sentence rows decoded into arrays sorted by passage: spans, int8 vectors and their scales, and
    each sentence's actor id (-1: none)."""

    def __init__(
        self, passages: np.ndarray, spans: np.ndarray, scales: np.ndarray, codes: np.ndarray, speakers: np.ndarray
    ) -> None:
        self.passages, self.spans, self.scales, self.codes = passages, spans, scales, codes
        self.speakers = speakers

    @classmethod
    def decode(cls, rows: Sequence[tuple]) -> SentenceTable:
        """From ``(passage, start, end, scale, int8 blob, speaker or None)`` rows sorted by passage."""
        passages = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        spans = np.array([(r[1], r[2]) for r in rows], dtype=np.int64).reshape(-1, 2)
        scales = np.fromiter((r[3] for r in rows), dtype=np.float32, count=len(rows))
        blob = b"".join(bytes(r[4]) for r in rows)
        codes = np.frombuffer(blob, dtype=np.int8).reshape(len(rows), -1) if rows else np.zeros((0, 0), np.int8)
        speakers = np.fromiter((-1 if r[5] is None else r[5] for r in rows), dtype=np.int64, count=len(rows))
        return cls(passages, spans, scales, codes, speakers)

    def _ranges(self, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ids = np.asarray(ids, dtype=np.int64)
        return ids, np.searchsorted(self.passages, ids), np.searchsorted(self.passages, ids + 1)

    def sentences(self, ids: Sequence[int]) -> dict[int, Sentences]:
        """Per passage id: its sentence spans, float32 unit vectors and speakers (passages without any
        left out)."""
        ids, lo, hi = self._ranges(ids)
        return {
            int(pid): Sentences(
                self.spans[a:b], self.codes[a:b].astype(np.float32) * self.scales[a:b, None], self.speakers[a:b]
            )
            for pid, a, b in zip(ids, lo, hi)
            if b > a
        }

    def _score(self, ids: Sequence[int], query: np.ndarray):
        """``(ids, lo, hi, starts, scores)``: every sentence of the passages ``ids`` that have any,
        scored against ``query`` in one product; passage n's scores are ``scores[starts[n]:]``."""
        ids, lo, hi = self._ranges(ids)
        held = hi > lo
        ids, lo, hi = ids[held], lo[held], hi[held]
        counts = hi - lo
        starts = np.cumsum(counts) - counts  # where each passage's sentences begin in ``rows``
        rows = np.arange(counts.sum()) + np.repeat(lo - starts, counts)
        scores = (self.codes[rows].astype(np.float32) @ np.asarray(query, dtype=np.float32)) * self.scales[rows]
        return ids, lo, hi, starts, scores

    def scored(self, ids: Sequence[int], query: np.ndarray) -> dict[int, Scored]:
        """All candidates' sentences scored in one product, kept per passage with spans and speakers."""
        ids, lo, hi, starts, scores = self._score(ids, query)
        return {
            int(pid): Scored(self.spans[a:b], scores[s : s + (b - a)], self.speakers[a:b])
            for pid, a, b, s in zip(ids.tolist(), lo.tolist(), hi.tolist(), starts.tolist())
        }

    def best_cosines(self, ids: Sequence[int], query: np.ndarray) -> dict[int, float]:
        """All candidates' sentences scored in one product, then the best per passage."""
        ids, _, _, starts, scores = self._score(ids, query)
        if not len(ids):
            return {}
        return dict(zip(ids.tolist(), np.maximum.reduceat(scores, starts).tolist()))


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

    def __init__(
        self, root: Path, gen: Path, manifest: dict[str, Any], vectors: VectorIndex, readers: int = 4
    ) -> None:
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
        self._stemmer = Stemmer(FTS_TOKENIZE)
        self._memory: Preloaded | None = None
        self._df = Remembered(DF_CACHE)  # term → passages holding it
        self._word_scores = WordScores(WORD_SCORES)
        self._warmer: threading.Thread | None = None
        self._closing = threading.Event()
        self._actors: dict[int, Actor] | None = None
        self._fields: set[str] | None = None
        self._values: dict[str, dict[str, int]] = {}

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
        version = manifest.get("format_version")
        if version != FORMAT_VERSION:
            raise IndexIncompatible(
                f"{root} has index format {version}, this fpsearch reads format {FORMAT_VERSION}; "
                f"rebuild it with `fpsearch index PATH --index {root}`"
            )
        built_with = manifest.get("model", {}).get("name")
        if model is not None and built_with != model:
            raise IndexIncompatible(
                f"{root} was built with model {built_with!r}, not {model!r}; query it without --model, "
                f"or rebuild it with `fpsearch index PATH --index {root} --model {model}`"
            )
        for name in (DB, VECTORS):
            expected = manifest.get("files", {}).get(name, {}).get("bytes")
            path = gen / name
            if not path.is_file():
                raise IndexDamaged(f"{path} is missing: {damage_fix(root)}")
            if expected is not None and path.stat().st_size != expected:
                raise IndexDamaged(
                    f"{path} is {path.stat().st_size} bytes, the manifest says {expected}: the file is "
                    f"damaged; {damage_fix(root)}"
                )
        # the vectors are read whole here anyway: checking their checksum costs little more
        want = manifest.get("files", {}).get(VECTORS, {}).get("sha256")
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
        counts = manifest.get("counts", {})
        if not (vectors.ntotal == db_passages == counts.get("passages")):
            store.close()
            raise IndexDamaged(
                f"{gen}: {vectors.ntotal} vectors, {db_passages} passages in SQLite, manifest says "
                f"{counts.get('passages')}: {damage_fix(root)}"
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
        path, want = self.gen / name, self.manifest.get("files", {}).get(name, {})
        if stamp is None:
            return f"{path} is missing"
        if stamp[0] != want.get("bytes"):
            return f"{path} is {stamp[0]} bytes, the manifest says {want.get('bytes')}: the file is damaged"
        if sha256_file(path) != want.get("sha256"):
            return f"{path} does not match its checksum in the manifest: the file was changed or damaged"
        return None  # touched, not changed

    def stop_warming(self) -> None:
        """Stop scoring words ahead (a server does when a newer generation replaces this one)."""
        self._closing.set()
        if self._warmer is not None:
            self._warmer.join()

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
        return int(self.manifest["counts"]["passages"])

    @property
    def document_count(self) -> int:
        return int(self.manifest["counts"]["documents"])

    def _filter_sql(self, where: Filter) -> tuple[str, list[Any]]:
        clauses, args = [], []
        if where.since:
            clauses.append("d.date_hi >= ?")
            args.append(where.since)
        if where.until:
            clauses.append("d.date_lo <= ?")
            args.append(where.until)
        if where.sources:
            clauses.append(f"d.source IN ({','.join('?' * len(where.sources))})")
            args.extend(where.sources)
        for name, values in where.where:
            path = '$."' + name.replace('"', '""') + '"'
            marks = ",".join("?" * len(values))
            clauses.append(
                "EXISTS (SELECT 1 FROM json_each(d.metadata, ?) j "
                f"WHERE (CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
                f"ELSE CAST(j.value AS TEXT) END) IN ({marks}))"
            )
            args.append(path)
            args.extend(values)
        if where.speakers:
            clauses.append(
                f"p.id IN (SELECT passage FROM sentences WHERE speaker IN ({','.join('?' * len(where.speakers))}))"
            )
            args.extend(where.speakers)
        return " AND ".join(clauses) or "1", args

    def filtered_ids(self, where: Filter) -> np.ndarray:
        """Passage ids whose document passes ``where``."""
        sql, args = self._filter_sql(where)
        rows = self._pool.rows(f"SELECT p.id FROM passages p JOIN documents d ON d.id = p.doc WHERE {sql}", args)
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def search_dense(
        self, vectors: np.ndarray, k: int, where: Filter | None = None, exact: bool = False
    ) -> list[list[tuple[int, float]]]:
        """Top ``k`` ``(passage id, cosine)`` per query vector, best first, filter applied before top-k.
        ``exact`` searches every inverted list of an approximate index."""
        allowed = None if where is None or where.empty else self.filtered_ids(where)
        return self.vectors.search(vectors, k, allowed, exact=exact)

    def _lexical_words(self, query: str) -> list[tuple[str, tuple[str, ...]]]:
        """The query words to match, each with its FTS5 terms."""
        return self._lexical_words_many([query])[0]

    def _lexical_words_many(self, queries: Sequence[str]) -> list[list[tuple[str, tuple[str, ...]]]]:
        """``_lexical_words`` of each query; the words of all of them are stemmed and counted together."""
        words_of = [list(dict.fromkeys(query_words(q))) for q in queries]
        distinct = list(dict.fromkeys(w for words in words_of for w in words))
        terms_of = {w: tuple(ts) for w, ts in zip(distinct, self._stemmer.stems(distinct))} if distinct else {}
        terms = sorted({t for ts in terms_of.values() for t in ts})
        df = self._document_frequencies(terms) if terms else {}
        out = []
        for words in words_of:
            stems = [list(terms_of[w]) for w in words]
            kept = select_words(words, stems, df, self.passage_count, COMMON_TERM_FRACTION)
            out.append([(w, terms_of[w]) for w in kept])
        return out

    def _document_frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many passages hold each term (0 if none). Remembered: a generation never changes, and
        the fts5vocab lookup costs more than a millisecond per query."""
        return dict(zip(terms, self._df.through(terms, self._count_passages)))

    def _count_passages(self, terms: list[str]) -> list[int]:
        found = dict(self._pool.rows(
            f"SELECT term, doc FROM temp.vocab WHERE term IN ({','.join('?' * len(terms))})", terms
        ))
        return [int(found.get(t, 0)) for t in terms]

    def search_lexical(self, query: str, k: int, where: Filter | None = None) -> list[tuple[int, float]]:
        """Top ``k`` ``(passage id, BM25)`` for ``query`` (higher is better), via FTS5.

        Without a filter, each word's scores come from a one-word FTS5 query, remembered, and are added
        up (``WordScores``: the same figures FTS5 gives the whole OR query); with one, FTS5 ranks the
        filtered rows itself."""
        return self.search_lexical_many([query], k, where)[0]

    def search_lexical_many(
        self, queries: Sequence[str], k: int, where: Filter | None = None
    ) -> list[list[tuple[int, float]]]:
        """``search_lexical`` of each query (one stemming and one vocabulary lookup for all of them)."""
        out: list[list[tuple[int, float]]] = []
        filtered = where is not None and not where.empty
        fsql, fargs = self._filter_sql(where) if filtered else ("", [])
        for words in self._lexical_words_many(queries):
            if not words or k < 1:
                out.append([])
            elif not filtered:
                out.append(top_sums([self._word_scores.get(ts, partial(self._word_postings, w)) for w, ts in words], k))
            else:
                rows = self._pool.rows(
                    f"SELECT rowid, -{BM25} FROM passages_fts WHERE passages_fts MATCH ? AND rowid IN "
                    f"(SELECT p.id FROM passages p JOIN documents d ON d.id = p.doc WHERE {fsql}) "
                    f"ORDER BY {BM25} LIMIT ?",
                    [fts_query([w for w, _ in words]), *fargs, k],
                )
                out.append([(int(r[0]), float(r[1])) for r in rows])
        return out

    def _word_postings(self, word: str) -> list[tuple[int, float]]:
        """Every ``(passage id, BM25 share)`` of one query word."""
        return self._pool.rows(f"SELECT rowid, -{BM25} FROM passages_fts WHERE passages_fts MATCH ?", [fts_query([word])])

    def _warm_lexical(self) -> None:
        """Score ahead of the queries the words that cost most on first use: every term held by
        ``WARM_FROM`` passages or more (rarer ones take well under a millisecond) and not pruned as
        common, those with the most postings first, while ``WORD_SCORES`` lasts. Runs beside a
        starting server (about 4 s of one core for the 25,000-passage Kremlin index)."""
        try:
            self._score_costly_words()
        except IndexDamaged:
            pass  # a damaged store: its server refuses to answer from it and says why (see damage())

    def _score_costly_words(self) -> None:
        cap = max(COMMON_TERM_FRACTION * self.passage_count, COSTLY_POSTINGS)
        rows = self._pool.rows(
            "SELECT term, doc FROM temp.vocab WHERE doc >= ? AND doc <= ? ORDER BY doc DESC, term", [WARM_FROM, cap]
        )
        held = 0
        for (term, count), stems in zip(rows, self._stemmer.stems([t for t, _ in rows])):
            if self._closing.is_set() or held + count > self._word_scores.budget:
                return
            if stems == [term]:  # a term that is also a word stemming to itself (nearly all)
                self._word_scores.get((term,), partial(self._word_postings, term))
                held += count

    @property
    def warming(self) -> bool:
        """Whether the lexical scores are still being prepared (see ``preload``)."""
        return self._warmer is not None and self._warmer.is_alive()

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
        if warm and self._warmer is None:
            self._warmer = threading.Thread(target=self._warm_lexical, name="fpsearch-warm", daemon=True)
            self._warmer.start()
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
            rows.extend(self._pool.rows(
                "SELECT passage, start, end, scale, vector, speaker FROM sentences "
                f"WHERE passage IN ({','.join('?' * len(part))}) ORDER BY passage, start",
                part,
            ))
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

    def metadata_fields(self) -> set[str]:
        """The metadata field names any document of this generation has (read once)."""
        if self._fields is None:
            rows = self._pool.rows("SELECT DISTINCT j.key FROM documents d, json_each(d.metadata) j")
            self._fields = {r[0] for r in rows}
        return self._fields

    @property
    def actors(self) -> dict[int, Actor]:
        """Every actor with sentences in this generation, by id, with their counts (read once)."""
        if self._actors is None:
            self._actors = {r[0]: Actor(*r) for r in self._pool.rows(actor_counts_sql())}
        return self._actors

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

    # -- writing -----------------------------------------------------------------------------

    @staticmethod
    @contextmanager
    def write(root: Path | str, settings: dict[str, Any], base: EmbeddedStore | None = None) -> Iterator[GenerationWriter]:
        """Write a new generation (starting from ``base``'s content, or empty) and publish it on success.

        The caller must hold ``writer_lock(root)``. If the block raises, nothing is published.
        """
        root = Path(root)
        tmp = root / f".tmp-{uuid.uuid4().hex[:12]}"
        tmp.mkdir(parents=True)
        try:
            writer = GenerationWriter(tmp, settings, base)
            yield writer
            writer.finish()
            _publish(root, tmp)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


def _publish(root: Path, tmp: Path) -> Path:
    live = current_generation(root)
    number = _gen_number(live) + 1 if live else 1
    gen = root / f"gen-{number:06d}"
    if gen.exists():
        shutil.rmtree(gen)
    os.rename(tmp, gen)
    try:
        _fsync_dir(root)
        _point(root, gen)
    except BaseException:
        shutil.rmtree(gen, ignore_errors=True)  # not published (CURRENT still names the live one)
        raise
    _fsync_dir(root)
    _remove_leftovers(root)
    return gen


def _point(root: Path, gen: Path) -> None:
    """Make ``gen`` the live generation: one atomic rename of ``CURRENT`` (fsync ``root`` after it)."""
    pointer = root / (CURRENT + ".tmp")
    try:
        with open(pointer, "w", encoding="utf-8") as fh:
            fh.write(gen.name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(pointer, root / CURRENT)
    finally:
        pointer.unlink(missing_ok=True)


class GenerationWriter:
    """Builds one generation in a private folder: SQLite rows, FTS5 entries and vectors together."""

    def __init__(self, folder: Path, settings: dict[str, Any], base: EmbeddedStore | None) -> None:
        self.folder = folder
        self.settings = settings
        self.created = base.manifest.get("created") if base else _now()
        if base is not None:
            shutil.copyfile(base.gen / DB, folder / DB)
            self.vectors = VectorIndex.read(base.gen / VECTORS, base.manifest.get("vectors"))
        else:
            self.vectors = VectorIndex.empty(int(settings["model"]["dimension"]))
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
        lo, hi = date_range(doc.date)
        cur = self.conn.execute(
            "INSERT INTO documents (doc_id, title, date, date_lo, date_hi, source, hash, metadata, text) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                doc.doc_id,
                doc.title,
                doc.date,
                lo,
                hi,
                doc.source,
                doc.hash,
                json.dumps(doc.metadata, ensure_ascii=False, default=str),
                doc.text,
            ),
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
        self.vectors.finalize(self.settings.get("ann", {}))
        self.vectors.write(self.folder / VECTORS)
        from .. import __version__

        manifest = {
            "format": "fpsearch-index",
            "format_version": FORMAT_VERSION,
            "created": self.created,
            "updated": _now(),
            "package_version": __version__,
            **self.settings,
            "counts": {"documents": documents, "passages": passages},
            "sources": sources,
            "vectors": self.vectors.describe(),
            "files": {},
        }
        for name in (DB, VECTORS):
            path = self.folder / name
            _fsync_file(path)
            manifest["files"][name] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
        with open(self.folder / MANIFEST, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(self.folder)
