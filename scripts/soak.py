"""A bounded loopback soak of `fpsearch serve`: many requests, many connections, mixed valid and invalid.

    python scripts/soak.py --index ~/kremlin-index [--requests 10000] [--connections 32] [--max-seconds 1800]

Starts the server on 127.0.0.1 (a free port), sends ``--requests`` requests from ``--connections``
concurrent connections — about 80% valid searches, document fetches and embeddings, 20% invalid — and
stops at the count or the time limit, whichever comes first. Reports errors on valid requests (must be
0), 5xx (must be 0), latency percentiles, and the server's resident memory at the start, after the first
thousand requests and at the end. Loopback only; nothing else is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

QUERIES = [
    "Kuril Islands position", "gas transit Ukraine", "New START extension", "Nord Stream 2",
    "What did Putin say about a peace treaty with Japan?", "WTO accession", "Caspian Sea legal status",
    "disputed islands north of Hokkaido", "shipping lane along Russia's polar coast", "BRICS bank",
    "economic integration of former Soviet republics", "Syria settlement talks", "visa-free travel",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def make_request(rng: random.Random, doc_ids: list[str]) -> tuple[bool, str, str, dict]:
    """(valid?, method, path, kwargs)"""
    roll = rng.random()
    q = rng.choice(QUERIES)
    if roll < 0.55:
        mode = rng.choice(["hybrid", "hybrid", "dense", "lexical"])
        return True, "GET", "/search", {"params": {"q": q, "k": 10, "mode": mode}}
    if roll < 0.65:
        return True, "POST", "/search", {"json": {"queries": rng.sample(QUERIES, 2), "k": 5}}
    if roll < 0.72:
        return True, "GET", f"/documents/{rng.choice(doc_ids)}", {}
    if roll < 0.80:
        return True, "POST", "/v1/embeddings", {"json": {"input": [q], "model": "default"}}
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
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        hits = (await client.get("/search", params={"q": "Russia", "k": 50, "per_doc": 1})).json()["hits"]
        doc_ids = [h["doc_id"] for h in hits]
        plan = [make_request(rng, doc_ids) for _ in range(total)]
        results: list[tuple[bool, int, float]] = []
        memory = {"start_mb": round(rss_mb(pid), 1)}
        started = time.perf_counter()
        queue: asyncio.Queue = asyncio.Queue()
        for item in plan:
            queue.put_nowait(item)

        async def worker() -> None:
            while not queue.empty() and time.perf_counter() - started < max_seconds:
                valid, method, path, kwargs = queue.get_nowait()
                t0 = time.perf_counter()
                try:
                    r = await client.request(method, path, **kwargs)
                    status = r.status_code
                    if 400 <= status < 500 and "detail" not in r.json():
                        status = 599  # an error without a JSON detail counts as a failure
                except (httpx.HTTPError, ValueError):
                    status = 0
                results.append((valid, status, (time.perf_counter() - t0) * 1000))
                if len(results) == 1000:
                    memory["after_1000_mb"] = round(rss_mb(pid), 1)

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
        memory["end_mb"] = round(rss_mb(pid), 1)
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
        "p50_ms": pct(0.50) if latencies else None,
        "p99_ms": pct(0.99) if latencies else None,
        "median_ms": round(statistics.median(latencies), 1) if latencies else None,
        **memory,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--max-seconds", type=float, default=1800)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--index", str(args.index), "--port", str(port),
         "--log-level", "warning"],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or server.poll() is not None:
                sys.exit("the server did not start")
            time.sleep(0.5)
        result = asyncio.run(soak(base, args.requests, args.connections, args.max_seconds, server.pid, args.seed))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if result["valid_errors"] or result["server_errors_5xx"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
