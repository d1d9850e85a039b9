"""The Kremlin dev set on the embedded store and on PostgreSQL (a streaming replica), side by side.

    python scripts/postgres_parity.py [--index ~/kremlin-index] [--write BENCHMARKS.md]

Starts a PostgreSQL 18 + pgvector primary and replica on loopback (``scripts/pg_cluster.py``), copies the
embedded index into the primary (``fpsearch copy``: no re-embedding), waits for the replica, then runs
``fpsearch eval`` in every mode against both stores and reports nDCG@10 and the time per query.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from harness import KREMLIN_DEV, write_section
from pg_cluster import PgCluster

from search import Engine
from search.evaluation import evaluate, load_qrels, load_queries
from search.indexing import copy_index

DEV = KREMLIN_DEV


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path.home() / "kremlin-index")
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args()
    queries, qrels = load_queries(DEV / "queries.jsonl"), load_qrels(DEV / "qrels" / "test.tsv")
    cluster = PgCluster()
    try:
        primary, replica = cluster.start()
        started = time.perf_counter()
        report = copy_index(args.index, primary)
        copy_s = time.perf_counter() - started
        cluster.wait_for_replica(timeout=600)
        print(f"copied {report.passages:,} passages into PostgreSQL in {copy_s:.0f} s", flush=True)
        rows = []
        engines = {
            "embedded (FAISS + SQLite FTS5)": Engine.open(args.index),
            "PostgreSQL replica (pgvector HNSW + tsvector BM25)": Engine.open(replica),
        }
        for mode in ("dense", "lexical", "hybrid"):
            row = {"mode": mode}
            for name, engine in engines.items():
                engine.search("warm up", k=10, mode=mode)
                result = evaluate(engine, queries, qrels, mode=mode, batch=1)
                row[name] = {**result.metrics, "ms_per_query": round(result.ms_per_query, 1)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        cluster.stop()
    out = {"date": time.strftime("%Y-%m-%d"), "copy_seconds": round(copy_s), "passages": report.passages, "rows": rows}
    print(json.dumps(out))
    if args.write:
        names = list(engines)
        lines = [
            "",
            f"_`python scripts/postgres_parity.py` on {out['date']}: {report.passages:,} passages copied "
            f"into PostgreSQL 18.4 + pgvector 0.8.5 in {copy_s:.0f} s; queries on the streaming replica._",
            "",
            "| mode | " + " | ".join(f"{n} nDCG@10 | ms/query" for n in names) + " | difference |",
            "|---|" + "---|---|" * len(names) + "---|",
        ]
        for row in rows:
            a, b = row[names[0]], row[names[1]]
            lines.append(
                f"| {row['mode']} | {a['ndcg@10']:.4f} | {a['ms_per_query']} | {b['ndcg@10']:.4f} | "
                f"{b['ms_per_query']} | {b['ndcg@10'] - a['ndcg@10']:+.4f} |"
            )
        lines.append("")
        write_section("postgres_parity.py", lines, "## PostgreSQL + pgvector against the embedded store", args.write)


if __name__ == "__main__":
    main()
