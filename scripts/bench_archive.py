"""The full archive on this machine, end to end: build it (resumably), then serve it and measure.

    python scripts/bench_archive.py [--index build/archive] [--build-only | --serve-only] [--no-write]

1. **Build**: ``fpsearch index`` of the three corpora in ``../shared/corpus`` (Kremlin, White House
   briefings, UN General Debate; 440,907 passages) into ``--index``, in this process. It takes hours
   on 2 cores and may be stopped at any point: run the same command again and it resumes from the
   embedding checkpoints; once it is published, the script only measures it. Each run's wall time,
   passages embedded and peak memory (this process's VmHWM) are kept in ``INDEX.runs.json`` beside
   the index as the run goes (a run that is killed still counts), so the totals cover every run it
   took. A run paused by hand (SIGSTOP, to free the CPU) counts its pause in its wall and embedding
   seconds; note it as ``paused_seconds`` in that run's entry and the totals leave it out.
2. **Serve** (once the index is published): ``fpsearch serve`` on loopback, then, from one sequential
   client, hybrid ``/search`` (k=10) over queries the server has not seen (the Kremlin dev queries,
   then document titles of all three corpora) for p50/p99; 32 connections of other unseen hybrid
   queries for ``--seconds`` (wrk when installed) for requests/s; and the server's peak memory.
   Then ``positions`` (by speaker and by ``country_iso3``) against a hybrid search in the library, as
   ``scripts/bench_positions.py`` measures it.

Both parts write their figures into BENCHMARKS.md ("Full archive"), with the machine they ran on.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

from bench import http_sequential, load_queries, run_load, summary, vm_hwm_mb
from bench_positions import measure, percentile
from harness import KREMLIN_DEV, ROOT, SHARED, machine, serving, stamp, write_section

from search import Engine, build
from search.store import index_exists

CORPORA = [
    SHARED / "corpus" / name
    for name in ("kremlin_en.jsonl.gz", "whitehouse_briefings.jsonl.gz", "ungdc_1946_2024.jsonl.gz")
]


LEDGER_EVERY = 60.0  # seconds between updates of a run's entry in the ledger


def runs_file(index: Path) -> Path:
    return index.with_name(index.name + ".runs.json")


def build_archive(index: Path, corpora: list[Path]) -> dict:
    """Build (or resume) the archive; this run's figures, kept in the ledger beside the index as it goes
    (every ``LEDGER_EVERY`` seconds), so a run that is killed still counts what it took and did."""
    started = time.perf_counter()
    ledger = runs_file(index)
    earlier = json.loads(ledger.read_text()) if ledger.exists() else []
    run = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(), "finished": False}
    state = {"embedded": 0, "embed_seconds": 0.0, "written": 0.0}

    def keep(finished: dict | None = None) -> None:
        run.update(finished or {"embedded": state["embedded"], "embed_seconds": round(state["embed_seconds"], 1)})
        run["wall_seconds"] = round(time.perf_counter() - started, 1)
        run["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        tmp = ledger.with_suffix(".tmp")
        tmp.write_text(json.dumps([*earlier, run], indent=2) + "\n")
        tmp.replace(ledger)

    def progress(update) -> None:
        if update.stage == "embedding":
            state["embedded"] = round(update.per_second * update.seconds)
            state["embed_seconds"] = update.seconds
        if time.perf_counter() - state["written"] >= LEDGER_EVERY:
            state["written"] = time.perf_counter()
            keep()
            print(f"{update.stage}: {update.done:,} of {update.total or 0:,}, {update.per_second:.1f}/s", flush=True)

    report = build(corpora, index, progress=progress)
    keep(
        {
            "finished": True,
            "embedded": report.embedded,
            "resumed": report.resumed,
            "embed_seconds": round(report.embed_seconds, 1),
            "passages": report.passages,
            "documents": report.documents,
        }
    )
    return run


def build_rows(index: Path) -> list[str]:
    runs = json.loads(runs_file(index).read_text()) if runs_file(index).exists() else []
    if not runs:
        return []
    final = runs[-1]
    if not final.get("finished", True):
        return []  # not built yet
    paused = sum(r.get("paused_seconds", 0.0) for r in runs)
    wall = sum(r["wall_seconds"] for r in runs) - paused
    embedded = sum(r["embedded"] for r in runs)
    embed_seconds = sum(r["embed_seconds"] for r in runs) - paused
    machines = sorted({r["machine"] for r in runs})
    return [
        f"**Build** (`fpsearch index` of the three corpora, {len(runs)} run{'s' if len(runs) > 1 else ''} "
        f"on {', '.join(machines)}): {final['documents']:,} documents, {final['passages']:,} passages; "
        f"wall time {duration(wall)} in all"
        + (f" (less {duration(paused)} a run was paused with SIGSTOP)" if paused else "")
        + f", {embedded:,} passages embedded in {duration(embed_seconds)} "
        f"({embedded / embed_seconds if embed_seconds else 0:.1f} passages/s); peak memory "
        f"{max(r['peak_mb'] for r in runs):,.0f} MB.",
        "",
    ]


def duration(seconds: float) -> str:
    """``4 h 52 min``, ``12 min 5 s`` or ``15 s``."""
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def serve_rows(index: Path, corpora: list[Path], queries: int, connections: int, seconds: float) -> list[str]:
    unseen: list[str] = []
    for corpus in corpora:  # the dev queries, then titles of each corpus in turn
        for q in load_queries(corpus, queries, seed=7):
            if q not in unseen:
                unseen.append(q)
    unseen = unseen[:queries]
    load = list(dict.fromkeys(q for corpus in corpora for q in load_queries(corpus, 3000, seed=11)))
    with serving(index) as (base, proc):
        hybrid = summary(http_sequential(base, "/search", [{"q": q, "k": 10} for q in unseen]))
        loaded = run_load(base, "/search", [{"q": q, "k": 10} for q in load if q not in unseen], connections, seconds)
        peak = vm_hwm_mb(proc.pid)
    rows = [
        f"**Serving** (`fpsearch serve`, loopback): hybrid `/search` (k=10) from one client over {hybrid['n']} "
        f"queries it had not seen: p50 **{hybrid['p50']} ms**, p99 {hybrid['p99']} ms. {connections} connections "
        f"for {loaded['seconds']} s of unseen hybrid queries ({loaded['generator']}): **"
        f"{loaded['requests_per_second']} requests/s**, {loaded['requests']:,} requests, {loaded['errors']} "
        f"errors, p50 {loaded['p50']} ms, p99 {loaded['p99']} ms. Server peak memory (VmHWM) {peak:,.0f} MB.",
        "",
        "**Positions** (the library, preloaded, as `scripts/bench_positions.py` measures it: the Kremlin dev "
        "queries × 3 rounds, query vectors embedded beforehand, each call beside a hybrid search of the same "
        "query):",
        "",
        "| call | p50 ms | p99 ms | p50 × search |",
        "|---|---|---|---|",
    ]
    dev = [json.loads(line)["text"] for line in (KREMLIN_DEV / "queries.jsonl").read_text().splitlines() if line]
    engine = Engine.open(index)
    for by in ("speaker", "country_iso3"):
        search_ms, positions_ms = measure(engine, dev, by, 3)
        s50, p50 = statistics.median(search_ms), statistics.median(positions_ms)
        rows.append(f"| hybrid search, k=10 (beside by {by}) | {s50:.1f} | {percentile(search_ms, 99):.1f} | 1.00 |")
        rows.append(f"| positions, by {by} | {p50:.1f} | {percentile(positions_ms, 99):.1f} | {p50 / s50:.2f} |")
    return [*rows, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "build" / "archive")
    parser.add_argument("--build-only", action="store_true", help="build (or resume) and stop")
    parser.add_argument("--serve-only", action="store_true", help="measure a built index")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        help="these corpora instead of the three (a quick check; implies --no-write)",
    )
    args = parser.parse_args()
    corpora = args.corpus or CORPORA
    args.no_write = args.no_write or bool(args.corpus)
    missing = [str(c) for c in corpora if not c.exists()]
    if missing:
        raise SystemExit(f"the corpora are not there: {', '.join(missing)}")
    if index_exists(args.index):
        print(f"{args.index} is built (building again would start over): measuring it", flush=True)
    elif not args.serve_only:
        print(json.dumps(build_archive(args.index, corpora)), flush=True)
    rows = ["", stamp("bench_archive.py"), ""] + build_rows(args.index)
    if not args.build_only:
        if not index_exists(args.index):
            raise SystemExit(f"no index at {args.index}: build it first")
        rows += serve_rows(args.index, corpora, args.queries, args.connections, args.seconds)
    print("\n".join(rows))
    if not args.no_write:
        write_section("bench_archive.py", rows, "## Full archive")


if __name__ == "__main__":
    main()
