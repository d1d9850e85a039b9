"""Reading a PostgreSQL index (a primary or a read replica): vectors, BM25 over tsvectors, rows."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ...documents import Document
from ...errors import DocumentNotFound, IndexIncompatible, IndexMissing
from ..base import (
    Actor,
    Filter,
    PassageRecord,
    actor_counts_sql,
    askers_among,
    one_name_each,
    pairs_of,
    turn_texts_sql,
)
from ..lexical import COMMON_TERM_FRACTION, TITLE_WEIGHT, query_words, select_words
from ..manifest import FORMAT_VERSION, Manifest
from ..sentences import Scored, Sentences, group_sentences, score_sentences, sentence_maxima
from .connection import Readers, as_array, mask
from .schema import SCHEMA_VERSION, TS_CONFIG, schema_version

K1, B = 1.2, 0.75  # BM25's, as FTS5's bm25() has them


class PostgresStore:
    """Reads from one database (a primary or a read replica); safe to share between threads."""

    def __init__(self, url: str, readers: int = 4) -> None:
        self.url = url
        self.location = mask(url)
        self._pool = Readers(url, readers)
        with self._pool.lend() as conn:
            version = schema_version(conn)
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
        self.manifest = Manifest.parse(row[0], f"the manifest of {self.location}")
        self.dimension = self.manifest.model.dimension
        self._actors: dict[int, Actor] | None = None
        self._askers: frozenset[int] | None = None
        self._fields: set[str] | None = None
        self._values: dict[str, dict[str, int]] = {}
        self._pairs: dict[tuple[str, str], dict[str, set[str]]] = {}
        for conn in self._pool:
            conn.execute("SET hnsw.ef_search = 100")
            conn.execute("SET hnsw.iterative_scan = strict_order")

    @classmethod
    def open(cls, url: str, model: str | None = None) -> PostgresStore:
        store = cls(url)
        if store.manifest.format_version != FORMAT_VERSION:
            store.close()
            raise IndexIncompatible(f"{store.location} has index format {store.manifest.format_version}")
        built_with = store.manifest.model.name
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
        return self.manifest.passages

    @property
    def document_count(self) -> int:
        return self.manifest.documents

    def describe(self) -> dict[str, Any]:
        sizes = dict(
            self._pool.rows(
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                "WHERE c.relname IN ('fp_documents', 'fp_passages', 'fp_sentences', 'fp_lexemes')"
            )
        )
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
            chosen = select_words(words, stems, df, total, COMMON_TERM_FRACTION)
            if not chosen:
                return []
            stems_of = dict(zip(words, stems))
            kept = [(max(df.get(t, 0) for t in stems_of[w]), w, stems_of[w]) for w in chosen]
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
        return dict(
            self._pool.rows(
                "SELECT p.id, d.doc_id FROM fp_passages p JOIN fp_documents d ON d.id = p.doc WHERE p.id = ANY(%s)",
                [list(map(int, ids))],
            )
        )

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
        return group_sentences(
            self._pool.rows(
                "SELECT passage, start_at, end_at, scale, vector, speaker FROM fp_sentences WHERE passage = ANY(%s) "
                "ORDER BY passage, start_at",
                [list(map(int, ids))],
            )
        )

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

    def metadata_pairs(self, field: str, other: str) -> dict[str, set[str]]:
        """Each (scalar) value of ``field``, and the values of ``other`` its documents hold (read once)."""
        if (field, other) not in self._pairs:
            rows = self._pool.rows(
                "SELECT DISTINCT metadata ->> %s, metadata ->> %s FROM fp_documents "
                "WHERE jsonb_typeof(metadata -> %s) IN ('string', 'number') "
                "AND jsonb_typeof(metadata -> %s) IN ('string', 'number')",
                [field, other, field, other],
            )
            self._pairs[(field, other)] = pairs_of(rows)
        return self._pairs[(field, other)]

    def metadata_fields(self) -> set[str]:
        """The metadata field names any document has (read once per change)."""
        if self._fields is None:
            self._fields = {
                r[0] for r in self._pool.rows("SELECT DISTINCT jsonb_object_keys(metadata) FROM fp_documents")
            }
        return self._fields

    @property
    def actors(self) -> dict[int, Actor]:
        """Every actor with sentences in the index, by id, with their counts, the spellings of one name under
        one (``one_name_each``; read once per change)."""
        if self._actors is None:
            rows = self._pool.rows(actor_counts_sql("fp_"))
            self._actors = one_name_each(Actor(int(r[0]), r[1], r[2], int(r[3]), int(r[4]), int(r[5])) for r in rows)
        return self._actors

    def askers(self) -> frozenset[int]:
        """The actors who ask more than they answer (read once per change)."""
        if self._askers is None:
            rows = self._pool.rows(turn_texts_sql("fp_", "body_at", "end_at"))
            self._askers = askers_among(self.actors, rows)
        return self._askers

    def vectors_of(self, ids: Sequence[int]) -> np.ndarray:
        ids = [int(i) for i in ids]
        if not ids:
            return np.zeros((0, self.dimension), dtype=np.float32)
        found = dict(self._pool.rows("SELECT id, embedding FROM fp_passages WHERE id = ANY(%s)", [ids]))
        return np.stack([as_array(found[i]) for i in ids])

    def document(self, doc_id: str) -> Document:
        rows = self._pool.rows(
            "SELECT doc_id, text, title, date, source, metadata, hash FROM fp_documents WHERE doc_id = %s", [doc_id]
        )
        if not rows:
            raise DocumentNotFound(f"no document {doc_id!r} in {self.location}")
        r = rows[0]
        return Document(r[0], r[1], r[2], r[3], r[4], r[5], r[6])

    def document_passages(self, doc_id: str) -> list[tuple[int, int, int]]:
        return [
            tuple(r)
            for r in self._pool.rows(
                "SELECT p.id, p.start_at, p.end_at FROM fp_passages p JOIN fp_documents d ON d.id = p.doc "
                "WHERE d.doc_id = %s ORDER BY p.ordinal",
                [doc_id],
            )
        ]

    def document_hashes(self) -> dict[str, str]:
        return dict(self._pool.rows("SELECT doc_id, hash FROM fp_documents"))

    def iter_documents(self) -> Iterator[Document]:
        for r in self._pool.rows(
            "SELECT doc_id, text, title, date, source, metadata, hash FROM fp_documents ORDER BY id"
        ):
            yield Document(r[0], r[1], r[2], r[3], r[4], r[5], r[6])
