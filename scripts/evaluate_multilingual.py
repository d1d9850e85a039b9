"""Cross-lingual retrieval: the Kremlin dev queries in English, Russian and Japanese, on a MiniLM index
and a ``--model multilingual`` index of the same documents.

    python scripts/evaluate_multilingual.py --minilm-index DIR [--multilingual-index DIR] [--write]
    python scripts/evaluate_multilingual.py --judged [--write]     # builds both on the dev set's judged documents

Queries: ``shared/eval/kremlin-dev/queries.jsonl`` (English, 30), our translations
``scripts/data/kremlin_dev_ru.jsonl`` (Russian, all 30) and ``scripts/data/kremlin_dev_ja.jsonl``
(Japanese, 10; the English figures on the same 10 beside them). Metrics: nDCG@10 (documents ranked by
their best passage, pytrec_eval) and evidence hit@5 (a quoted span among the first five passages), in
the default hybrid mode. Also each index's embedding speed from its build. ``--judged`` builds
both indexes on the ~1,000 documents the dev set judged (``scripts/sweep_chunking.py``'s subset) under
``/tmp/fpsearch-multilingual``: about 7 min for MiniLM and about 1 h for multilingual on 2 cores.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness import ROOT, SHARED, stamp, write_section

from search import Engine, build
from search.evaluation import evaluate, load_qrels, load_queries
from search.evidence import evidence_hits, load_evidence
from search.store import index_exists

DEV = SHARED / "eval" / "kremlin-dev"
DATA = ROOT / "scripts" / "data"


def judged_indexes(out: Path) -> tuple[Path, Path, dict[str, float]]:
    import sweep_chunking

    out.mkdir(parents=True, exist_ok=True)
    corpus = sweep_chunking.subset(out)
    speeds = {}
    for name in ("minilm", "multilingual"):
        if not index_exists(out / name):
            report = build([corpus], out / name, name)
            speeds[name] = report.passages_per_second
    return out / "minilm", out / "multilingual", speeds


def scores(engine: Engine, queries: dict[str, str], qrels, evidence) -> tuple[float, float]:
    ndcg = evaluate(engine, queries, qrels).metrics["ndcg@10"]
    hit5 = evidence_hits(engine, queries, evidence).hit_at[5]
    return ndcg, hit5


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minilm-index", type=Path)
    ap.add_argument("--multilingual-index", type=Path)
    ap.add_argument("--judged", action="store_true", help="Build both indexes on the judged documents first.")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    speeds: dict[str, float] = {}
    if args.judged:
        args.minilm_index, args.multilingual_index, speeds = judged_indexes(Path("/tmp/fpsearch-multilingual"))
    if not args.minilm_index:
        ap.error("give --minilm-index (and --multilingual-index), or --judged")

    qrels = load_qrels(DEV / "qrels" / "test.tsv")
    evidence = load_evidence(DEV / "evidence.jsonl")
    english = load_queries(DEV / "queries.jsonl")
    russian = load_queries(DATA / "kremlin_dev_ru.jsonl")
    japanese = load_queries(DATA / "kremlin_dev_ja.jsonl")
    english_ja = {q: english[q] for q in japanese}
    lines = [
        stamp("evaluate_multilingual.py"),
        "",
        "Indexes: "
        + " and ".join(f"`{i}`" for i in (args.minilm_index, args.multilingual_index) if i)
        + "; hybrid search; nDCG@10 / evidence hit@5.",
        "",
        "| index | English (30) | Russian (30) | English, the 10 of Japanese | Japanese (10) |",
        "|---|---|---|---|---|",
    ]
    for label, index in (("MiniLM", args.minilm_index), ("multilingual", args.multilingual_index)):
        if index is None:
            lines.append(f"| {label} | not measured (no --multilingual-index) | | | |")
            continue
        engine = Engine.open(index)
        cells = [scores(engine, qs, qrels, evidence) for qs in (english, russian, english_ja, japanese)]
        lines.append(f"| {label} | " + " | ".join(f"{n:.3f} / {h:.2f}" for n, h in cells) + " |")
    if speeds:
        lines += [
            "",
            "Embedding speed of these builds: " + ", ".join(f"{k} {v:.1f} passages/s" for k, v in speeds.items()) + ".",
        ]
    print("\n".join(lines))
    if args.write:
        write_section("evaluate_multilingual.py", lines)


if __name__ == "__main__":
    main()
