"""Embed exported passages (``scripts/export_passages.py``) on a GPU and save the vectors.

    python scripts/gpu_vectors.py --spans spans.npz --corpus-dir DIR --model MODEL_DIR --out vectors.npy

For the ANN benchmark at archive scale: the same passages, the same model, unit vectors, float32. The
line numbers in ``spans.npz`` count the documents that loaded (empty ones are skipped the same way).
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

import numpy as np


def documents(path: Path) -> list[str]:
    texts = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            text = record.get("text")
            if isinstance(text, str) and text.strip() and str(record.get("_id", "")).strip():
                texts.append(text)
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=Path, required=True)
    parser.add_argument("--corpus-dir", type=Path, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    import torch
    from sentence_transformers import SentenceTransformer

    data = np.load(args.spans)
    spans, files = data["spans"], [str(f) for f in data["files"]]
    started = time.perf_counter()
    docs = {n: documents(args.corpus_dir / name) for n, name in enumerate(files)}
    texts = [docs[f][line][s:e] for f, line, s, e in spans]
    print(
        f"{len(texts):,} passages from {sum(len(d) for d in docs.values()):,} documents "
        f"in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    model = SentenceTransformer(args.model, device="cuda")
    model.half()
    started = time.perf_counter()
    with torch.inference_mode():
        vectors = model.encode(
            texts, batch_size=args.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        ).astype(np.float32)
    took = time.perf_counter() - started
    print(
        f"embedded {len(texts):,} passages in {took:.0f} s ({len(texts) / took:,.0f}/s) "
        f"on {torch.cuda.get_device_name(0)}",
        flush=True,
    )
    np.save(args.out, vectors)


if __name__ == "__main__":
    main()
