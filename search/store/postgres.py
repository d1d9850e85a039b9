"""The PostgreSQL + pgvector store: one database shared by any number of servers and writers.

Tables (created and upgraded by numbered migrations, see ``MIGRATIONS``):

- ``fp_documents``: the same fields as the embedded store, with ``tsv_title`` (the title's tsvector);
- ``fp_passages``: spans, ``embedding vector(D)`` with an HNSW index (inner product), ``tsv`` (the
  passage's tsvector, GIN index) and ``ntok`` (its length in words, for BM25);
- ``fp_sentences``: int8 sentence vectors for best-sentence spans;
- ``fp_lexemes``: how many passages hold each lexeme (BM25's document frequencies);
- ``fp_meta``: the manifest and a change counter; ``fp_schema_migrations``: applied migrations.

A change (build, add, remove) is one transaction, so readers see the index before or after it, never
between; writers take an advisory lock, so there is one at a time. Dense search is pgvector's HNSW with
iterative scans (a filter never costs hits that exist); lexical search ranks the tsvector matches with
the same BM25 formula as SQLite FTS5's ``bm25()`` (k1 1.2, b 0.75, title weight 0.5).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..chunking import Passage
from ..documents import Document
from ..errors import DocumentNotFound, IndexBusy, IndexIncompatible, IndexMissing, InvalidInput, StoreUnavailable
from .base import (
    FORMAT_VERSION,
    Actor,
    ConnectionPool,
    Filter,
    PassageRecord,
    actor_counts_sql,
    date_range,
    new_manifest,
)
from .lexical import COMMON_TERM_FRACTION, COSTLY_POSTINGS, TITLE_WEIGHT, query_words
from .sentences import Scored, Sentences, attributed_rows, group_sentences, score_sentences, sentence_maxima

TS_CONFIG = "english"
K1, B = 1.2, 0.75
LOCK_KEY = 0x66707365  # "fpse"


def _m1(dim: int) -> str:
    return f"""
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE fp_meta (key text PRIMARY KEY, value jsonb NOT NULL);
CREATE TABLE fp_documents (
    id        bigserial PRIMARY KEY,
    doc_id    text NOT NULL UNIQUE,
    title     text NOT NULL,
    date      text,
    date_lo   text,
    date_hi   text,
    source    text NOT NULL,
    hash      text NOT NULL,
    metadata  jsonb NOT NULL,
    text      text NOT NULL,
    tsv_title tsvector NOT NULL,
    ntok_title integer NOT NULL
);
CREATE INDEX fp_documents_source ON fp_documents (source);
CREATE INDEX fp_documents_dates ON fp_documents (date_lo, date_hi);
CREATE TABLE fp_passages (
    id        bigint PRIMARY KEY,
    doc       bigint NOT NULL REFERENCES fp_documents (id) ON DELETE CASCADE,
    ordinal   integer NOT NULL,
    start_at  integer NOT NULL,
    end_at    integer NOT NULL,
    ntok      integer NOT NULL,
    tsv       tsvector NOT NULL,
    embedding vector({dim}) NOT NULL
);
CREATE INDEX fp_passages_doc ON fp_passages (doc);
CREATE INDEX fp_passages_tsv ON fp_passages USING gin (tsv);
CREATE INDEX fp_passages_hnsw ON fp_passages USING hnsw (embedding vector_ip_ops);
CREATE TABLE fp_sentences (
    passage  bigint NOT NULL REFERENCES fp_passages (id) ON DELETE CASCADE,
    start_at integer NOT NULL,
    end_at   integer NOT NULL,
    scale    real NOT NULL,
    vector   bytea NOT NULL
);
CREATE INDEX fp_sentences_passage ON fp_sentences (passage);
CREATE TABLE fp_lexemes (lexeme text PRIMARY KEY, df integer NOT NULL);
CREATE SEQUENCE fp_passage_ids;
"""


def _m2(dim: int) -> str:
    return "CREATE INDEX fp_documents_metadata ON fp_documents USING gin (metadata jsonb_path_ops);"


def _m3(dim: int) -> str:
    return """
