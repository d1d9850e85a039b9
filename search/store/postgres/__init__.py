"""The PostgreSQL + pgvector store: one database shared by any number of servers and writers.

Tables (created and upgraded by numbered migrations, ``schema.MIGRATIONS``):

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

Modules: ``schema`` (migrations), ``connection`` (timeouts, readers that reconnect), ``reader``
(``PostgresStore``), ``writer`` (one change); the target below opens, locks, writes and checks.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from pathlib import Path

from ...config import cache_dir
from ...errors import IndexBusy, IndexIncompatible, IndexMissing, InvalidInput, StoreUnavailable
from ..manifest import Recipe
from .connection import connect, first_line, mask
from .reader import PostgresStore
from .schema import SCHEMA_VERSION, migrate, schema_version
from .writer import PostgresWriter

__all__ = ["PostgresStore", "PostgresTarget", "PostgresWriter", "mask"]

LOCK_KEY = 0x66707365  # "fpse": the advisory lock a writer holds


class PostgresTarget:
    """An index in a PostgreSQL database with pgvector."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.location = mask(url)

    def exists(self) -> bool:
        conn = connect(self.url)
        try:
            if schema_version(conn) == 0:
                return False
            return conn.execute("SELECT 1 FROM fp_meta WHERE key = 'manifest'").fetchone() is not None
        finally:
            conn.close()

    def open(self, model: str | None = None) -> PostgresStore:
        return PostgresStore.open(self.url, model)

    @contextmanager
    def lock(self):
        conn = connect(self.url)
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

    @contextmanager
    def write(self, recipe: Recipe, base: PostgresStore | None):
        import psycopg

        dim = recipe.model.dimension
        conn = connect(self.url, autocommit=False)
        try:
            with conn.transaction():
                migrate(conn, dim)
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
                writer = PostgresWriter(conn, recipe, base)
                yield writer
                writer.finish()
        except psycopg.OperationalError as exc:
            if not conn.broken and not isinstance(exc, psycopg.errors.QueryCanceled):
                raise
            raise StoreUnavailable(
                f"lost {self.location} while writing ({first_line(exc)}): nothing was changed (a change is "
                "one transaction); run it again when the primary answers"
            ) from exc
        finally:
            conn.close()

    def checkpoints(self) -> Path:
        key = hashlib.sha256(self.location.encode()).hexdigest()[:16]
        return cache_dir() / "build" / key

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
                problems.append(
                    f"{docs} documents and {passages} passages in the tables; the manifest says "
                    f"{counts['documents']} and {counts['passages']}"
                )
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
