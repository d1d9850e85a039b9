"""Retrieval evaluation in the BEIR layout, with the metrics computed by ``pytrec_eval`` (trec_eval).

Documents are ranked by their best passage (a search with one passage per document). Reported:
nDCG@10 (trec_eval's ``ndcg_cut_10``, linear gains), Recall@10, Recall@100 (relevance ≥ 1) and MRR@10
(``recip_rank`` on the run cut at rank 10). A query with judgements but no results scores 0.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InvalidInput, SourceError

METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")


def load_queries(path: Path | str) -> dict[str, str]:
    """``{query id: text}`` from a BEIR ``queries.jsonl``."""
    path = Path(path)
    queries: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror})") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            queries[str(record["_id"])] = str(record["text"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"{path}:{n}: not a BEIR query line with _id and text ({exc})") from exc
    return queries


def load_qrels(path: Path | str) -> dict[str, dict[str, int]]:
    """``{query id: {doc id: grade}}`` from a BEIR qrels TSV (``query-id corpus-id score``, header)."""
    path = Path(path)
    qrels: dict[str, dict[str, int]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror})") from exc
    for n, line in enumerate(lines, 1):
        parts = line.split("\t") if "\t" in line else line.split()
        if not parts or not line.strip() or (n == 1 and not parts[-1].lstrip("-").isdigit()):
            continue  # blank line or header
        try:
            qid, doc, grade = parts[0], parts[-2], int(parts[-1])
        except (ValueError, IndexError) as exc:
            raise InvalidInput(f"{path}:{n}: expected 'query-id corpus-id score'") from exc
        qrels.setdefault(qid, {})[doc] = grade
    return qrels


@dataclass
class EvalResult:
    """Mean metrics over the judged queries, the same per query, and how the run was made."""

    metrics: dict[str, float]
    per_query: dict[str, dict[str, float]]
    settings: dict[str, Any] = field(default_factory=dict)
    queries: int = 0
    ms_per_query: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics,
            "queries": self.queries,
            "ms_per_query": round(self.ms_per_query, 2),
            "settings": self.settings,
            "per_query": self.per_query,
        }


def score_run(run: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]]) -> EvalResult:
    """Metrics for ranked document lists (best first) against graded judgements."""
    try:
        import pytrec_eval
    except ImportError as exc:
        raise InvalidInput("scoring needs pytrec_eval: pip install 'fpsearch[eval]'") from exc

    judged = {q: dict(d) for q, d in qrels.items() if any(g > 0 for g in d.values())}
    if not judged:
        raise InvalidInput("the qrels hold no relevant documents")

    def as_scores(docs: Sequence[str], cut: int | None = None) -> dict[str, float]:
        docs = list(dict.fromkeys(docs))[:cut]
        return {d: float(len(docs) - i) for i, d in enumerate(docs)}

    full = {q: as_scores(run.get(q, [])) for q in judged}
    top10 = {q: as_scores(run.get(q, []), 10) for q in judged}
    deep = pytrec_eval.RelevanceEvaluator(judged, {"ndcg_cut.10", "recall.10,100"}).evaluate(full)
    mrr = pytrec_eval.RelevanceEvaluator(judged, {"recip_rank"}).evaluate(top10)
    per_query = {}
    for q in judged:
        d, m = deep.get(q, {}), mrr.get(q, {})
        per_query[q] = {
            "ndcg@10": d.get("ndcg_cut_10", 0.0),
            "recall@10": d.get("recall_10", 0.0),
            "recall@100": d.get("recall_100", 0.0),
            "mrr@10": m.get("recip_rank", 0.0),
        }
    metrics = {name: round(statistics.fmean(p[name] for p in per_query.values()), 4) for name in METRICS}
    return EvalResult(metrics, per_query, queries=len(per_query))


def evaluate(
    engine,
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
    depth: int = 100,
    batch: int = 32,
    **options: Any,
) -> EvalResult:
    """Run every judged query through ``engine`` (documents ranked by best passage) and score it."""
    ids = [q for q in queries if q in qrels]
    if not ids:
        raise InvalidInput("no query in the queries file has judgements in the qrels file")
    options = {**options, "per_doc": 1}
    run: dict[str, list[str]] = {}
    started = time.perf_counter()
    for lo in range(0, len(ids), batch):
        part = ids[lo : lo + batch]
        results = engine.search_many([queries[q] for q in part], k=depth, **options)
        for q, hits in zip(part, results):
            run[q] = [h.doc_id for h in hits]
    elapsed = time.perf_counter() - started
    result = score_run(run, {q: qrels[q] for q in ids})
    result.ms_per_query = elapsed * 1000 / len(ids)
    result.settings = {"depth": depth, **{k: v for k, v in options.items() if k != "where"}}
    return result