CREATE TABLE fp_actors (
    id   bigserial PRIMARY KEY,
    name text NOT NULL,
    kind text NOT NULL,
    UNIQUE (name, kind)
);
CREATE TABLE fp_turns (
    doc      bigint NOT NULL REFERENCES fp_documents (id) ON DELETE CASCADE,
    start_at integer NOT NULL,
    body_at  integer NOT NULL,
    end_at   integer NOT NULL,
    label    text NOT NULL,
    actor    bigint NOT NULL REFERENCES fp_actors (id)
);
CREATE INDEX fp_turns_doc ON fp_turns (doc);
ALTER TABLE fp_sentences ADD COLUMN speaker bigint REFERENCES fp_actors (id);
CREATE INDEX fp_sentences_speaker ON fp_sentences (speaker) WHERE speaker IS NOT NULL;
"""


MIGRATIONS = [(1, _m1), (2, _m2), (3, _m3)]
SCHEMA_VERSION = MIGRATIONS[-1][0]

_WORD = re.compile(r"\w+")
# How many passages of one document hold each lexeme, in their text or their document's title (a
# passage row is both, as in the FTS5 index).
_DOC_LEXEMES = (
    "SELECT lexeme, count(*) AS n FROM fp_passages p JOIN fp_documents d ON d.id = p.doc, "
    "unnest(tsvector_to_array(p.tsv || d.tsv_title)) AS lexeme WHERE p.doc = %s GROUP BY lexeme"
)


def mask(url: str) -> str:
    """The URL without its password, for messages and manifests."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


# Nothing waits on a database without end: a connection is refused after CONNECT_SECONDS, a
# statement cancelled by the server after READ_SECONDS (a search) or WRITE_SECONDS (one statement of a
# change), and a peer that stops answering at the TCP level is dropped after about 30 s.
CONNECT_SECONDS = 10
IDLE_SECONDS = 10  # a pooled reader unused this long is tried (one round trip) before it is lent
READ_SECONDS = float(os.environ.get("FPSEARCH_PG_READ_SECONDS", "30"))
WRITE_SECONDS = float(os.environ.get("FPSEARCH_PG_WRITE_SECONDS", "600"))
_TCP = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
        "tcp_user_timeout": 30_000}


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _connect(url: str, autocommit: bool = True):
    try:
        import psycopg
        from pgvector.psycopg import register_vector
    except ImportError as exc:
        raise InvalidInput("the PostgreSQL store needs: pip install 'fpsearch[postgres]'") from exc
    timeout = int(1000 * (READ_SECONDS if autocommit else WRITE_SECONDS))
    try:
        conn = psycopg.connect(url, autocommit=autocommit, connect_timeout=CONNECT_SECONDS,
                               options=f"-c statement_timeout={timeout}", **_TCP)
    except psycopg.Error as exc:
        if "does not exist" in str(exc):
            raise IndexMissing(f"cannot connect to {mask(url)}: {_first_line(exc)}") from exc
        raise StoreUnavailable(
            f"cannot reach the database at {mask(url)} ({_first_line(exc)}): it is down or unreachable; "
            "reads can go to a replica, changes need the primary"
        ) from exc
    try:
        register_vector(conn)
    except psycopg.ProgrammingError:
        pass  # no vector type yet: a database that was never written to
    return conn


def _array(value) -> np.ndarray:
    """A pgvector value as a float32 array (pgvector returns ``Vector`` objects or arrays)."""
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    return np.asarray(value, dtype=np.float32)


def _schema_version(conn) -> int:
    row = conn.execute("SELECT to_regclass('fp_schema_migrations')").fetchone()
    if row[0] is None:
        return 0
    return int(conn.execute("SELECT coalesce(max(version), 0) FROM fp_schema_migrations").fetchone()[0])


class _Lost(StoreUnavailable):
    """A connection the database dropped: the read may be tried again on a fresh one."""


