"""Writing one change to a PostgreSQL index, in one transaction on the primary."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import numpy as np

from ...chunking import Passage
from ...documents import Document
from ..base import document_row
from ..manifest import Manifest, Recipe
from ..sentences import attributed_rows
from .reader import PostgresStore
from .schema import DOC_LEXEMES, SCHEMA_VERSION, TS_CONFIG

_WORD = re.compile(r"\w+")


class PostgresWriter:
    """One change, in one transaction on the primary."""

    def __init__(self, conn, recipe: Recipe, base: PostgresStore | None) -> None:
        self.conn = conn
        self.recipe = recipe
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
            f"UPDATE fp_lexemes l SET df = l.df - c.n FROM ({DOC_LEXEMES}) c WHERE l.lexeme = c.lexeme", [row[0]]
        )
        self.conn.execute("DELETE FROM fp_documents WHERE id = %s", [row[0]])
        self.removed += 1
        return True

    def add(
        self,
        doc: Document,
        passages: Sequence[Passage],
        vectors: np.ndarray,
        sentence_vectors: Sequence[np.ndarray] | None = None,
    ) -> None:
        self.remove(doc.doc_id)
        row = document_row(doc)
        row[-1] = doc.text.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL
        rowid = self.conn.execute(
            "INSERT INTO fp_documents (doc_id, title, date, date_lo, date_hi, source, hash, metadata, text, "
            "tsv_title, ntok_title) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, to_tsvector(%s, %s), %s) RETURNING id",
            [
                *row,
                TS_CONFIG,
                doc.title.replace("\x00", " "),
                len(_WORD.findall(doc.title)),
            ],
        ).fetchone()[0]
        if not passages:
            self.added += 1
            return
        ids = [
            r[0]
            for r in self.conn.execute(
                "SELECT nextval('fp_passage_ids') FROM generate_series(1, %s)", [len(passages)]
            ).fetchall()
        ]
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO fp_passages (id, doc, ordinal, start_at, end_at, ntok, tsv, embedding) "
                "VALUES (%s, %s, %s, %s, %s, %s, to_tsvector(%s, %s), %s)",
                [
                    (
                        pid,
                        rowid,
                        p.ordinal,
                        p.start,
                        p.end,
                        len(_WORD.findall(p.text)),
                        TS_CONFIG,
                        p.text.replace("\x00", " "),
                        np.asarray(v, dtype=np.float32),
                    )
                    for pid, p, v in zip(ids, passages, vectors)
                ],
            )
            turns, sentences = attributed_rows(doc, ids, passages, sentence_vectors, self._actor)
            cur.executemany("INSERT INTO fp_turns VALUES (%s, %s, %s, %s, %s, %s)", [(rowid, *t) for t in turns])
            cur.executemany(
                "INSERT INTO fp_sentences (passage, start_at, end_at, scale, vector, speaker) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                sentences,
            )
        self.conn.execute(
            f"INSERT INTO fp_lexemes (lexeme, df) SELECT lexeme, n FROM ({DOC_LEXEMES}) c "
            "ON CONFLICT (lexeme) DO UPDATE SET df = fp_lexemes.df + EXCLUDED.df",
            [rowid],
        )
        self.added += 1

    def _actor(self, name: str, kind: str) -> int:
        return int(
            self.conn.execute(
                "INSERT INTO fp_actors (name, kind) VALUES (%s, %s) ON CONFLICT (name, kind) "
                "DO UPDATE SET name = EXCLUDED.name RETURNING id",
                [name, kind],
            ).fetchone()[0]
        )

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
        manifest = Manifest.new(
            self.recipe,
            old.get("created"),
            docs,
            passages,
            sources,
            keep_ann=False,
            vectors={
                "type": "pgvector HNSW",
                "metric": "inner_product",
                "dimension": self.recipe.model.dimension,
                "schema": SCHEMA_VERSION,
            },
            lexical={"engine": f"tsvector ({TS_CONFIG}) with BM25", "avg_tokens": float(tokens)},
            change=int(old.get("change", 0)) + 1,
        )
        self.conn.execute(
            "INSERT INTO fp_meta VALUES ('manifest', %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [json.dumps(manifest)],
        )
