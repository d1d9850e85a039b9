"""Indexing throughput: local, on a one-node Ray cluster, and on a two-node Ray cluster on loopback.

    python scripts/bench_ray.py [--docs 300]

The first ``--docs`` Kremlin documents are indexed three ways in one run, each by ``fpsearch index`` in a
fresh process exactly as a user runs it: locally (PyTorch, all cores), with ``--ray`` on a head node with
every core, and with ``--ray`` on a head node plus a second node with half the cores each. Wall time
includes loading the model (on every actor), as a user sees it. On one 2-core machine every variant shares the same cores,
so this measures Ray's overhead, not a speed-up that more machines would bring.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import KREMLIN as CORPUS
from harness import free_port


def index_time(sample: Path, out: Path, env: dict, ray_address: str | None) -> float:
    """Wall seconds of ``fpsearch index`` in a fresh process, as a user runs it (model loading included)."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "search", "index", str(sample), "--index", str(out), "--quiet", "--json"]
    if ray_address:
        cmd += ["--ray", ray_address]
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    took = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"fpsearch index failed: {done.stderr.strip()[-500:]}")
    return took


def run_ray(sample: Path, out: Path, nodes: int, cpus: int) -> float:
    exe = shutil.which("ray", path=str(Path(sys.executable).parent)) or "ray"
    port = free_port()
    env = {
        **os.environ,
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(16),
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    temp = f"--temp-dir={tempfile.mkdtemp(prefix='fpsearch-ray-')}"
    common = [f"--num-cpus={cpus}", "--disable-usage-stats", temp]
    subprocess.run(
        [exe, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--include-dashboard=false", *common],
        env=env,
        check=True,
        capture_output=True,
    )
    try:
        for _ in range(nodes - 1):
            subprocess.run(
                [exe, "start", f"--address=127.0.0.1:{port}", "--node-ip-address=127.0.0.1", *common],
                env=env,
                check=True,
                capture_output=True,
            )
        return index_time(sample, out, env, f"127.0.0.1:{port}")
    finally:
        subprocess.run([exe, "stop", "--force"], env=env, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    sample = Path("/tmp/fpsearch-ray-sample.jsonl")
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh, open(sample, "w", encoding="utf-8") as out:
        for n, line in enumerate(fh):
            if n >= args.docs:
                break
            out.write(line)
    work = Path(tempfile.mkdtemp(prefix="fpsearch-ray-bench-"))
    env = {**os.environ}
    local_s = index_time(sample, work / "local", env, None)
    passages = json.loads(
        subprocess.run(
            [sys.executable, "-m", "search", "info", "--index", str(work / "local"), "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )["counts"]["passages"]
    print(f"{passages:,} passages; local build {local_s:.1f} s", flush=True)
    cores = os.cpu_count() or 1
    one = run_ray(sample, work / "one", nodes=1, cpus=cores)
    print(f"one node ({cores} CPUs): {one:.1f} s", flush=True)
    two = run_ray(sample, work / "two", nodes=2, cpus=max(1, cores // 2))
    print(f"two nodes ({max(1, cores // 2)} CPU each): {two:.1f} s", flush=True)
    result = {
        "passages": passages,
        "cores": cores,
        "local_per_s": round(passages / local_s, 1),
        "ray_one_node_per_s": round(passages / one, 1),
        "ray_two_nodes_per_s": round(passages / two, 1),
        "two_nodes_over_one": round(one / two, 2),
        "two_nodes_over_local": round(local_s / two, 2),
    }
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