class _Readers(ConnectionPool):
    """Reader connections to one database that outlive the database's restarts: a connection the
    server dropped (a restart, a failover) is opened again when it is next lent, and a read it broke
    is tried again on a fresh one. A database that cannot be reached is ``StoreUnavailable``."""

    def __init__(self, url: str, readers: int) -> None:
        super().__init__([_connect(url) for _ in range(readers)])
        self._url = url
        # connections to try before lending: one of the others was lost, or they sat idle (the
        # database may have restarted meanwhile)
        self._suspect: set[int] = set()
        self._used: dict[int, float] = {id(c): time.monotonic() for c in self._all}

    @staticmethod
    def _alive(conn) -> bool:
        import psycopg

        try:
            conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    @contextmanager
    def lend(self) -> Iterator[Any]:
        import psycopg

        conn = self._free.get()
        try:
            unsure = id(conn) in self._suspect or time.monotonic() - self._used.get(id(conn), 0) > IDLE_SECONDS
            if conn.closed or conn.broken or (unsure and not self._alive(conn)):
                fresh = _connect(self._url)  # StoreUnavailable while the database is down
                self._replace(conn, fresh)
                conn = fresh
            self._suspect.discard(id(conn))
            self._used[id(conn)] = time.monotonic()
            try:
                yield conn
            except psycopg.errors.QueryCanceled as exc:
                raise StoreUnavailable(f"{mask(self._url)} did not answer within {READ_SECONDS:g} s "
                                       f"({_first_line(exc)})") from exc
            except psycopg.OperationalError as exc:
                if not conn.broken:
                    raise
                self._suspect = {id(c) for c in self._all}  # the others were likely dropped with it
                raise _Lost(f"lost the connection to {mask(self._url)} ({_first_line(exc)})") from exc
        finally:
            self._free.put(conn)

    def rows(self, sql: str, args: Any = ()) -> list[tuple]:
        # A read changes nothing, so one that a dropped connection broke is tried again: as often as
        # there are connections, each of which may have been dropped, and fresh ones are opened.
        for attempt in range(len(self._all) + 1):
            try:
                return super().rows(sql, args)
            except _Lost:
                if attempt == len(self._all):
                    raise
        raise AssertionError("unreachable")


