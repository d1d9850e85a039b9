"""Calibrate match strength (``search.strength``): real queries should be strong matches, off-topic and
nonsense ones should not.

    python scripts/calibrate_match.py --index ~/kremlin-index [--write]

Runs the Kremlin dev queries (``shared/eval/kremlin-dev``, 30) and the off-topic and nonsense queries
of ``scripts/data/offtopic_queries.txt`` (written for this, never tuned on as answers) through the
default hybrid search (k=10), and reads each hit's cosine and query-word coverage. A query's match is
its strongest hit's. Prints, for the thresholds in ``search.strength`` and a grid around them: false
alarms (dev queries not called strong) and detection (off-topic queries not called strong; nonsense
called none). Also counts how often the top fused score is exactly 0.5 and why. ``--write`` puts the
result in BENCHMARKS.md ("Match strength").
"""

from __future__ import annotations

import argparse
import json
import statistics

from harness import ROOT, SHARED, stamp, write_section

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
    ap.add_argument("--write", action="store_true", help="Write the result into BENCHMARKS.md.")
    args = ap.parse_args()

    engine = Engine.open(args.index)
    dev = [json.loads(line) for line in (DEV / "queries.jsonl").read_text().splitlines() if line.strip()]
    kinds = {}
    for line in (DEV / "README.md").read_text().splitlines():  # "| d01 | K | Kuril Islands position | ..."
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 3 and cells[1][:1] == "d" and cells[1][1:].isdigit():
            kinds[cells[1]] = cells[2]
    sets = {"dev": [q["text"] for q in dev], **offtopic()}
    lines = [
        stamp("calibrate_match.py"),
        "",
        f"Index `{args.index}` ({engine.store.passage_count:,} passages, {engine.manifest.model.name}); "
        f"{len(sets['dev'])} dev queries, {len(sets['offtopic'])} off-topic, {len(sets['nonsense'])} nonsense; "
        "hybrid search, k=10; a query's match is its strongest hit's.",
        "",
    ]

    for mode in ("hybrid", "dense", "lexical"):
        got = {name: features(engine, qs, mode) for name, qs in sets.items()}
        if mode == "hybrid":
            tops = {
                name: [max((c for c, _, _ in hits if c is not None), default=0.0) for hits in rows]
                for name, rows in got.items()
            }
            lines += [
                "Best cosine among the 10 hits (median, min–max):",
                "",
                "| set | median | min | max |",
                "|---|---|---|---|",
            ]
            for name, values in tops.items():
                lines.append(f"| {name} | {statistics.median(values):.3f} | {min(values):.3f} | {max(values):.3f} |")
            lines += [
                "",
                "Thresholds (strong cosine / weak cosine), hybrid:",
                "",
                "| strong | weak | dev false alarms | off-topic not strong | nonsense none | chosen |",
                "|---|---|---|---|---|---|",
            ]
            for strong in (0.40, 0.45, 0.50):
                for weak in (0.25, 0.30, 0.35):
                    fa = sum(level(h, strong, weak) != st.STRONG for h in got["dev"])
                    det = sum(level(h, strong, weak) != st.STRONG for h in got["offtopic"])
                    non = sum(level(h, strong, weak) == st.NONE for h in got["nonsense"])
                    mark = "✓" if (strong, weak) == (st.STRONG_COSINE, st.WEAK_COSINE) else ""
                    lines.append(
                        f"| {strong:.2f} | {weak:.2f} | {fa} of {len(got['dev'])} | "
                        f"{det} of {len(got['offtopic'])} | {non} of {len(got['nonsense'])} | {mark} |"
                    )
            lines.append("")
        levels = {name: [level(h, st.STRONG_COSINE, st.WEAK_COSINE) for h in rows] for name, rows in got.items()}
        counts = {name: {lv: values.count(lv) for lv in st.LEVELS} for name, values in levels.items()}
        lines.append(
            f"- {mode}: "
            + "; ".join(
                f"{name} {c[st.STRONG]} strong / {c[st.WEAK]} weak / {c[st.NONE]} none" for name, c in counts.items()
            )
        )
        if mode == "hybrid":
            missed = [f"{q} ({lv})" for q, lv in zip(sets["dev"], levels["dev"]) if lv != st.STRONG]
            strong_off = [
                q for name in ("offtopic", "nonsense") for q, lv in zip(sets[name], levels[name]) if lv == st.STRONG
            ]
            by_kind: dict[str, list[str]] = {}
            for q, lv in zip(dev, levels["dev"]):
                by_kind.setdefault(kinds.get(q["_id"], "?"), []).append(lv)
            lines.append(
                "  - dev by type: "
                + ", ".join(f"{k} {v.count(st.STRONG)} of {len(v)} strong" for k, v in sorted(by_kind.items()))
            )
            lines.append("  - dev queries not strong: " + (", ".join(missed) or "none"))
            lines.append("  - off-topic or nonsense queries called strong: " + (", ".join(strong_off) or "none"))
            lines.append(
                "  - nonsense called weak: "
                + (", ".join(q for q, lv in zip(sets["nonsense"], levels["nonsense"]) if lv == st.WEAK) or "none")
            )
    lines.append("")

    reasons: dict[str, int] = {}
    for name in ("dev", "offtopic", "nonsense"):
        for q in sets[name]:
            top = engine.search(q, k=1, literal=True)
            if not top or abs(top[0].score - 0.5) > 1e-9:
                continue
            pid = top[0].passage_id
            dense = [h.passage_id for h in engine.search(q, k=20, mode="dense", per_doc=0, literal=True)]
            lexical = [h.passage_id for h in engine.search(q, k=20, mode="lexical", per_doc=0, literal=True)]
            if not lexical:
                why = "no passage holds a query word: the dense best alone"
            elif dense[:1] == [pid] and pid not in lexical:
                why = "the dense best, outside the lexical top 20"
            elif lexical[:1] == [pid] and pid not in dense:
                why = "the lexical best, outside the dense top 20"
            else:
                why = "other"
            reasons[f"{name}: {why}"] = reasons.get(f"{name}: {why}", 0) + 1
    lines += ["Queries whose top hybrid score is exactly 0.5000, and why:", ""]
    lines += [f"- {reason}: {n}" for reason, n in sorted(reasons.items())] or ["- none"]
    print("\n".join(lines))
    if args.write:
        write_section("match-strength", lines)


if __name__ == "__main__":
    main()
