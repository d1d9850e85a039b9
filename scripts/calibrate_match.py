"""Calibrate match strength (``search.strength``): real queries should be strong matches, off-topic and
nonsense ones should not.

    python scripts/calibrate_match.py --index ~/kremlin-index [--write]

Runs the Kremlin dev queries (``shared/eval/kremlin-dev``, 30) and the off-topic and nonsense queries
of ``scripts/data/offtopic_queries.txt`` (written for this, never tuned on as answers) through the
default hybrid search (k=10), and reads each hit's cosine and query-word coverage. A query's match is
its strongest hit's. Prints, for the thresholds in ``search.strength`` and a grid around them: false
alarms (dev queries not called strong) and detection (off-topic queries not called strong; nonsense
called none). ``--write`` puts the
result in docs/calibration.md ("Match strength").
"""

from __future__ import annotations

import argparse
import json
import statistics

from harness import CALIBRATION, ROOT, SHARED, stamp, write_section

from search import Engine
from search import strength as st

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


def level(hits, strong: float, weak: float) -> str:
    return st.best(st.strength(c, share, n, strong, weak) for c, share, n in hits)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--index", required=True, help="The Kremlin index (fpsearch index ../shared/corpus/kremlin_en.jsonl.gz)."
    )
    ap.add_argument("--write", action="store_true", help="Write the result into docs/calibration.md.")
    args = ap.parse_args()

    engine = Engine.open(args.index)
    dev = [json.loads(line) for line in (DEV / "queries.jsonl").read_text().splitlines() if line.strip()]
    sets = {"dev": [q["text"] for q in dev], **offtopic()}
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
        "Thresholds (strong cosine / weak cosine), hybrid:",
        "",
        "| strong | weak | dev false alarms | off-topic not strong | nonsense none | chosen |",
        "|---|---|---|---|---|---|",
    ]
    # the chosen pair, and each threshold moved by 0.05 either way with the other held
    s0, w0 = st.STRONG_COSINE, st.WEAK_COSINE
    grid = sorted({(round(s0 + d, 2), w0) for d in (-0.05, 0, 0.05)} | {(s0, round(w0 + d, 2)) for d in (-0.05, 0.05)})
    for strong, weak in grid:
        fa = sum(level(h, strong, weak) != st.STRONG for h in got["dev"])
        det = sum(level(h, strong, weak) != st.STRONG for h in got["offtopic"])
        non = sum(level(h, strong, weak) == st.NONE for h in got["nonsense"])
        mark = "✓" if (strong, weak) == (s0, w0) else ""
        lines.append(
            f"| {strong:.2f} | {weak:.2f} | {fa} of {len(got['dev'])} | "
            f"{det} of {len(got['offtopic'])} | {non} of {len(got['nonsense'])} | {mark} |"
        )
    lines.append("")
    levels = {name: [level(h, st.STRONG_COSINE, st.WEAK_COSINE) for h in rows] for name, rows in got.items()}
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
        write_section("match-strength", lines, "## Match strength", CALIBRATION)


if __name__ == "__main__":
    main()
