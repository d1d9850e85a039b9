"""A loopback soak of `fpsearch serve` as it runs today (searches answered in batches on the server's
own threads): many requests, many connections, mixed valid and invalid, over queries it has not seen.

    python scripts/soak.py --index DIR [--requests 100000] [--connections 32] [--max-seconds 3600] [--write]

Starts the server on 127.0.0.1 (a free port) and sends ``--requests`` requests from ``--connections``
concurrent connections: about 80% valid (searches in every mode, batches of queries, document fetches,
embeddings), 20% invalid. Every search query is new (words of the field drawn at random, never the
same twice), so no answer comes from the server's remembered results. Stops at the count or the time
limit. Reports errors on valid requests (must be 0), 5xx (must be 0), latency p50/p99, and the server's
resident memory at the start, every 10,000 requests and at the end; ``--write`` puts it in
BENCHMARKS.md. Loopback only; nothing else is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import httpx
from harness import machine, serving, write_section

# Words of the field, combined at random into queries a server has not seen.
VOCABULARY = """
Kuril Islands peace treaty Japan Russia China United States Ukraine gas transit pipeline Nord Stream
sanctions Crimea Syria Iran nuclear programme NATO enlargement missile defence arms control New START
Arctic shipping route Caspian Sea oil prices OPEC trade tariffs WTO accession visa regime Schengen
energy security Europe Germany France Britain India Brazil BRICS bank Shanghai Cooperation Organisation
terrorism Afghanistan Kosovo Serbia Georgia South Ossetia Abkhazia Belarus union state Kazakhstan
Eurasian Economic Union customs integration summit talks negotiations minister visit president prime
cooperation investment border security military exercises navy fleet Black Sea Baltic Kaliningrad
human rights elections democracy sovereignty territorial integrity United Nations Security Council
resolution veto climate agreement Paris emissions space station satellite cyber attacks disinformation
refugees migration humanitarian aid ceasefire Minsk agreements Donbass Korea peninsula denuclearisation
""".split()


class UnseenQueries:
    """Queries of two to five words of ``VOCABULARY``, each one new."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def __call__(self) -> str:
        while True:
            q = " ".join(self.rng.sample(VOCABULARY, self.rng.randint(2, 5)))
            if q not in self.seen:
                self.seen.add(q)
                return q


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def describe(index: Path) -> str:
    """``N documents, M passages`` of the index's live generation."""
    gen = (index / "CURRENT").read_text().strip()
    counts = json.loads((index / gen / "manifest.json").read_text())["counts"]
    return f"{counts['documents']:,} documents, {counts['passages']:,} passages"


def make_request(rng: random.Random, query, doc_ids: list[str]) -> tuple[bool, str, str, dict]:
    """(valid?, method, path, kwargs)"""
    roll = rng.random()
    if roll < 0.55:
        mode = rng.choice(["hybrid", "hybrid", "dense", "lexical"])
        return True, "GET", "/search", {"params": {"q": query(), "k": 10, "mode": mode}}
    if roll < 0.65:
        return True, "POST", "/search", {"json": {"queries": [query(), query()], "k": 5}}
    if roll < 0.72:
        return True, "GET", f"/documents/{rng.choice(doc_ids)}", {}
    if roll < 0.80:
        return True, "POST", "/v1/embeddings", {"json": {"input": [query()], "model": "default"}}
    q = query()
    bad = [
        ("GET", "/search", {"params": {"q": ""}}),
        ("GET", "/search", {"params": {"q": q, "k": 0}}),
        ("GET", "/search", {"params": {"q": q, "mode": "nope"}}),
        ("GET", "/search", {"params": {"q": "x" * 5000}}),
        ("GET", "/documents/no-such-document", {}),
        ("POST", "/search", {"content": b"{broken", "headers": {"content-type": "application/json"}}),
        ("POST", "/v1/embeddings", {"json": {"input": [], "model": "default"}}),
        ("GET", "/search", {"params": {"q": '"NEAR( AND *', "since": "tomorrow"}}),
    ]
    method, path, kwargs = rng.choice(bad)
    return False, method, path, kwargs


