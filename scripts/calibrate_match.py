"""Calibrate match strength (``search.strength``): real queries should be strong matches, off-topic and
nonsense ones should not.

    python scripts/calibrate_match.py --index ~/kremlin-index [--strong C --most-words C --weak C] [--write]

Runs the Kremlin dev queries (``shared/eval/kremlin-dev``, 30; on an index of a model that reads other
languages, also our Russian and Japanese translations of them, ``scripts/data/kremlin_dev_*.jsonl``) and
the off-topic and nonsense queries of ``scripts/data/offtopic_queries.txt`` (written for this, never
tuned on as answers) through the default hybrid search (k=10), and reads each hit's cosine and
query-word coverage. A query's match is its strongest hit's. Prints, for the index model's thresholds
(or those given) and a grid around them: false alarms (dev queries not called strong) and detection
(off-topic queries not called strong; nonsense called none). ``--write`` puts the result in
docs/calibration.md ("Match strength", a section per model).
"""

from __future__ import annotations

import argparse
import json
import statistics

from harness import CALIBRATION, ROOT, SHARED, stamp, write_section

from search import Engine
from search import strength as st
from search.models import MINILM, canonical_name, model_languages

DEV = SHARED / "eval" / "kremlin-dev"
OFFTOPIC = ROOT / "scripts" / "data" / "offtopic_queries.txt"


def offtopic() -> dict[str, list[str]]:
    sets: dict[str, list[str]] = {}
    section = None
    for line in OFFTOPIC.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            sets[section] = []
        else:
            sets[section].append(line)
    return sets


def features(engine: Engine, queries: list[str], mode: str) -> list[list[tuple[float | None, float, int]]]:
    out = []
    for q in queries:
        hits = engine.search(q, k=10, mode=mode, literal=True)
        out.append([(h.cosine, *st.coverage(q, h.text)) for h in hits])
    return out


def level(hits, at: st.Thresholds) -> str:
    return st.best(st.strength(c, share, n, at) for c, share, n in hits)


def dev_queries(engine: Engine) -> list[str]:
    """The dev queries, and their translations where the index's model reads other languages."""
    queries = [json.loads(line)["text"] for line in (DEV / "queries.jsonl").read_text().splitlines() if line.strip()]
    if len(model_languages(engine.manifest.model.name) or ()) > 1:
        for name in ("kremlin_dev_ru.jsonl", "kremlin_dev_ja.jsonl"):
            lines = (ROOT / "scripts" / "data" / name).read_text(encoding="utf-8").splitlines()
            queries += [json.loads(line)["text"] for line in lines if line.strip()]
    return queries


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--index", required=True, help="The Kremlin index (fpsearch index ../shared/corpus/kremlin_en.jsonl.gz)."
    )
    ap.add_argument("--strong", type=float, help="Try this strong cosine (default: the model's).")
    ap.add_argument("--most-words", type=float, help="Try this cosine for two thirds of the words.")
    ap.add_argument("--weak", type=float, help="Try this weak cosine.")
    ap.add_argument("--write", action="store_true", help="Write the result into docs/calibration.md.")
    args = ap.parse_args()

    engine = Engine.open(args.index)
    model = engine.manifest.model.name
    known = st.thresholds_for(model) or st.MINILM_THRESHOLDS
    at = st.Thresholds(
        args.strong if args.strong is not None else known.strong,
        args.most_words if args.most_words is not None else known.most_words,
        args.weak if args.weak is not None else known.weak,
    )
    sets = {"dev": dev_queries(engine), **offtopic()}
    lines = [
        stamp("calibrate_match.py"),
        "",
        f"Index `{args.index}` ({engine.store.passage_count:,} passages, {engine.manifest.model.name}); "
        f"{len(sets['dev'])} dev queries, {len(sets['offtopic'])} off-topic, {len(sets['nonsense'])} nonsense; "
        "hybrid search, k=10; a query's match is its strongest hit's.",
        "",
    ]

    got = {name: features(engine, qs, "hybrid") for name, qs in sets.items()}
    tops = {
        name: [max((c for c, _, _ in hits if c is not None), default=0.0) for hits in rows]
        for name, rows in got.items()
    }
    lines += [
        "Best cosine among the 10 hits, median (min–max): "
        + "; ".join(f"{name} {statistics.median(v):.3f} ({min(v):.3f}–{max(v):.3f})" for name, v in tops.items())
        + ".",
        "",
        f"Thresholds (strong cosine / weak cosine; two thirds of the words from {at.most_words:.2f}), hybrid:",
        "",
        "| strong | weak | dev false alarms | off-topic not strong | nonsense none | chosen |",
        "|---|---|---|---|---|---|",
    ]
    # the chosen pair, and each threshold moved by 0.05 either way with the other held
    s0, w0 = at.strong, at.weak
    step = 0.05 if s0 - w0 > 0.1 else 0.01  # a model whose cosines sit close together moves in hundredths
    grid = sorted({(round(s0 + d, 2), w0) for d in (-step, 0, step)} | {(s0, round(w0 + d, 2)) for d in (-step, step)})
    for strong, weak in grid:
        tried = st.Thresholds(strong, at.most_words, weak)
        fa = sum(level(h, tried) != st.STRONG for h in got["dev"])
        det = sum(level(h, tried) != st.STRONG for h in got["offtopic"])
        non = sum(level(h, tried) == st.NONE for h in got["nonsense"])
        mark = "✓" if (strong, weak) == (s0, w0) else ""
        lines.append(
            f"| {strong:.2f} | {weak:.2f} | {fa} of {len(got['dev'])} | "
            f"{det} of {len(got['offtopic'])} | {non} of {len(got['nonsense'])} | {mark} |"
        )
    lines.append("")
    levels = {name: [level(h, at) for h in rows] for name, rows in got.items()}
    counts = {name: {lv: values.count(lv) for lv in st.LEVELS} for name, values in levels.items()}
    lines.append(
        "- hybrid: "
        + "; ".join(
            f"{name} {c[st.STRONG]} strong / {c[st.WEAK]} weak / {c[st.NONE]} none" for name, c in counts.items()
        )
    )
    missed = [f"{q} ({lv})" for q, lv in zip(sets["dev"], levels["dev"]) if lv != st.STRONG]
    strong_off = [q for name in ("offtopic", "nonsense") for q, lv in zip(sets[name], levels[name]) if lv == st.STRONG]
    lines.append("  - dev queries not strong: " + (", ".join(missed) or "none"))
    lines.append("  - off-topic or nonsense queries called strong: " + (", ".join(strong_off) or "none"))
    lines.append("")

    print("\n".join(lines))
    if args.write:
        key = "match-strength" if canonical_name(model) == MINILM else f"match-strength-{_slug(model)}"
        write_section(
            key, lines, "## Match strength" if key == "match-strength" else f"### Match strength, {model}", CALIBRATION
        )


def _slug(model: str) -> str:
    return "-".join(w for w in "".join(c if c.isalnum() else " " for c in model.lower()).split())


if __name__ == "__main__":
    main()
