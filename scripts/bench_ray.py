"""Embedding throughput: local, a one-node Ray cluster, and a two-node Ray cluster on loopback.

    python scripts/bench_ray.py [--docs 300]

The same passages (the first ``--docs`` Kremlin documents, chunked as `fpsearch index` chunks them) are
embedded three ways in one run: in this process (PyTorch, all cores), through ``RayEmbedder`` on a head
node with every core, and on a head node plus a second node with one core each. Wall time includes the
actors loading the model, as a user sees it. On one 2-core machine every variant shares the same cores,
so this measures Ray's overhead, not a speed-up that more machines would bring.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORPUS = ROOT.parent / "shared" / "corpus" / "kremlin_en.jsonl.gz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ray(texts, spans, nodes: int, cpus: int, model: str) -> float:
    exe = shutil.which("ray", path=str(Path(sys.executable).parent)) or "ray"
    port = free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16), "RAY_USAGE_STATS_ENABLED": "0"}
    os.environ.update({k: env[k] for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")})
    subprocess.run([exe, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", f"--num-cpus={cpus}",
                    "--include-dashboard=false", "--disable-usage-stats"], env=env, check=True, capture_output=True)
    for _ in range(nodes - 1):
        subprocess.run([exe, "start", f"--address=127.0.0.1:{port}", "--node-ip-address=127.0.0.1",
                        f"--num-cpus={cpus}", "--disable-usage-stats"], env=env, check=True, capture_output=True)
    try:
        import ray

        from search.distributed import RayEmbedder

        embedder = RayEmbedder(model, f"127.0.0.1:{port}")
        started = time.perf_counter()
        embedder.embed_passages(texts, spans)
        took = time.perf_counter() - started
        ray.shutdown()
        return took
    finally:
        subprocess.run([exe, "stop", "--force"], env=env, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    from search.chunking import Chunker
    from search.documents import load_documents
    from search.embedding import SentenceTransformerEmbedder

    sample = Path("/tmp/fpsearch-ray-sample.jsonl")
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh, open(sample, "w", encoding="utf-8") as out:
        for n, line in enumerate(fh):
            if n >= args.docs:
                break
            out.write(line)
    local = SentenceTransformerEmbedder("minilm")
    chunker = Chunker(local.counter, max_tokens=200, overlap=1)
    texts, spans = [], []
    for doc in load_documents([sample]):
        for p in chunker.chunk(doc):
            texts.append(p.text)
            spans.append([(a - p.start, b - p.start) for a, b in p.sentences])
    print(f"{len(texts):,} passages", flush=True)
    local.embed_passages(texts[:8], spans[:8])  # load the model first
    started = time.perf_counter()
    local.embed_passages(texts, spans)
    local_s = time.perf_counter() - started
    cores = os.cpu_count() or 1
    one = run_ray(texts, spans, nodes=1, cpus=cores, model="minilm")
    two = run_ray(texts, spans, nodes=2, cpus=max(1, cores // 2), model="minilm")
    result = {
        "passages": len(texts),
        "cores": cores,
        "local_per_s": round(len(texts) / local_s, 1),
        "ray_one_node_per_s": round(len(texts) / one, 1),
        "ray_two_nodes_per_s": round(len(texts) / two, 1),
        "two_nodes_over_one": round(one / two, 2),
        "two_nodes_over_local": round(local_s / two, 2),
    }
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
