"""How well the query-language check (``search.language``) tells English queries from others, and how fast.

    python scripts/evaluate_language.py [--write]

English: the Kremlin dev queries, our off-topic and nonsense queries and SciFact's claims (short
English sentences). Foreign: ``scripts/data/foreign_queries.tsv``, dev-style queries we translated into
Russian, Ukrainian, Japanese, Chinese, Arabic, French, German, Spanish, Italian and Portuguese.
A false alarm is an English query that would get the note; a hit is a foreign one that does. Compares
the shipped check (script + py3langid limited to ``LANGUAGES``, probability ≥ ``MIN_PROBABILITY``) with
py3langid over all its 97 languages at several probabilities. ``--write`` puts the result in
docs/calibration.md ("Query language").
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from harness import CALIBRATION, ROOT, SHARED, stamp, write_section

from search import language

ENGLISH = frozenset({"en"})


def queries() -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    english = {"kremlin dev": [json.loads(x)["text"] for x in (SHARED / "eval/kremlin-dev/queries.jsonl").open()]}
    english["off-topic and nonsense"] = [
        line.strip()
        for line in (ROOT / "scripts/data/offtopic_queries.txt").open(encoding="utf-8")
        if line.strip() and not line.startswith(("#", "["))
    ]
    scifact = SHARED / "beir/scifact/queries.jsonl"
    if scifact.exists():
        english["scifact claims"] = [json.loads(x)["text"] for x in scifact.open()]
    foreign = [
        tuple(line.rstrip("\n").split("\t"))
        for line in (ROOT / "scripts/data/foreign_queries.tsv").open(encoding="utf-8")
        if line.strip() and not line.startswith("#")
    ]
    return english, foreign


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    english, foreign = queries()
    every_english = [q for qs in english.values() for q in qs]

    started = time.perf_counter()
    language.warm()
    load = time.perf_counter() - started
    times = []
    for q in every_english + [q for _, q in foreign]:
        t = time.perf_counter()
        language.is_foreign(language.detect(q), ENGLISH)
        times.append((time.perf_counter() - t) * 1e6)
    shipped_fa = {
        name: sum(language.is_foreign(language.detect(q), ENGLISH) for q in qs) for name, qs in english.items()
    }
    shipped_hits = sum(language.is_foreign(language.detect(q), ENGLISH) for _, q in foreign)
    named = sum(language.detect(q).code == lang for lang, q in foreign)

    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    full = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    lines = [
        stamp("evaluate_language.py"),
        "",
        f"{len(every_english):,} English queries ({', '.join(f'{k} {len(v)}' for k, v in english.items())}), "
        f"{len(foreign)} foreign ones in {len({lang for lang, _ in foreign})} languages. py3langid's model "
        f"loads in {load:.2f} s (once per process; the CLI loads it beside the embedding model); a check "
        f"takes {statistics.median(times):.0f} µs (median).",
        "",
        "| check | English false alarms | foreign noted | language named right |",
        "|---|---|---|---|",
        f"| shipped: script, or py3langid on {len(language.LANGUAGES)} languages ≥ {language.MIN_PROBABILITY} | "
        f"{sum(shipped_fa.values())} of {len(every_english):,} | {shipped_hits} of {len(foreign)} | "
        f"{named} of {len(foreign)} |",
    ]
    for threshold in (0.5, 0.9, 0.99):
        fa = sum(1 for q in every_english if (g := full.classify(q))[0] != "en" and g[1] >= threshold)
        noted = sum(1 for _, q in foreign if (g := full.classify(q))[0] != "en" and g[1] >= threshold)
        right = sum(1 for lang, q in foreign if full.classify(q)[0] == lang)
        lines.append(
            f"| py3langid, all 97 languages, probability ≥ {threshold} | {fa} of {len(every_english):,} | "
            f"{noted} of {len(foreign)} | {right} of {len(foreign)} |"
        )
    wrong = [
        f"{q} ({lang} read as {language.detect(q).code})" for lang, q in foreign if language.detect(q).code != lang
    ]
    lines += [
        "",
        "Named wrongly by the shipped check (still noted as not English): " + ("; ".join(wrong) or "none") + ".",
    ]
    print("\n".join(lines))
    if args.write:
        write_section("query-language", lines, "## Query language", CALIBRATION)


if __name__ == "__main__":
    main()
