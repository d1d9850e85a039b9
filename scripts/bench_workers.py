"""How many ``fpsearch serve`` workers a small machine should run: the load part of ``bench.py`` on an
existing index, once per worker count, in one process.

    python scripts/bench_workers.py --index ~/kremlin-index [--workers 1 2 3] [--seconds 30]

For each worker count: a server on loopback, one sequential client over the queries (hybrid, k=10), then
32 connections of hybrid queries for ``--seconds`` (requests/s, errors, p50/p99), and the peak resident
memory summed over the server's processes. The first worker count is the baseline of the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import (  # noqa: E402
    CORPUS,
    free_port,
    http_load,
    http_sequential,
    load_queries,
    stop,
    summary,
    vm_hwm_mb,
    wait_ready,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    queries = load_queries(CORPUS, args.queries, 0)
    params = [{"q": q, "k": 10, "mode": "hybrid"} for q in queries]
    rows = []
    for workers in args.workers:
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "search",
                "serve",
                "--index",
                str(args.index),
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            env={**os.environ},
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base + "/health", server)
            http_sequential(base, "/search", params[:20])  # every worker warm
            one = summary(http_sequential(base, "/search", params))
            load = asyncio.run(http_load(base, "/search", params, args.connections, args.seconds))
            rows.append({"workers": workers, "one_client": one, "load": load, "peak_rss_mb": vm_hwm_mb(server.pid)})
        finally:
            stop(server)
        print(json.dumps(rows[-1]), flush=True)
    base_rps = rows[0]["load"]["requests_per_second"]
    print(
        "| workers | one client p50 / p99 ms | 32 connections: requests/s | vs 1st | errors | p50 / p99 ms | peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        o, ld = r["one_client"], r["load"]
        print(
            f"| {r['workers']} | {o['p50']} / {o['p99']} | {ld['requests_per_second']} | "
            f"{ld['requests_per_second'] / base_rps:.2f}× | {ld['errors']} | {ld['p50']} / {ld['p99']} | {r['peak_rss_mb']} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
