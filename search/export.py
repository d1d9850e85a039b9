"""Hits and positions as table rows, for analysts who paste results into a spreadsheet.

One row per hit (``query``) or per quote (``positions``), with the span that lets every row be checked
against its document, the speaker and the score. CSV is RFC 4180 as Python's ``csv`` writes it: a
header row, fields quoted where they hold commas, quotes or line breaks.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import IO, Any

HIT_COLUMNS = (
    "query",
    "rank",
    "score",
    "cosine",
    "match",
    "doc_id",
    "title",
    "date",
    "source",
    "start",
    "end",
    "sentence_start",
    "sentence_end",
    "speaker",
    "speaker_kind",
    "sentence",
    "text",
)
POSITION_COLUMNS = (
    "topic",
    "by",
    "rank",
    "actor",
    "score",
    "documents",
    "passages",
    "first_date",
    "last_date",
    "party",
    "quote",
    "doc_id",
    "title",
    "date",
    "start",
    "end",
    "sentence_start",
    "sentence_end",
    "speaker",
    "speaker_kind",
    "quote_score",
    "sentence",
)


def hit_rows(query: str, hits: Iterable[Any]) -> Iterable[dict[str, Any]]:
    for hit in hits:
        yield {
            "query": query,
            "rank": hit.rank,
            "score": round(hit.score, 6),
            "cosine": None if hit.cosine is None else round(hit.cosine, 6),
            "match": hit.match,
            "doc_id": hit.doc_id,
            "title": hit.title,
            "date": hit.date,
            "source": hit.source,
            "start": hit.start,
            "end": hit.end,
            "sentence_start": hit.sentence_start,
            "sentence_end": hit.sentence_end,
            "speaker": hit.speaker,
            "speaker_kind": hit.speaker_kind,
            "sentence": hit.sentence,
            "text": hit.text,
        }


def position_rows(topic: str, by: str, positions: Iterable[Any]) -> Iterable[dict[str, Any]]:
    """One row per quote; an actor without quotes (``quotes=0``) still gets one row."""
    for rank, p in enumerate(positions, 1):
        actor = {
            "topic": topic,
            "by": by,
            "rank": rank,
            "actor": p.actor,
            "score": round(p.score, 6),
            "documents": p.documents,
            "passages": p.passages,
            "first_date": p.first_date,
            "last_date": p.last_date,
            "party": p.party,
        }
        if not p.quotes:
            yield actor
        for number, q in enumerate(p.quotes, 1):
            yield {
                **actor,
                "quote": number,
                "doc_id": q.doc_id,
                "title": q.title,
                "date": q.date,
                "start": q.start,
                "end": q.end,
                "sentence_start": q.sentence_start,
                "sentence_end": q.sentence_end,
                "speaker": q.speaker,
                "speaker_kind": q.speaker_kind,
                "quote_score": round(q.score, 6),
                "sentence": q.sentence,
            }


def write_csv(out: IO[str], columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> int:
    """Write a header and ``rows`` (missing fields and None as empty cells); returns the row count."""
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
        count += 1
    return count
