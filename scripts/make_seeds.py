"""Write the samples of seeds/: Kremlin documents about Japan and the Kuril Islands, and UN General
Debate speeches in which each side of a territorial dispute states its position.

The default corpus of fpsearch is the seed article plus these samples, so that the first query on a
fresh clone ("Kuril Islands position") has real material to rank, and ``fpsearch positions "Kuril
Islands" --by country`` has both sides to show. Sources: en.kremlin.ru (CC BY 4.0) and the UN General
Debate Corpus (CC0).

    python scripts/make_seeds.py [--shared DIR]   (default: ../shared, or $FPSEARCH_SHARED)

Kremlin documents are kept unchanged but for two fields added: ``country`` "Russian Federation" and
``country_iso3`` "RUS", the government that publishes them, named as the UN corpus names it, so that
grouping by country sets the Kremlin's statements beside the speeches of other governments.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from pathlib import Path

from harness import SHARED

MENTION = re.compile(r"Japan|Kuril")
# Speeches chosen per dispute and side: the ones that speak of it most (counted by these patterns).
DISPUTES = {
    "Kuril Islands / Northern Territories": (
        re.compile(r"Northern Territories|Kuril|peace treaty", re.I),
        {"JPN": 7, "RUS": 2},
    ),
    "Falkland Islands (Malvinas)": (re.compile(r"Malvinas|Falkland"), {"ARG": 2, "GBR": 2}),
    "Western Sahara": (re.compile(r"Western Sahara|Sahraoui|Saharan"), {"MAR": 2, "DZA": 2}),
}


def _write(out: Path, docs: list[dict]) -> None:
    # mtime=0 keeps the file byte-identical between runs
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for doc in docs:
            gz.write((json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8"))
    size = sum(len(d["text"]) for d in docs)
    print(f"{out}: {len(docs)} documents, {size:,} characters of text, {out.stat().st_size:,} bytes")


def kremlin(corpus: Path, min_mentions: int) -> list[dict]:
    chosen = []
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            if len(MENTION.findall(doc["text"])) >= min_mentions or "Kuril" in doc["text"]:
                chosen.append({**doc, "country": "Russian Federation", "country_iso3": "RUS"})
    return sorted(chosen, key=lambda d: (d["date"], d["_id"]))


def ungd(corpus: Path) -> list[dict]:
    ranked: dict[tuple[str, str], list[tuple[int, str, dict]]] = {}
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            for name, (pattern, sides) in DISPUTES.items():
                if doc["country_iso3"] in sides:
                    n = len(pattern.findall(doc["text"]))
                    if n:
                        ranked.setdefault((name, doc["country_iso3"]), []).append((n, doc["_id"], doc))
    chosen = {}
    for (name, iso3), found in ranked.items():
        for _, _, doc in sorted(found, key=lambda x: (-x[0], x[1]))[: DISPUTES[name][1][iso3]]:
            chosen[doc["_id"]] = doc
    return sorted(chosen.values(), key=lambda d: (d["date"], d["_id"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(SHARED), help="the shared data folder (corpus/ inside)")
    parser.add_argument("--out", default="seeds")
    parser.add_argument("--min-mentions", type=int, default=3)
    args = parser.parse_args()
    corpus, out = Path(args.shared) / "corpus", Path(args.out)
    _write(out / "kremlin_japan.jsonl.gz", kremlin(corpus / "kremlin_en.jsonl.gz", args.min_mentions))
    _write(out / "ungd_territorial.jsonl.gz", ungd(corpus / "ungdc_1946_2024.jsonl.gz"))


if __name__ == "__main__":
    main()
