"""Passage-level evaluation against evidence quotes (``evidence.jsonl``: query-id, corpus-id, quote).

A quote is an exact substring of a relevant document. ``hit@k`` for a query is 1 when one of its first
``k`` hits is a passage of that document whose span contains the whole quote. For the hits that do
contain a quote, ``sentence_overlap`` says how often the highlighted best sentence overlaps it.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InvalidInput, SourceError


@dataclass(frozen=True)
class Evidence:
    query_id: str
    doc_id: str
    quote: str


def load_evidence(path: Path | str) -> list[Evidence]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror})") from exc
    out = []
    for n, line in enumerate(lines, 1):
        if line.strip():
            try:
                r = json.loads(line)
                out.append(Evidence(str(r["query-id"]), str(r["corpus-id"]), r["quote"]))
            except (ValueError, KeyError) as exc:
                raise InvalidInput(f"{path}:{n}: expected query-id, corpus-id and quote") from exc
    return out


@dataclass
class EvidenceResult:
    hit_at: dict[int, float]
    sentence_overlap: float
    per_query: dict[str, dict[str, Any]] = field(default_factory=dict)

    def by_group(self, groups: Mapping[str, str]) -> dict[str, dict[int, float]]:
        """Mean hit@k per group (e.g. query type)."""
        out: dict[str, dict[int, float]] = {}
        for name in sorted(set(groups.values())):
            qs = [q for q in self.per_query if groups.get(q) == name]
            if qs:
                out[name] = {
                    k: round(statistics.fmean(self.per_query[q]["hit"][k] for q in qs), 4) for k in self.hit_at
                }
        return out


def evidence_hits(
    engine, queries: Mapping[str, str], evidence: Sequence[Evidence], ks: Sequence[int] = (1, 5, 10), **options: Any
) -> EvidenceResult:
    """Search every query with evidence and check which of its first hits contain a quote."""
    by_query: dict[str, list[Evidence]] = {}
    for ev in evidence:
        if ev.query_id in queries:
            by_query.setdefault(ev.query_id, []).append(ev)
    if not by_query:
        raise InvalidInput("no evidence belongs to the given queries")
    where: dict[tuple[str, str], tuple[int, int]] = {}
    for evs in by_query.values():
        for ev in evs:
            text = engine.document(ev.doc_id).text
            at = text.find(ev.quote)
            if at < 0:
                raise InvalidInput(f"quote for {ev.query_id} is not in {ev.doc_id}")
            where[(ev.query_id, ev.doc_id)] = (at, at + len(ev.quote))
    ids = list(by_query)
    results = engine.search_many([queries[q] for q in ids], k=max(ks), **options)
    per_query: dict[str, dict[str, Any]] = {}
    overlaps = []
    for q, hits in zip(ids, results):
        first = None
        for rank, hit in enumerate(hits, 1):
            span = where.get((q, hit.doc_id))
            if span and hit.start <= span[0] and span[1] <= hit.end:
                overlaps.append(hit.sentence_start < span[1] and span[0] < hit.sentence_end)
                first = first or rank
        per_query[q] = {"first": first, "hit": {k: int(first is not None and first <= k) for k in ks}}
    hit_at = {k: round(statistics.fmean(p["hit"][k] for p in per_query.values()), 4) for k in ks}
    overlap = round(statistics.fmean(overlaps), 4) if overlaps else 0.0
    return EvidenceResult(hit_at, overlap, per_query)
