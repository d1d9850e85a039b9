"""Compare chunking settings on the Kremlin dev set, on the corpus of its judged documents.

Embedding all 24,605 Kremlin passages takes ~25 minutes on 2 cores, so settings are compared on the
~1,500 documents the dev set judged (every relevant document plus the judged non-relevant ones, which
were pooled from BM25, dense and grep runs: hard negatives). Absolute figures are higher than on the
full corpus; the ranking of settings is what this script is for.

    python scripts/sweep_chunking.py --out /tmp/sweep [--configs 200:1:0 254:1:1 ...]
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

from search import Engine, IndexSettings, build
from search.evaluation import evaluate, load_qrels, load_queries

DEV = Path("../shared/eval/kremlin-dev")
CORPUS = Path("../shared/corpus/kremlin_en.jsonl.gz")


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
        "--configs", nargs="+", default=["200:1:0", "128:1:0", "254:1:0", "200:1:1", "254:1:1"],
        help="max_tokens:overlap:embed_title",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    corpus = subset(args.out)
    queries, qrels = load_queries(DEV / "queries.jsonl"), load_qrels(DEV / "qrels" / "test.tsv")
    rows = []
    for spec in args.configs:
        max_tokens, overlap, title = (int(x) for x in spec.split(":"))
        index = args.out / f"{args.model}-{max_tokens}-{overlap}-{title}"
        settings = IndexSettings(max_tokens=max_tokens, overlap=overlap, embed_title=bool(title))
        started = time.perf_counter()
        report = build([corpus], index, model=args.model, settings=settings)
        built = time.perf_counter() - started
        engine = Engine.open(index)
        row = {"config": spec, "passages": report.passages, "build_s": round(built, 1)}
        for mode in ("dense", "hybrid"):
            m = evaluate(engine, queries, qrels, mode=mode).metrics
            row[mode] = m
        rows.append(row)
        print(json.dumps(row), flush=True)
    (args.out / "results.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