async def soak(base: str, total: int, connections: int, max_seconds: float, pid: int, seed: int) -> dict:
    rng = random.Random(seed)
    query = UnseenQueries(rng)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        hits = (await client.get("/search", params={"q": "Russia", "k": 50, "per_doc": 1})).json()["hits"]
        doc_ids = [h["doc_id"] for h in hits]
        results: list[tuple[bool, int, float]] = []
        memory = [{"requests": 0, "rss_mb": rss_mb(pid)}]
        started = time.perf_counter()
        sent = 0

        async def worker() -> None:
            nonlocal sent
            while sent < total and time.perf_counter() - started < max_seconds:
                sent += 1
                valid, method, path, kwargs = make_request(rng, query, doc_ids)
                t0 = time.perf_counter()
                try:
                    r = await client.request(method, path, **kwargs)
                    status = r.status_code
                    if 400 <= status < 500 and "detail" not in r.json():
                        status = 599  # an error without a JSON detail counts as a failure
                except (httpx.HTTPError, ValueError):
                    status = 0
                results.append((valid, status, (time.perf_counter() - t0) * 1000))
                if len(results) % 10_000 == 0:
                    memory.append({"requests": len(results), "rss_mb": rss_mb(pid)})

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
        if memory[-1]["requests"] != len(results):
            memory.append({"requests": len(results), "rss_mb": rss_mb(pid)})
    valid = [r for r in results if r[0]]
    latencies = sorted(r[2] for r in valid)
    pct = lambda p: round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)  # noqa: E731
    return {
        "requests": len(results),
        "seconds": round(elapsed, 1),
        "requests_per_second": round(len(results) / elapsed, 1),
        "connections": connections,
        "valid": len(valid),
        "valid_errors": sum(1 for r in valid if r[1] != 200),
        "invalid": len(results) - len(valid),
        "invalid_answered_4xx": sum(1 for r in results if not r[0] and 400 <= r[1] < 500),
        "server_errors_5xx": sum(1 for r in results if r[1] >= 500 or r[1] == 0),
        "distinct_queries": len(query.seen),
        "p50_ms": pct(0.50) if latencies else None,
        "p99_ms": pct(0.99) if latencies else None,
        "median_ms": round(statistics.median(latencies), 1) if latencies else None,
        "memory": memory,
    }


def render(result: dict, index: Path) -> list[str]:
    r = result
    at = lambda n: next((m["rss_mb"] for m in r["memory"] if m["requests"] >= n), r["memory"][-1]["rss_mb"])  # noqa: E731
    rows = " · ".join(f"{m['requests']:,}: {m['rss_mb']:.0f} MB" for m in r["memory"])
    return [
        "",
        f"_`python scripts/soak.py --index {index.name} --requests {r['requests']}` on {time.strftime('%Y-%m-%d')}: "
        f"{machine()}, Python {platform.python_version()}; an index of {describe(index)}; {r['connections']} connections._",
        "",
        f"**{r['requests']:,} requests** in {r['seconds']:,} s ({r['requests_per_second']} requests/s): "
        f"{r['valid']:,} valid (searches in every mode over {r['distinct_queries']:,} queries none of them "
        f"repeated, batches, document fetches, embeddings) and {r['invalid']:,} invalid. "
        f"**{r['valid_errors']} errors on valid requests, {r['server_errors_5xx']} 5xx**; "
        f"{r['invalid_answered_4xx']:,} of the invalid ones answered 4xx with a JSON detail. "
        f"Latency p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms (queueing behind {r['connections']} connections).",
        "",
        f"Server memory (RSS): {r['memory'][0]['rss_mb']:.0f} MB at the start, {at(10_000):.0f} MB after "
        f"10,000 requests, {r['memory'][-1]['rss_mb']:.0f} MB at the end. By request count: {rows}.",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--max-seconds", type=float, default=3600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--write", action="store_true", help="write the figures into BENCHMARKS.md")
    args = parser.parse_args()
    with serving(args.index) as (base, server):
        result = asyncio.run(soak(base, args.requests, args.connections, args.max_seconds, server.pid, args.seed))
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if args.write:
        write_section("soak.py", render(result, args.index), "### Soak (`scripts/soak.py`)")
    if result["valid_errors"] or result["server_errors_5xx"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
