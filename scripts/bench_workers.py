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
import subprocess
from pathlib import Path

from bench import CORPUS, http_load, http_sequential, load_queries, summary, vm_hwm_mb
from harness import start_server, stop


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
        server, base = start_server(args.index, "--workers", str(workers), stderr=subprocess.DEVNULL)
        try:
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
