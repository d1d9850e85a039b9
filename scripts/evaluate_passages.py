"""Ranking with passages embedded by the fused ONNX graph against PyTorch float32, in one run.

    python scripts/evaluate_passages.py [--out /tmp/fpsearch-passages] [--write]

Builds the ~1,000 Kremlin documents the dev set judged (``scripts/sweep_chunking.py``'s subset) twice,
with ``FPSEARCH_PASSAGE_RUNTIME=torch`` and with the fused graph, then asks both indexes the 30 dev
queries with the same query encoder: nDCG@10 (documents ranked by their best passage) and evidence hit@5
for each search mode, and the build's embedding speed. (The whole Kremlin index's figures with the
fused graph are ``scripts/evaluate.py``'s.)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sweep_chunking
from harness import KREMLIN_DEV, stamp, write_section

from search import Engine, build
from search.embedding import SentenceTransformerEmbedder
from search.evaluation import evaluate, load_qrels, load_queries
from search.evidence import evidence_hits, load_evidence
from search.store import index_exists

MODES = ("dense", "lexical", "hybrid")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/fpsearch-passages"))
    parser.add_argument("--write", action="store_true", help="write the table into BENCHMARKS.md")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    corpus = sweep_chunking.subset(args.out)
    queries = load_queries(KREMLIN_DEV / "queries.jsonl")
    qrels = load_qrels(KREMLIN_DEV / "qrels" / "test.tsv")
    evidence = load_evidence(KREMLIN_DEV / "evidence.jsonl")
    rows, speeds = {}, {}
    for runtime in ("torch", "onnx"):
        index = args.out / runtime
        if not index_exists(index):
            report = build([corpus], index, SentenceTransformerEmbedder("minilm", passage_runtime=runtime))
            speeds[runtime] = report.passages_per_second
        engine = Engine.open(index)
        assert engine.store.manifest.model.runtime == runtime
        rows[runtime] = [
            (
                evaluate(engine, queries, qrels, mode=mode).metrics["ndcg@10"],
                evidence_hits(engine, queries, evidence, mode=mode).hit_at[5],
            )
            for mode in MODES
        ]
        print(runtime, rows[runtime], flush=True)
    lines = [
        stamp("evaluate_passages.py"),
        "",
        f"The dev set's judged documents ({engine.store.document_count:,} documents, "
        f"{engine.store.passage_count:,} passages), built once per passage runtime; the same query encoder "
        "(the default int8) asks both. nDCG@10 / evidence hit@5.",
        "",
        "| passages embedded by | " + " | ".join(MODES) + " | embedding passages/s |",
        "|---|" + "---|" * (len(MODES) + 1),
    ]
    for runtime, label in (("torch", "PyTorch float32"), ("onnx", "fused ONNX graph (default)")):
        cells = " | ".join(f"{n:.4f} / {h:.2f}" for n, h in rows[runtime])
        speed = f"{speeds[runtime]:.1f}" if runtime in speeds else "(built earlier)"
        lines.append(f"| {label} | {cells} | {speed} |")
    print("\n".join(lines))
    if args.write:
        write_section("evaluate_passages.py", lines)


if __name__ == "__main__":
    main()
