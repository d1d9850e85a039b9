"""The PostgreSQL schema, created and upgraded by numbered migrations, and its text-search settings."""

from __future__ import annotations

TS_CONFIG = "english"


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

# How many passages of one document hold each lexeme, in their text or their document's title (a
# passage row is both, as in the FTS5 index).
DOC_LEXEMES = (
    "SELECT lexeme, count(*) AS n FROM fp_passages p JOIN fp_documents d ON d.id = p.doc, "
    "unnest(tsvector_to_array(p.tsv || d.tsv_title)) AS lexeme WHERE p.doc = %s GROUP BY lexeme"
)


def schema_version(conn) -> int:
    row = conn.execute("SELECT to_regclass('fp_schema_migrations')").fetchone()
    if row[0] is None:
        return 0
    return int(conn.execute("SELECT coalesce(max(version), 0) FROM fp_schema_migrations").fetchone()[0])


def migrate(conn, dim: int) -> None:
    """Bring the schema up to ``SCHEMA_VERSION`` (inside the caller's transaction)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS fp_schema_migrations (version integer PRIMARY KEY, "
        "applied_at timestamptz NOT NULL DEFAULT now())"
    )
    current = schema_version(conn)
    for version, sql in MIGRATIONS:
        if version > current:
            conn.execute(sql(dim))
            conn.execute("INSERT INTO fp_schema_migrations (version) VALUES (%s)", [version])
