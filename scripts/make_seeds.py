"""Write seeds/kremlin_japan.jsonl.gz: the Kremlin-corpus documents about Japan and the Kuril Islands.

The default corpus of fpsearch is the seed article plus this sample, so that the first query on a fresh
clone ("Kuril Islands position") has real material to rank. Source: en.kremlin.ru, CC BY 4.0.

    python scripts/make_seeds.py [--corpus ../shared/corpus/kremlin_en.jsonl.gz]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from pathlib import Path

MENTION = re.compile(r"Japan|Kuril")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="../shared/corpus/kremlin_en.jsonl.gz")
    parser.add_argument("--out", default="seeds/kremlin_japan.jsonl.gz")
    parser.add_argument("--min-mentions", type=int, default=3)
    args = parser.parse_args()
    chosen = []
    with gzip.open(args.corpus, "rt", encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            mentions = len(MENTION.findall(doc["text"]))
            if mentions >= args.min_mentions or "Kuril" in doc["text"]:
                chosen.append(doc)
    chosen.sort(key=lambda d: (d["date"], d["_id"]))
    out = Path(args.out)
    # mtime=0 keeps the file byte-identical between runs
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for doc in chosen:
            gz.write((json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8"))
    size = sum(len(d["text"]) for d in chosen)
    print(f"{out}: {len(chosen)} documents, {size:,} characters of text, {out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
