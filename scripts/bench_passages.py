"""The passage encoder against PyTorch float32, on Kremlin passages as ``fpsearch index`` cuts them.

    python scripts/bench_passages.py [--passages 2000] [--slices 8] [--write]

In one process, on the same passages:

- faithfulness: cosine between each passage's vector from the fused ONNX graph (``search/onnx.py``,
  ``passage_graph``; what ``fpsearch index`` uses by default) and from PyTorch float32, and the same
  for every sentence vector pooled from the two passes (least, 1st percentile, median);
- speed: passages a second of raw ``SentenceTransformer.encode`` (batch 32, the baseline), of
  fpsearch's PyTorch passage path (passage and sentence vectors) and of the fused graph (the same
  outputs). The passages are cut into ``--slices`` slices, and each slice runs all three back to back
  in a rotating order, so the VM's drift over the run falls on each alike; ratios are of the sums.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from harness import KREMLIN, stamp, write_section

from search.chunking import Chunker
from search.documents import LoadReport, load_documents
from search.embedding import SentenceTransformerEmbedder
from search.indexing import DEFAULT_MAX_TOKENS, DEFAULT_OVERLAP


def sample(embedder: SentenceTransformerEmbedder, n: int) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """``n`` passages (and their sentence spans) from Kremlin documents spread over the corpus."""
    docs = list(load_documents([KREMLIN], LoadReport()))
    chunker = Chunker(embedder.counter, max_tokens=DEFAULT_MAX_TOKENS, overlap=DEFAULT_OVERLAP)
    texts, spans = [], []
    step = max(1, len(docs) // max(1, n // 3))
    for doc in docs[::step]:
        for p in chunker.chunk(doc):
            texts.append(p.text)
            spans.append([(s - p.start, e - p.start) for s, e in p.sentences])
        if len(texts) >= n:
            break
    return texts[:n], spans[:n]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--slices", type=int, default=8)
    parser.add_argument("--write", action="store_true", help="write the tables into BENCHMARKS.md")
    args = parser.parse_args()

    torch = SentenceTransformerEmbedder("minilm", passage_runtime="torch")
    fused = SentenceTransformerEmbedder("minilm", passage_runtime="onnx")
    raw = torch.model
    texts, spans = sample(torch, args.passages)
    chars = statistics.mean(len(t) for t in texts)
    print(f"{len(texts):,} passages, {chars:,.0f} characters on average; fused graph threads: {fused.threads}")

    def run_raw(t, s):
        raw.encode(t, batch_size=32, normalize_embeddings=True, show_progress_bar=False)

    runs = {
        "raw `SentenceTransformer.encode`, float32 (baseline)": run_raw,
        "fpsearch passages, PyTorch float32 (`FPSEARCH_PASSAGE_RUNTIME=torch`)": torch.embed_passages,
        "fpsearch passages, fused ONNX graph (default)": fused.embed_passages,
    }
    for run in runs.values():  # warm up: first batches of each length run slower
        run(texts[:64], spans[:64])
    seconds = dict.fromkeys(runs, 0.0)
    names = list(runs)
    size = -(-len(texts) // args.slices)
    for n, lo in enumerate(range(0, len(texts), size)):
        t, s = texts[lo : lo + size], spans[lo : lo + size]
        for name in names[n % 3 :] + names[: n % 3]:
            started = time.perf_counter()
            runs[name](t, s)
            seconds[name] += time.perf_counter() - started
        print(f"slice {n + 1}: " + ", ".join(f"{len(texts[: lo + len(t)]) / seconds[k]:.1f}" for k in names))

    a, a_parts = fused.embed_passages(texts, spans)
    b, b_parts = torch.embed_passages(texts, spans)
    passage_cos = cosines(a, b)
    sentence_cos = np.concatenate([cosines(x, y) for x, y in zip(a_parts, b_parts) if len(x)])

    base = seconds[names[0]]
    lines = [
        stamp("bench_passages.py"),
        "",
        f"{len(texts):,} Kremlin passages (as `fpsearch index` cuts them, {chars:,.0f} characters on average), "
        f"{args.slices} slices, each run by all three in a rotating order; threads: all cores.",
        "",
        "| passage encoder | passages/s | ratio to raw encode |",
        "|---|---|---|",
    ]
    for name in names:
        lines.append(f"| {name} | {len(texts) / seconds[name]:.1f} | {base / seconds[name]:.2f} |")
    lines += [
        "",
        "| fused graph against PyTorch float32 | vectors | least cosine | 1st percentile | median |",
        "|---|---|---|---|---|",
    ]
    for what, c in (("passage vectors", passage_cos), ("sentence vectors", sentence_cos)):
        lines.append(f"| {what} | {len(c):,} | {c.min():.6f} | {np.percentile(c, 1):.6f} | {np.median(c):.6f} |")
    print("\n".join(lines))
    if args.write:
        write_section("bench_passages.py", lines, "### The passage encoder")


if __name__ == "__main__":
    main()
