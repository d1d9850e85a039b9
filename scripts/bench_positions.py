"""``positions`` against a plain hybrid search on the same index, in one process: p50 and p99 of each
and their ratio.

    python scripts/bench_positions.py [--index build/kremlin] [--rounds 5] [--by speaker] [--no-write]

Topics: the Kremlin dev queries (``../shared/eval/kremlin-dev/queries.jsonl``). The index is preloaded
as ``fpsearch serve`` preloads it, and every query is embedded once before timing, so both sides
measure retrieval, not the model (the query vector is remembered alike for both). Each round times
every query with ``search(q, k=10)`` and with ``positions(q, by=..., n=10, quotes=2)``, the two in
alternating order from round to round.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from harness import ROOT, SHARED, stamp, write_section

from search import Engine


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def measure(engine: Engine, queries: list[str], by: str, rounds: int) -> tuple[list[float], list[float]]:
    """Milliseconds of each ``search(q, k=10)`` and ``positions(q, by=by, n=10, quotes=2)``, ``rounds``
    times over ``queries``, the two alternating in order, on the preloaded index."""
    engine.store.preload(warm=False)
    engine.embed(queries)
    for q in queries:  # first calls read what a server would already hold (actors, metadata fields)
        engine.search(q, k=10)
        engine.positions(q, by=by, n=10, quotes=2)
    search_ms, positions_ms = [], []
    for r in range(rounds):
        for q in queries:
            pair = [
                ("search", lambda q=q: engine.search(q, k=10)),
                ("positions", lambda q=q: engine.positions(q, by=by, n=10, quotes=2)),
            ]
            for name, call in pair if r % 2 == 0 else pair[::-1]:
                started = time.perf_counter()
                call()
                (search_ms if name == "search" else positions_ms).append((time.perf_counter() - started) * 1000)
    return search_ms, positions_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "build" / "kremlin")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--by", default="speaker")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    queries = [json.loads(line)["text"] for line in (SHARED / "eval" / "kremlin-dev" / "queries.jsonl").open()]
    engine = Engine.open(args.index)
    search_ms, positions_ms = measure(engine, queries, args.by, args.rounds)
    s50, p50 = statistics.median(search_ms), statistics.median(positions_ms)
    rows = [
        "",
        stamp("bench_positions.py"),
        "",
        f"{engine.store.passage_count:,} passages (`{args.index.name}`), {len(queries)} Kremlin dev queries × "
        f"{args.rounds} rounds, preloaded, query vectors embedded beforehand; `positions(by={args.by!r}, n=10, "
        "quotes=2)` against `search(k=10)` (hybrid), alternating.",
        "",
        "| call | p50 ms | p99 ms | p50 × search |",
        "|---|---|---|---|",
        f"| hybrid search, k=10 | {s50:.2f} | {percentile(search_ms, 99):.2f} | 1.00 |",
        f"| positions, by {args.by} | {p50:.2f} | {percentile(positions_ms, 99):.2f} | {p50 / s50:.2f} |",
        "",
    ]
    print("\n".join(rows))
    if not args.no_write:
        write_section(f"bench_positions.py:{args.by}", rows, "### Positions against search")


if __name__ == "__main__":
    main()
