"""Indexing against raw encode part by part, for the first few parts of one real build.

    python scripts/bench_parts.py [--corpus kremlin_en.jsonl.gz] [--parts 5]

The same pairing ``bench.py`` times a whole build with (``bench.paired_build``): ``build`` runs as the
CLI runs it, each embedding part (2,048 passages) paired with raw ``encode`` of the same texts, run just
before it on odd parts and just after it on even ones. Here the build stops after ``--parts`` parts,
in a temporary folder that is then removed, so the embedding overhead can be checked in minutes rather
than the hour of a full bench. Prints each pair, the median ratio and the ratio of summed times.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from bench import CORPUS, paired_build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--parts", type=int, default=5)
    args = parser.parse_args()
    if not args.corpus.exists():
        raise SystemExit(f"bench_parts: no corpus at {args.corpus}")
    if args.parts < 1:
        raise SystemExit("bench_parts: --parts must be 1 or more")

    from sentence_transformers import SentenceTransformer

    from search.models import resolve_model

    raw = SentenceTransformer(str(resolve_model("minilm")[1]()), device="cpu")
    with tempfile.TemporaryDirectory() as folder:
        run = paired_build(args.corpus, Path(folder) / "index", raw, parts=args.parts)
    raw_s, ours_s = run.pairs.raw_s, run.pairs.part_s
    ratios = [r / s for r, s in zip(raw_s, ours_s)]
    print(
        f"median {statistics.median(ratios):.3f} of raw, summed times {sum(raw_s) / sum(ours_s):.3f} "
        f"of raw ({len(ratios)} parts)"
    )


if __name__ == "__main__":
    main()