class PostgresStore:
    """Reads from one database (a primary or a read replica); safe to share between threads."""

    def __init__(self, url: str, readers: int = 4) -> None:
        self.url = url
        self.location = mask(url)
        self._pool = _Readers(url, readers)
        with self._pool.lend() as conn:
            version = _schema_version(conn)
            if version == 0:
                raise IndexMissing(
                    f"no index in {self.location}; build one with `fpsearch index PATH --index {self.location}`"
                )
            if version != SCHEMA_VERSION:
                raise IndexIncompatible(
                    f"{self.location} has schema version {version}, this fpsearch uses {SCHEMA_VERSION}; "
                    "run `fpsearch add` (or index) against the primary to migrate it"
                )
            row = conn.execute("SELECT value FROM fp_meta WHERE key = 'manifest'").fetchone()
        if row is None:
            raise IndexMissing(f"no index in {self.location}; build one with `fpsearch index PATH --index ...`")
        self.manifest: dict[str, Any] = row[0]
        self.dimension = int(self.manifest["model"]["dimension"])
        self._actors: dict[int, Actor] | None = None
        self._fields: set[str] | None = None
        self._values: dict[str, dict[str, int]] = {}
        for conn in self._pool:
            conn.execute("SET hnsw.ef_search = 100")
            conn.execute("SET hnsw.iterative_scan = strict_order")

    @classmethod
    def open(cls, url: str, model: str | None = None) -> PostgresStore:
        store = cls(url)
        if store.manifest.get("format_version") != FORMAT_VERSION:
            store.close()
            raise IndexIncompatible(f"{store.location} has index format {store.manifest.get('format_version')}")
        built_with = store.manifest["model"]["name"]
        if model is not None and model != built_with:
            store.close()
            raise IndexIncompatible(
                f"{store.location} was built with model {built_with!r}, not {model!r}; query it without --model"
            )
        return store

    def close(self) -> None:
        self._pool.close()

    # -- serving: PostgreSQL keeps its own caches, a server prepares nothing ahead

    def preload(self) -> bool:
        return False

    @property
    def warming(self) -> bool:
        return False

    def stop_warming(self) -> None:
        pass

    # -- what is served ------------------------------------------------------------------------

    @property
    def version(self) -> str:
        return f"change-{self.manifest.get('change', 0)}"

    def is_stale(self) -> bool:
        row = self._pool.rows("SELECT value FROM fp_meta WHERE key = 'manifest'")
        return bool(row) and row[0][0].get("change") != self.manifest.get("change")

    def damage(self, full: bool = False) -> list[str]:
        return []  # no files of ours: the database server checks its own pages

    @property
    def passage_count(self) -> int:
        return int(self.manifest["counts"]["passages"])

    @property
    def document_count(self) -> int:
        return int(self.manifest["counts"]["documents"])

    def describe(self) -> dict[str, Any]:
        sizes = dict(self._pool.rows(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "WHERE c.relname IN ('fp_documents', 'fp_passages', 'fp_sentences', 'fp_lexemes')"
        ))
        replica = self._pool.rows("SELECT pg_is_in_recovery()")[0][0]
        return {"index": self.location, "generation": self.version, "replica": replica, "sizes": sizes}

    # -- searching -----------------------------------------------------------------------------

    def _filter_sql(self, where: Filter | None) -> tuple[str, list[Any]]:
        if where is None or where.empty:
            return "TRUE", []
        clauses, args = [], []
        if where.since:
            clauses.append("d.date_hi >= %s")
            args.append(where.since)
        if where.until:
            clauses.append("d.date_lo <= %s")
            args.append(where.until)
        if where.sources:
            clauses.append("d.source = ANY(%s)")
            args.append(list(where.sources))
        for name, values in where.where:
            # a scalar field equal to one of the values, or a list field holding one of them
            clauses.append(
                "((d.metadata ->> %s) = ANY(%s) OR (jsonb_typeof(d.metadata -> %s) = 'array' "
                "AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(d.metadata -> %s) e WHERE e = ANY(%s))))"
            )
            args.extend([name, list(values), name, name, list(values)])
        if where.speakers:
            clauses.append("p.id IN (SELECT passage FROM fp_sentences WHERE speaker = ANY(%s))")
            args.append(list(where.speakers))
        return " AND ".join(clauses), args

    def search_dense(
        self, vectors: np.ndarray, k: int, where: Filter | None = None, exact: bool = False
    ) -> list[list[tuple[int, float]]]:
        """Top ``k`` ``(passage id, cosine)`` per query vector (HNSW; ``exact`` scans every passage)."""
        fsql, fargs = self._filter_sql(where)
        join = "" if fsql == "TRUE" else "JOIN fp_documents d ON d.id = p.doc"
        out = []
        with self._pool.lend() as conn:
            for vec in np.atleast_2d(vectors):
                v = np.asarray(vec, dtype=np.float32)
                with conn.transaction():
                    if exact:
                        conn.execute("SET LOCAL enable_indexscan = off")
                    conn.execute(f"SET LOCAL hnsw.ef_search = {max(100, min(int(k), 1000))}")
                    rows = conn.execute(
                        f"SELECT p.id, -(p.embedding <#> %s) FROM fp_passages p {join} "
                        f"WHERE {fsql} ORDER BY p.embedding <#> %s LIMIT %s",
                        [v, *fargs, v, int(k)],
                    ).fetchall()
                out.append([(int(i), float(s)) for i, s in rows])
        return out

    def _lexemes(self, conn, words: list[str]) -> list[list[str]]:
        rows = conn.execute(
            "SELECT w.n, tsvector_to_array(to_tsvector(%s, w.word)) "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS w(word, n)",
            [TS_CONFIG, words],
        ).fetchall()
        out: list[list[str]] = [[] for _ in words]
        for n, lexemes in rows:
            out[int(n) - 1] = list(lexemes or [])
        return out

    def search_lexical_many(
        self, queries: Sequence[str], k: int, where: Filter | None = None
    ) -> list[list[tuple[int, float]]]:
        return [self.search_lexical(q, k, where) for q in queries]

    def search_lexical(self, query: str, k: int, where: Filter | None = None) -> list[tuple[int, float]]:
        """Top ``k`` ``(passage id, BM25)``: tsvector matches ranked with FTS5's BM25 formula."""
        words = list(dict.fromkeys(query_words(query)))
        if not words or k < 1:
            return []
        fsql, fargs = self._filter_sql(where)
        with self._pool.lend() as conn:
            stems = self._lexemes(conn, words)
            terms = sorted({t for ts in stems for t in ts})
            if not terms:
                return []
            df = dict(conn.execute("SELECT lexeme, df FROM fp_lexemes WHERE lexeme = ANY(%s)", [terms]).fetchall())
            total = self.passage_count
            kept = []
            for w, ts in zip(words, stems):
                n = max((df.get(t, 0) for t in ts), default=0)
                if n > 0:
                    kept.append((n, w, ts))
            if not kept:
                return []
            cheap = [x for x in kept if x[0] <= max(COMMON_TERM_FRACTION * total, COSTLY_POSTINGS)]
            kept = cheap or [min(kept)]
            lexemes = sorted({t for _, _, ts in kept for t in ts})
            tsquery = " | ".join(lexemes)
            rows = conn.execute(
                "SELECT p.id, p.ntok + d.ntok_title, "
                "  (SELECT array_agg(u.lexeme || ':' || coalesce(array_length(u.positions, 1), 1)) "
                "     FROM unnest(p.tsv) u WHERE u.lexeme = ANY(%s)), "
                "  (SELECT array_agg(u.lexeme || ':' || coalesce(array_length(u.positions, 1), 1)) "
                "     FROM unnest(d.tsv_title) u WHERE u.lexeme = ANY(%s)) "
                "FROM fp_passages p JOIN fp_documents d ON d.id = p.doc "
                f"WHERE (p.tsv @@ to_tsquery('simple', %s) OR d.tsv_title @@ to_tsquery('simple', %s)) AND {fsql}",
                [lexemes, lexemes, tsquery, tsquery, *fargs],
            ).fetchall()
            avgdl = float(self.manifest.get("lexical", {}).get("avg_tokens", 1.0)) or 1.0
        # idf and the phrase frequency per query word, exactly as FTS5's bm25(): a word's frequency in a
        # row is the weighted sum of its hits per column (title 0.5, text 1.0).
        idf = {}
        for n, w, _ in kept:
            idf[w] = max(1e-6, math.log((total - n + 0.5) / (n + 0.5)))
        scored = []
        for pid, length, text_tf, title_tf in rows:
            tf_text = dict(x.rsplit(":", 1) for x in text_tf or [])
            tf_title = dict(x.rsplit(":", 1) for x in title_tf or [])
            score = 0.0
            for _, w, ts in kept:
                f = sum(int(tf_text.get(t, 0)) + TITLE_WEIGHT * int(tf_title.get(t, 0)) for t in ts)
                if f:
                    score += idf[w] * f * (K1 + 1) / (f + K1 * (1 - B + B * length / avgdl))
            scored.append((int(pid), score))
        scored.sort(key=lambda x: (-x[1], x[0]))
        return scored[:k]

    # -- reading rows --------------------------------------------------------------------------

    def passage_docs(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        return dict(self._pool.rows(
            "SELECT p.id, d.doc_id FROM fp_passages p JOIN fp_documents d ON d.id = p.doc WHERE p.id = ANY(%s)",
            [list(map(int, ids))],
        ))

    def passages(self, ids: Sequence[int], text: bool = True, metadata: bool = True) -> dict[int, PassageRecord]:
        if not ids:
            return {}
        body = "substr(d.text, p.start_at + 1, p.end_at - p.start_at)" if text else "''"
        meta = "d.metadata" if metadata else "'{}'::jsonb"
        rows = self._pool.rows(
            f"SELECT p.id, d.doc_id, d.title, d.date, d.source, p.start_at, p.end_at, {body}, {meta} "
            "FROM fp_passages p JOIN fp_documents d ON d.id = p.doc WHERE p.id = ANY(%s)",
            [list(map(int, ids))],
        )
        return {r[0]: PassageRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]) for r in rows}

    def sentences(self, ids: Sequence[int]) -> dict[int, Sentences]:
        if not ids:
            return {}
        return group_sentences(self._pool.rows(
            "SELECT passage, start_at, end_at, scale, vector, speaker FROM fp_sentences WHERE passage = ANY(%s) "
            "ORDER BY passage, start_at",
            [list(map(int, ids))],
        ))

    def best_sentence_cosines(
        self, ids: Sequence[int], query: np.ndarray, speakers: Sequence[int] = ()
    ) -> dict[int, float]:
        return sentence_maxima(self.sentences(ids), query, speakers)

    def sentence_scores(self, ids: Sequence[int], query: np.ndarray) -> dict[int, Scored]:
        return score_sentences(self.sentences(ids), query)

    def metadata_values(self, field: str) -> dict[str, int]:
        """Documents per value of one metadata field (scalar values only; read once per field)."""
        if field not in self._values:
            rows = self._pool.rows(
                "SELECT metadata ->> %s, count(*) FROM fp_documents "
                "WHERE jsonb_typeof(metadata -> %s) IN ('string', 'number') GROUP BY 1",
                [field, field],
            )
            self._values[field] = {r[0]: int(r[1]) for r in rows}
        return self._values[field]

    def metadata_fields(self) -> set[str]:
        """The metadata field names any document has (read once per change)."""
        if self._fields is None:
            self._fields = {r[0] for r in self._pool.rows("SELECT DISTINCT jsonb_object_keys(metadata) FROM fp_documents")}
        return self._fields

    @property
    def actors(self) -> dict[int, Actor]:
        """Every actor with sentences in the index, by id, with their counts (read once per change)."""
        if self._actors is None:
            rows = self._pool.rows(actor_counts_sql("fp_"))
            self._actors = {int(r[0]): Actor(int(r[0]), r[1], r[2], int(r[3]), int(r[4]), int(r[5])) for r in rows}
        return self._actors

    def vectors_of(self, ids: Sequence[int]) -> np.ndarray:
        ids = [int(i) for i in ids]
        if not ids:
            return np.zeros((0, self.dimension), dtype=np.float32)
        found = dict(self._pool.rows("SELECT id, embedding FROM fp_passages WHERE id = ANY(%s)", [ids]))
        return np.stack([_array(found[i]) for i in ids])

    def document(self, doc_id: str) -> Document:
        rows = self._pool.rows(
            "SELECT doc_id, text, title, date, source, metadata, hash FROM fp_documents WHERE doc_id = %s", [doc_id]
        )
        if not rows:
            raise DocumentNotFound(f"no document {doc_id!r} in {self.location}")
        r = rows[0]
        return Document(r[0], r[1], r[2], r[3], r[4], r[5], r[6])

    def document_passages(self, doc_id: str) -> list[tuple[int, int, int]]:
        return [tuple(r) for r in self._pool.rows(
            "SELECT p.id, p.start_at, p.end_at FROM fp_passages p JOIN fp_documents d ON d.id = p.doc "
            "WHERE d.doc_id = %s ORDER BY p.ordinal",
            [doc_id],
        )]

    def document_hashes(self) -> dict[str, str]:
        return dict(self._pool.rows("SELECT doc_id, hash FROM fp_documents"))

    def iter_documents(self) -> Iterator[Document]:
        for r in self._pool.rows("SELECT doc_id, text, title, date, source, metadata, hash FROM fp_documents ORDER BY id"):
            yield Document(r[0], r[1], r[2], r[3], r[4], r[5], r[6])


