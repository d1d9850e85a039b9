"""Compare chunking settings on the Kremlin dev set, on the corpus of its judged documents.

Embedding all 24,605 Kremlin passages takes ~25 minutes on 2 cores, so settings are compared on the
~1,500 documents the dev set judged (every relevant document plus the judged non-relevant ones, which
were pooled from BM25, dense and grep runs: hard negatives). Absolute figures are higher than on the
full corpus; the ranking of settings is what this script is for.

    python scripts/sweep_chunking.py --out /tmp/sweep [--model mpnet] [--configs 200:1:0 254:1:1 ...]

Each row: nDCG@10 and friends for dense and hybrid, and evidence-span hit@1/5/10 (overall and @5 per
query type). An index already in ``--out`` is measured as it is (a build that was interrupted is
resumed by running ``fpsearch index`` on it, or this script, again).
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

from harness import KREMLIN, KREMLIN_DEV

from search import Engine, IndexSettings, build
from search.evaluation import evaluate, load_qrels, load_queries
from search.evidence import evidence_hits, load_evidence
from search.store import index_exists

DEV = KREMLIN_DEV
CORPUS = KREMLIN


def subset(out: Path) -> Path:
    pools = json.loads((DEV / "method" / "pools.json").read_text())
    judged = {d for q in pools.values() for d in q["judged_docs"]}
    path = out / "judged.jsonl"
    if not path.exists():
        with gzip.open(CORPUS, "rt", encoding="utf-8") as fh, open(path, "w", encoding="utf-8") as w:
            for line in fh:
                if json.loads(line)["_id"] in judged:
                    w.write(line)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/sweep"))
    parser.add_argument("--model", default="minilm")
    parser.add_argument(
        "--configs",
        nargs="+",
        default=["200:1:0", "128:1:0", "254:1:0", "200:1:1", "254:1:1"],
        help="max_tokens:overlap:embed_title",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    corpus = subset(args.out)
    queries, qrels = load_queries(DEV / "queries.jsonl"), load_qrels(DEV / "qrels" / "test.tsv")
    evidence = load_evidence(DEV / "evidence.jsonl")
    types = {q: v["type"] for q, v in json.loads((DEV / "method" / "pools.json").read_text()).items()}
    rows = []
    for spec in args.configs:
        max_tokens, overlap, title = (int(x) for x in spec.split(":"))
        index = args.out / f"{args.model}-{max_tokens}-{overlap}-{title}"
        settings = IndexSettings(max_tokens=max_tokens, overlap=overlap, embed_title=bool(title))
        row: dict = {"config": spec, "model": args.model}
        if index_exists(index):  # built by an earlier run (or resumed to the end): measure only
            row["reused"] = True
        else:
            started = time.perf_counter()
            build([corpus], index, model=args.model, settings=settings)
            row["build_s"] = round(time.perf_counter() - started, 1)
        engine = Engine.open(index)
        row["passages"] = engine.store.passage_count
        for mode in ("dense", "hybrid"):
            row[mode] = evaluate(engine, queries, qrels, mode=mode).metrics
        hits = evidence_hits(engine, queries, evidence)
        row["evidence_hit"] = hits.hit_at
        row["evidence_hit@5_by_type"] = {t: v[5] for t, v in hits.by_group(types).items()}
        rows.append(row)
        print(json.dumps(row), flush=True)
    (args.out / "results.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
