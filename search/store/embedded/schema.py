"""The SQLite schema of a generation, and the SQL a search filter becomes over it."""

from __future__ import annotations

from typing import Any

from ..base import Filter

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


def filter_sql(where: Filter) -> tuple[str, list[Any]]:
    """A ``WHERE`` clause over ``passages p JOIN documents d`` for ``where``, with its arguments."""
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