class PostgresWriter:
    """One change, in one transaction on the primary."""

    def __init__(self, conn, settings: dict[str, Any], base: PostgresStore | None) -> None:
        self.conn = conn
        self.settings = settings
        self.added = self.removed = 0
        if base is None:
            # a fresh build replaces everything, still inside the one transaction
            conn.execute("DELETE FROM fp_documents")
            conn.execute("DELETE FROM fp_lexemes")

    def remove(self, doc_id: str) -> bool:
        row = self.conn.execute("SELECT id FROM fp_documents WHERE doc_id = %s", [doc_id]).fetchone()
        if row is None:
            return False
        self.conn.execute(
            f"UPDATE fp_lexemes l SET df = l.df - c.n FROM ({_DOC_LEXEMES}) c WHERE l.lexeme = c.lexeme", [row[0]]
        )
        self.conn.execute("DELETE FROM fp_documents WHERE id = %s", [row[0]])
        self.removed += 1
        return True

    def add(self, doc: Document, passages: Sequence[Passage], vectors: np.ndarray,
            sentence_vectors: Sequence[np.ndarray] | None = None) -> None:
        self.remove(doc.doc_id)
        lo, hi = date_range(doc.date)
        rowid = self.conn.execute(
            "INSERT INTO fp_documents (doc_id, title, date, date_lo, date_hi, source, hash, metadata, text, "
            "tsv_title, ntok_title) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, to_tsvector(%s, %s), %s) RETURNING id",
            [doc.doc_id, doc.title, doc.date, lo, hi, doc.source, doc.hash,
             json.dumps(doc.metadata, ensure_ascii=False, default=str), doc.text.replace("\x00", "\ufffd"),
             TS_CONFIG, doc.title.replace("\x00", " "), len(_WORD.findall(doc.title))],
        ).fetchone()[0]
        if not passages:
            self.added += 1
            return
        ids = [r[0] for r in self.conn.execute(
            "SELECT nextval('fp_passage_ids') FROM generate_series(1, %s)", [len(passages)]
        ).fetchall()]
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO fp_passages (id, doc, ordinal, start_at, end_at, ntok, tsv, embedding) "
                "VALUES (%s, %s, %s, %s, %s, %s, to_tsvector(%s, %s), %s)",
                [(pid, rowid, p.ordinal, p.start, p.end, len(_WORD.findall(p.text)), TS_CONFIG,
                  p.text.replace("\x00", " "), np.asarray(v, dtype=np.float32))
                 for pid, p, v in zip(ids, passages, vectors)],
            )
            turns, sentences = attributed_rows(doc, ids, passages, sentence_vectors, self._actor)
            cur.executemany("INSERT INTO fp_turns VALUES (%s, %s, %s, %s, %s, %s)", [(rowid, *t) for t in turns])
            cur.executemany(
                "INSERT INTO fp_sentences (passage, start_at, end_at, scale, vector, speaker) "
                "VALUES (%s, %s, %s, %s, %s, %s)", sentences
            )
        self.conn.execute(
            f"INSERT INTO fp_lexemes (lexeme, df) SELECT lexeme, n FROM ({_DOC_LEXEMES}) c "
            "ON CONFLICT (lexeme) DO UPDATE SET df = fp_lexemes.df + EXCLUDED.df",
            [rowid],
        )
        self.added += 1

    def _actor(self, name: str, kind: str) -> int:
        return int(self.conn.execute(
            "INSERT INTO fp_actors (name, kind) VALUES (%s, %s) ON CONFLICT (name, kind) "
            "DO UPDATE SET name = EXCLUDED.name RETURNING id",
            [name, kind],
        ).fetchone()[0])

    def finish(self) -> None:
        docs, passages = self.conn.execute(
            "SELECT (SELECT count(*) FROM fp_documents), (SELECT count(*) FROM fp_passages)"
        ).fetchone()
        tokens = self.conn.execute(
            "SELECT coalesce(avg(p.ntok + d.ntok_title), 1) FROM fp_passages p JOIN fp_documents d ON d.id = p.doc"
        ).fetchone()[0]
        sources = dict(self.conn.execute("SELECT source, count(*) FROM fp_documents GROUP BY source").fetchall())
        self.conn.execute("DELETE FROM fp_lexemes WHERE df <= 0")
        old = self.conn.execute("SELECT value FROM fp_meta WHERE key = 'manifest'").fetchone()
        old = old[0] if old else {}
        settings = {k: v for k, v in self.settings.items() if k != "ann"}
        manifest = new_manifest(
            settings, old.get("created"), docs, passages, sources,
            vectors={"type": "pgvector HNSW", "metric": "inner_product",
                     "dimension": int(self.settings["model"]["dimension"]), "schema": SCHEMA_VERSION},
            lexical={"engine": f"tsvector ({TS_CONFIG}) with BM25", "avg_tokens": float(tokens)},
            change=int(old.get("change", 0)) + 1,
        )
        self.conn.execute(
            "INSERT INTO fp_meta VALUES ('manifest', %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [json.dumps(manifest)],
        )


