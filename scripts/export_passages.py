"""Write the passage spans that `fpsearch index` would make for some corpora, without embedding them.

    python scripts/export_passages.py ../shared/corpus/*.jsonl.gz --out spans.npz [--max-tokens 200 ...]

The output holds, per passage, the corpus file number, the document's line number in it, and the
character span — enough for another machine to embed exactly the passages this machine would index
(``scripts/gpu_vectors.py``), and a count of what the full archive holds.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from search.chunking import Chunker
from search.documents import LoadReport, load_documents
from search.embedding import SentenceTransformerEmbedder
from search.indexing import DEFAULT_MAX_TOKENS, DEFAULT_OVERLAP


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS)
    parser.add_argument("--overlap", type=int, default=DEFAULT_OVERLAP)
    args = parser.parse_args()
    embedder = SentenceTransformerEmbedder("minilm")
    chunker = Chunker(embedder.counter, max_tokens=args.max_tokens, overlap=args.overlap)
    rows = []
    summary = {}
    started = time.perf_counter()
    for number, path in enumerate(args.paths):
        report = LoadReport()
        docs = passages = chars = 0
        for line, doc in enumerate(load_documents([path], report)):
            for p in chunker.chunk(doc):
                rows.append((number, line, p.start, p.end))
                passages += 1
            docs += 1
            chars += len(doc.text)
        summary[path.name] = {
            "documents": docs,
            "passages": passages,
            "characters": chars,
            "skipped": len(report.problems),
        }
        print(path.name, summary[path.name], f"{time.perf_counter() - started:.0f} s", flush=True)
    spans = np.array(rows, dtype=np.int64)
    np.savez_compressed(
        args.out,
        spans=spans,
        files=np.array([p.name for p in args.paths]),
        settings=json.dumps({"max_tokens": args.max_tokens, "overlap": args.overlap}),
    )
    print(json.dumps({"passages": len(rows), "files": summary, "seconds": round(time.perf_counter() - started)}))


if __name__ == "__main__":
    main()
