"""A server under steady load while another process changes its index: `fpsearch serve` on a copy of
``--index``, 32 connections searching (queries it has not seen), and a writer process running
``--cycles`` add/remove cycles (add one document, then remove it) with the same model.

    python scripts/update_while_serving.py --index DIR [--cycles 100] [--connections 32] [--write]

Checks and reports:
- errors: every search must answer 200 (none may fail while generations are published and retired);
- consistency: each answer names the index version (generation) that answered; every hit must exist in
  that generation: a document the writer added shows up only in answers from generations that hold it;
- disk: the index folder's size and its number of generations, sampled every 0.2 s (old generations must
  be cleaned up: at most the live one and the one before it stay);
- memory: the server's RSS at the start, in the middle and at the end.
``--write`` puts the figures in BENCHMARKS.md. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from harness import machine, serving, write_section
from soak import UnseenQueries, describe, rss_mb

ADDED = "while-serving-"


def writer(index: Path, cycles: int, log: Path) -> None:
    """The writing process: each cycle adds one document and removes it again; after each change it
    logs the generation it published and the added documents that generation holds."""
    from search import Document
    from search.indexing import add_documents, remove
    from search.store.embedded import current_generation

    with open(log, "w") as out:

        def published(held: list[str]) -> None:
            out.write(json.dumps({"generation": current_generation(index).name, "holds": held}) + "\n")
            out.flush()

        for n in range(cycles):
            doc_id = f"{ADDED}{n}"
            text = (
                f"Statement {n} on the Kuril Islands and a peace treaty with Japan: the ministers discussed "
                "joint economic activity, gas transit, sanctions and the security of the region."
            )
            add_documents([Document(doc_id=doc_id, title=f"Update {n}", date="2026-01-01", text=text)], index)
            published([doc_id])
            remove([doc_id], index)
            published([])


def disk_use(index: Path) -> tuple[int, int]:
    total, generations = 0, 0
    for path in index.iterdir():
        if path.name.startswith("gen-"):
            generations += 1
        for f in [path] if path.is_file() else path.rglob("*"):
            try:
                total += f.stat().st_size if f.is_file() else 0
            except FileNotFoundError:
                pass  # retired while we looked
    return total, generations


async def load(base: str, connections: int, done: threading.Event, pid: int, seed: int) -> dict:
    rng = random.Random(seed)
    query = UnseenQueries(rng)
    answers: list[tuple[int, str | None, list[str], float]] = []
    failures: list[str] = []  # the first few, to say what went wrong
    memory = {"start_mb": rss_mb(pid)}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def worker() -> None:
            while not done.is_set():
                t0 = time.perf_counter()
                try:
                    r = await client.get("/search", params={"q": query(), "k": 10})
                    body = r.json() if r.status_code == 200 else {}
                    if r.status_code != 200 and len(failures) < 5:
                        failures.append(f"{r.status_code}: {r.text[:300]}")
                    answers.append(
                        (
                            r.status_code,
                            body.get("version"),
                            [h["doc_id"] for h in body.get("hits", [])],
                            (time.perf_counter() - t0) * 1000,
                        )
                    )
                except (httpx.HTTPError, ValueError):
                    answers.append((0, None, [], (time.perf_counter() - t0) * 1000))

        async def middle() -> None:
            while not done.is_set():
                await asyncio.sleep(0.5)
                memory.setdefault("samples", []).append(rss_mb(pid))

        await asyncio.gather(middle(), *(worker() for _ in range(connections)))
    samples = memory.pop("samples", [memory["start_mb"]])
    memory["middle_mb"] = samples[len(samples) // 2]
    memory["end_mb"] = rss_mb(pid)
    return {"answers": answers, "memory": memory, "failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="the index to copy and serve (required)")
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="write the figures into BENCHMARKS.md")
    parser.add_argument("--writer", nargs=3, metavar=("INDEX", "CYCLES", "LOG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer:
        writer(Path(args.writer[0]), int(args.writer[1]), Path(args.writer[2]))
        return
    if args.index is None:
        parser.error("--index is required")
    work = Path(tempfile.mkdtemp(prefix="fpsearch-updates-"))
    index, log = work / "index", work / "published.jsonl"
    shutil.copytree(args.index, index)
    start_generation = (index / "CURRENT").read_text().strip()
    disk: list[tuple[int, int]] = [disk_use(index)]
    try:
        with serving(index) as (base, server):
            done = threading.Event()

            def sample_disk() -> None:
                while not done.is_set():
                    disk.append(disk_use(index))
                    time.sleep(0.2)

            sampler = threading.Thread(target=sample_disk, daemon=True)
            sampler.start()
            started = time.perf_counter()
            proc = subprocess.Popen([sys.executable, __file__, "--writer", str(index), str(args.cycles), str(log)])

            def wait_writer() -> None:
                proc.wait()
                done.set()

            threading.Thread(target=wait_writer, daemon=True).start()
            seen = asyncio.run(load(base, args.connections, done, server.pid, args.seed))
            seconds = time.perf_counter() - started
            sampler.join()
            if proc.returncode:
                sys.exit(f"the writer failed (exit {proc.returncode})")
        holds = {start_generation: set()}
        for line in log.read_text().splitlines():
            entry = json.loads(line)
            holds[entry["generation"]] = set(entry["holds"])
        # generation numbers are reused only after the one before was retired, never while the writer
        # runs; an answer from a generation the log does not know of would be an error too
        answers = seen["answers"]
        errors = sum(1 for status, *_ in answers if status != 200)
        unknown = sum(1 for status, version, *_ in answers if status == 200 and version not in holds)
        inconsistent = sum(
            1
            for status, version, ids, _ in answers
            if status == 200 and version in holds and any(d.startswith(ADDED) and d not in holds[version] for d in ids)
        )
        with_added = sum(1 for status, _, ids, _ in answers if status == 200 and any(d.startswith(ADDED) for d in ids))
        latencies = sorted(a[3] for a in answers)
        result = {
            "cycles": args.cycles,
            "changes": 2 * args.cycles,
            "seconds": round(seconds, 1),
            "searches": len(answers),
            "errors": errors,
            "unknown_version": unknown,
            "inconsistent": inconsistent,
            "answers_with_an_added_document": with_added,
            "versions_seen": len({a[1] for a in answers if a[0] == 200}),
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))], 1) if latencies else None,
            "disk_start_mb": round(disk[0][0] / 2**20, 1),
            "disk_max_mb": round(max(d[0] for d in disk) / 2**20, 1),
            "disk_end_mb": round(disk_use(index)[0] / 2**20, 1),
            "generations_max": max(d[1] for d in disk),
            "generations_end": disk_use(index)[1],
            **seen["memory"],
            "first_failures": seen["failures"],
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))
    if args.write:
        write_section(
            "update_while_serving.py",
            render(result, args),
            "### Updates while serving (`scripts/update_while_serving.py`)",
        )
    if errors or unknown or inconsistent or result["generations_end"] > 2:
        sys.exit(1)


def render(r: dict, args) -> list[str]:
    return [
        "",
        f"_`python scripts/update_while_serving.py --index {args.index.name} --cycles {r['cycles']}` on "
        f"{time.strftime('%Y-%m-%d')}: {machine()}, Python {platform.python_version()}; an index of {describe(args.index)}; {args.connections} "
        "connections searching._",
        "",
        f"**{r['changes']} changes** ({r['cycles']} add/remove cycles by another process) in {r['seconds']} s, "
        f"under **{r['searches']:,} searches** (queries none repeated): **{r['errors']} errors**, "
        f"**{r['inconsistent']} answers with a hit their generation does not hold** and {r['unknown_version']} "
        f"from an unknown generation; {r['answers_with_an_added_document']:,} answers held a document added "
        f"meanwhile, from {r['versions_seen']} generations in all. Latency p50 {r['p50_ms']} ms, p99 "
        f"{r['p99_ms']} ms.",
        "",
        f"Disk: {r['disk_start_mb']} MB at the start, at most {r['disk_max_mb']} MB (a change writes a new "
        f"generation beside the live one), {r['disk_end_mb']} MB at the end; at most {r['generations_max']} "
        f"generation folders at a time, {r['generations_end']} at the end (the live one and the one before it). "
        f"Server memory (RSS): {r['start_mb']:.0f} MB at the start, {r['middle_mb']:.0f} MB in the middle, "
        f"{r['end_mb']:.0f} MB at the end.",
        "",
    ]


if __name__ == "__main__":
    main()