class PostgresTarget:
    """An index in a PostgreSQL database with pgvector."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.location = mask(url)

    def exists(self) -> bool:
        conn = _connect(self.url)
        try:
            if _schema_version(conn) == 0:
                return False
            return conn.execute("SELECT 1 FROM fp_meta WHERE key = 'manifest'").fetchone() is not None
        finally:
            conn.close()

    def open(self, model: str | None = None) -> PostgresStore:
        return PostgresStore.open(self.url, model)

    @contextmanager
    def lock(self):
        conn = _connect(self.url)
        try:
            if conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                raise InvalidInput(f"{self.location} is a read replica; write to the primary")
            if not conn.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()[0]:
                raise IndexBusy(f"{self.location} is being changed by another writer; try again when it finishes")
            try:
                yield
            finally:
                if not conn.broken:  # a lost connection took its session's lock with it
                    conn.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        finally:
            conn.close()

    def _migrate(self, conn, dim: int) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS fp_schema_migrations (version integer PRIMARY KEY, "
                     "applied_at timestamptz NOT NULL DEFAULT now())")
        current = _schema_version(conn)
        for version, sql in MIGRATIONS:
            if version > current:
                conn.execute(sql(dim))
                conn.execute("INSERT INTO fp_schema_migrations (version) VALUES (%s)", [version])

    @contextmanager
    def write(self, settings: dict[str, Any], base: PostgresStore | None):
        import psycopg

        dim = int(settings["model"]["dimension"])
        conn = _connect(self.url, autocommit=False)
        try:
            with conn.transaction():
                self._migrate(conn, dim)
            from pgvector.psycopg import register_vector

            register_vector(conn)
            with conn.transaction():
                column = conn.execute(
                    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = 'fp_passages'::regclass AND attname = 'embedding'"
                ).fetchone()[0]
                if column != f"vector({dim})" and base is None:
                    # a rebuild with a model of another size: the column changes with it
                    conn.execute("DROP INDEX IF EXISTS fp_passages_hnsw")
                    conn.execute("DELETE FROM fp_documents")
                    conn.execute(f"ALTER TABLE fp_passages ALTER COLUMN embedding TYPE vector({dim})")
                    conn.execute("CREATE INDEX fp_passages_hnsw ON fp_passages USING hnsw (embedding vector_ip_ops)")
                elif column != f"vector({dim})":
                    raise IndexIncompatible(f"{self.location} holds {column} vectors, the model gives {dim}")
                writer = PostgresWriter(conn, settings, base)
                yield writer
                writer.finish()
        except psycopg.OperationalError as exc:
            if not conn.broken and not isinstance(exc, psycopg.errors.QueryCanceled):
                raise
            raise StoreUnavailable(
                f"lost {self.location} while writing ({_first_line(exc)}): nothing was changed (a change is "
                "one transaction); run it again when the primary answers"
            ) from exc
        finally:
            conn.close()

    def checkpoints(self) -> Path:
        from ..mpnet import cache_dir

        key = hashlib.sha256(self.location.encode()).hexdigest()[:16]
        return cache_dir().parent / "build" / key

    def repair(self) -> str:
        return f"rebuild with `fpsearch index PATH --index {self.location}`"

    def rollback(self) -> tuple[str, str]:
        raise InvalidInput("rollback works on index folders: a PostgreSQL index keeps no previous generation")

    def check(self, full: bool = True) -> tuple[list[str], list[str]]:
        facts: list[str] = []
        problems: list[str] = []
        try:
            store = PostgresStore.open(self.url)
        except (IndexMissing, IndexIncompatible) as exc:
            return facts, [str(exc)]
        try:
            counts = store.manifest["counts"]
            docs, passages, orphans, bad, sentences = store._pool.rows(
                "SELECT (SELECT count(*) FROM fp_documents), (SELECT count(*) FROM fp_passages), "
                "(SELECT count(*) FROM fp_sentences s LEFT JOIN fp_passages p ON p.id = s.passage WHERE p.id IS NULL), "
                "(SELECT count(*) FROM fp_passages p JOIN fp_documents d ON d.id = p.doc "
                "   WHERE p.start_at < 0 OR p.end_at <= p.start_at OR p.end_at > length(d.text)), "
                "(SELECT count(*) FROM fp_sentences)"
            )[0]
            facts.append(f"{store.location}: schema {SCHEMA_VERSION}, {store.version}")
            if docs != counts["documents"] or passages != counts["passages"]:
                problems.append(f"{docs} documents and {passages} passages in the tables; the manifest says "
                                f"{counts['documents']} and {counts['passages']}")
            if orphans:
                problems.append(f"{orphans} sentence rows belong to no passage")
            if bad:
                problems.append(f"{bad} passages point outside their document")
            if full:
                wrong = store._pool.rows(
                    "SELECT count(*) FROM (SELECT lexeme, count(*) AS n FROM fp_passages p "
                    "JOIN fp_documents d ON d.id = p.doc, unnest(tsvector_to_array(p.tsv || d.tsv_title)) AS lexeme "
                    "GROUP BY lexeme) c FULL JOIN fp_lexemes l USING (lexeme) WHERE c.n IS DISTINCT FROM l.df"
                )[0][0]
                if wrong:
                    problems.append(f"{wrong} lexemes have wrong document frequencies")
            if not problems:
                facts.append(f"{docs:,} documents, {passages:,} passages, {sentences:,} sentences, consistent")
        finally:
            store.close()
        return facts, problems
