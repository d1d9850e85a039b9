"""Indexing against raw encode part by part, inside one real build: drift-free embedding overhead.

    python scripts/bench_parts.py [--corpus kremlin_en.jsonl.gz] [--parts 5]

``bench.py`` compares a whole ``fpsearch index`` with whole raw ``SentenceTransformer.encode`` runs
before and after it, each ~11 minutes; a VM whose speed swings by 10–20% within the hour puts its swing
into that ratio. Here ``build`` runs as the CLI runs it, but each embedding part (2,048 passages) is
paired with raw ``encode`` of the same texts, run just before it on odd parts and just after on even
ones, so each pair is measured within two minutes on the same passages. Prints each pair, the median
ratio and the ratio of summed times for the first ``--parts`` parts; the build is stopped there, in a
temporary folder that is then removed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "kremlin_en.jsonl.gz"


class Enough(Exception):
    """Raised from inside the build once enough parts are timed."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--parts", type=int, default=5)
    args = parser.parse_args()
    if not args.corpus.exists():
        raise SystemExit(f"bench_parts: no corpus at {args.corpus}")

    from sentence_transformers import SentenceTransformer

    from search import build
    from search.embedding import SentenceTransformerEmbedder
    from search.models import resolve_model

    raw = SentenceTransformer(str(resolve_model("minilm")[1]()), device="cpu")
    ours = SentenceTransformerEmbedder.embed_passages
    pairs: list[tuple[float, float]] = []  # seconds: raw encode, the build's embed_passages

    def paired(self, texts, spans, batch_size=32, progress=None):
        def run_raw() -> float:
            started = time.perf_counter()
            raw.encode(list(texts), batch_size=32, normalize_embeddings=True, show_progress_bar=False)
            return time.perf_counter() - started

        raw_s = run_raw() if len(pairs) % 2 == 0 else None  # raw first on odd parts, second on even ones
        started = time.perf_counter()
        out = ours(self, texts, spans, batch_size=batch_size, progress=progress)
        ours_s = time.perf_counter() - started
        raw_s = raw_s if raw_s is not None else run_raw()
        pairs.append((raw_s, ours_s))
        print(f"part {len(pairs)}: {len(texts):,} passages, raw {len(texts) / raw_s:.1f}, "
              f"build {len(texts) / ours_s:.1f} passages/s ({raw_s / ours_s:.3f} of raw)", flush=True)
        if len(pairs) >= args.parts:
            raise Enough
        return out

    SentenceTransformerEmbedder.embed_passages = paired
    with tempfile.TemporaryDirectory() as folder:
        try:
            build([args.corpus], Path(folder) / "index")
        except Enough:
            pass
    print(f"median {statistics.median(r / o for r, o in pairs):.3f} of raw, "
          f"summed times {sum(r for r, _ in pairs) / sum(o for _, o in pairs):.3f} of raw ({len(pairs)} parts)")


if __name__ == "__main__":
    main()
