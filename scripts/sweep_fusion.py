"""Compare ways of fusing the dense and BM25 lists on every evaluation set we have, and on a tiny corpus.

    python scripts/sweep_fusion.py [--kremlin-index DIR] [--scifact-index DIR] [--judged-index DIR]

Each variant is the default hybrid pipeline with only the fusion changed: reciprocal-rank fusion,
weighted fusion with min-max normalisation over the whole candidate lists (the anchor is the last
candidate), and weighted fusion anchored at rank 10/20/30/50 (``retrieval.FUSION_ANCHOR``), at dense
weights 0.4/0.5/0.6. Columns: Kremlin dev nDCG@10 and evidence-span hit@5 (per query type too), the same
on the index of the dev set's judged documents (``scripts/sweep_chunking.py --configs 200:1:0`` builds
it; optional), SciFact nDCG@10, and the tiny-corpus check: on the test suite's seed sample (the seed
article and the six seed Kremlin documents that mention the Kurils most, 50 passages, built here on
first use), how many of the first three hits for "Kuril Islands position" mention the Kurils, and
whether the first does (the product's tests ask for 2 and yes).

Candidate lists and query vectors are computed once per query; every variant reuses them (the engines
remember no result lists: ``Engine.open`` keeps none by default).
"""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path

from harness import KREMLIN_DEV, ROOT, SHARED, seed_sample

from search import Engine, build, retrieval
from search.evaluation import evaluate, load_qrels, load_queries
from search.evidence import evidence_hits, load_evidence
from search.store import index_exists

DEV = KREMLIN_DEV
SCIFACT = SHARED / "beir" / "scifact"
TINY_QUERY = "Kuril Islands position"
WHOLE_LIST = 10**9


def remember_candidates(engine: Engine) -> Engine:
    """Let the engine compute each candidate list once: the variants only fuse them again."""
    dense, lexical = engine.store.search_dense, engine.store.search_lexical_many
    seen: dict = {}

    def search_dense(vectors, k, where=None, exact=False):
        key = ("d", vectors.tobytes(), k, repr(where), exact)
        if key not in seen:
            seen[key] = dense(vectors, k, where, exact)
        return seen[key]

    def search_lexical_many(queries, k, where=None):
        key = ("l", tuple(queries), k, repr(where))
        if key not in seen:
            seen[key] = lexical(queries, k, where)
        return seen[key]

    engine.store.search_dense, engine.store.search_lexical_many = search_dense, search_lexical_many
    return engine


def tiny_index(cache: Path) -> Path:
    index = cache / "index"
    if not index_exists(index):
        cache.mkdir(parents=True, exist_ok=True)
        build([seed_sample(cache)], index)
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kremlin-index", type=Path, default=Path.home() / "kremlin-index")
    parser.add_argument("--scifact-index", type=Path, default=Path.home() / "scifact-index")
    parser.add_argument("--judged-index", type=Path, default=None)
    parser.add_argument("--tiny-cache", type=Path, default=ROOT / "build" / "fusion-tiny")
    parser.add_argument("--json", type=Path, default=ROOT / "build" / "fusion.json")
    args = parser.parse_args()

    kremlin = remember_candidates(Engine.open(args.kremlin_index))
    scifact = remember_candidates(Engine.open(args.scifact_index))
    judged = remember_candidates(Engine.open(args.judged_index)) if args.judged_index else None
    tiny = remember_candidates(Engine.open(tiny_index(args.tiny_cache)))
    kq, kr = load_queries(DEV / "queries.jsonl"), load_qrels(DEV / "qrels" / "test.tsv")
    evidence = load_evidence(DEV / "evidence.jsonl")
    types = {q: v["type"] for q, v in json.loads((DEV / "method" / "pools.json").read_text()).items()}
    sq, sr = load_queries(SCIFACT / "queries.jsonl"), load_qrels(SCIFACT / "qrels" / "test.tsv")

    variants = [("rrf", "rrf", 0.5, 0)]
    for weight in (0.4, 0.5, 0.6):
        variants.append((f"weighted {weight}, min-max", "weighted", weight, WHOLE_LIST))
        for anchor in (10, 20, 30, 50):
            variants.append((f"weighted {weight}, anchor {anchor}", "weighted", weight, anchor))

    fuse = retrieval.fuse
    rows = []
    print(
        "| fusion | Kremlin nDCG@10 | evidence hit@5 (K/Q/P) | judged-docs nDCG@10 | judged-docs hit@5 "
        "| SciFact nDCG@10 | tiny: Kuril in first 3 / first |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, method, weight, anchor in variants:
        retrieval.fuse = partial(fuse, anchor=anchor) if method == "weighted" else fuse
        opts = {"mode": "hybrid", "fusion": method, "weight": weight}
        row = {"fusion": name, "kremlin": evaluate(kremlin, kq, kr, **opts).metrics["ndcg@10"]}
        ev = evidence_hits(kremlin, kq, evidence, **opts)
        row["evidence@5"], row["evidence@5 by type"] = ev.hit_at[5], {t: g[5] for t, g in ev.by_group(types).items()}
        if judged is not None:
            row["judged"] = evaluate(judged, kq, kr, **opts).metrics["ndcg@10"]
            row["judged evidence@5"] = evidence_hits(judged, kq, evidence, **opts).hit_at[5]
        row["scifact"] = evaluate(scifact, sq, sr, **opts).metrics["ndcg@10"]
        hits = tiny.search(TINY_QUERY, k=3, **opts)
        row["tiny"] = [sum("Kuril" in h.text for h in hits), "Kuril" in hits[0].text]
        rows.append(row)
        by = row["evidence@5 by type"]
        print(
            f"| {name} | {row['kremlin']:.3f} | {row['evidence@5']:.2f} ({by['K']:.1f}/{by['Q']:.1f}/{by['P']:.1f}) "
            f"| {row.get('judged', float('nan')):.3f} | {row.get('judged evidence@5', float('nan')):.2f} "
            f"| {row['scifact']:.3f} | {row['tiny'][0]} / {'yes' if row['tiny'][1] else 'no'} |",
            flush=True,
        )
    retrieval.fuse = fuse
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
