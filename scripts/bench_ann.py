"""ANN against exact search on real passage vectors: recall@10 and the speed-up, per nprobe.

    python scripts/bench_ann.py --index ~/archive-index          # the vectors of a built index
    python scripts/bench_ann.py --vectors vectors.npy            # or a saved (n × d) float32 array

Queries are held-out passage vectors (removed from the database, seeded), so every query has true
neighbours but never itself. The baseline — exact inner-product search (``IndexFlatIP``) — runs in the
same process on the same database; each ANN setting reports recall@10 against it, the median
single-query latency, and the ratio of the exact median to its own. The inverted file is built the way
``fpsearch`` builds it (``search.store.vectors``: nlist ≈ 4·√n, trained on a seeded 100k sample).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import faiss
import numpy as np
from harness import machine

from search.store.vectors import TRAIN_SAMPLE, nlist_for


def load(args) -> np.ndarray:
    if args.vectors:
        return np.load(args.vectors, mmap_mode="r").astype(np.float32)
    from search.store import EmbeddedStore

    store = EmbeddedStore.open(args.index)
    _, vecs = store.vectors.all_vectors()
    return vecs


def single_query_ms(index: faiss.Index, queries: np.ndarray, k: int, params=None, repeat: int = 1) -> list[float]:
    times = []
    for _ in range(repeat):
        for q in queries:
            started = time.perf_counter()
            index.search(q[None, :], k, params=params)
            times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--index", type=Path)
    src.add_argument("--vectors", type=Path)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--timed", type=int, default=300, help="queries timed one at a time")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--nprobe", type=int, nargs="+", default=[4, 8, 16, 32, 64, 128])
    parser.add_argument("--nlist", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    faiss.omp_set_num_threads(args.threads)
    vectors = load(args)
    n, d = vectors.shape
    rng = np.random.default_rng(args.seed)
    held = rng.choice(n, size=args.queries, replace=False)
    mask = np.ones(n, dtype=bool)
    mask[held] = False
    queries = np.ascontiguousarray(vectors[held])
    db = np.ascontiguousarray(vectors[mask])
    k = 10
    print(
        f"{len(db):,} database vectors of dimension {d}, {len(queries)} held-out queries, {args.threads} threads",
        flush=True,
    )

    exact = faiss.IndexFlatIP(d)
    exact.add(db)
    started = time.perf_counter()
    _, truth = exact.search(queries, k)
    exact_batch_s = time.perf_counter() - started
    timed = queries[: args.timed]
    exact_ms = statistics.median(single_query_ms(exact, timed, k))
    print(
        f"exact: median {exact_ms:.2f} ms/query one at a time; batch of {len(queries)}: {exact_batch_s:.2f} s",
        flush=True,
    )

    nlist = args.nlist or nlist_for(len(db))
    quantizer = faiss.IndexFlatIP(d)
    ivf = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.seed = args.seed
    sample = db[rng.choice(len(db), size=min(len(db), TRAIN_SAMPLE), replace=False)]
    started = time.perf_counter()
    ivf.train(np.ascontiguousarray(sample))
    train_s = time.perf_counter() - started
    started = time.perf_counter()
    ivf.add(db)
    add_s = time.perf_counter() - started
    print(f"IVF{nlist},Flat: trained in {train_s:.1f} s on {len(sample):,}, added in {add_s:.1f} s", flush=True)

    rows = []
    for nprobe in args.nprobe:
        params = faiss.SearchParametersIVF(nprobe=min(nprobe, nlist))
        _, found = ivf.search(queries, k, params=params)
        recall = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(found, truth)]))
        ms = statistics.median(single_query_ms(ivf, timed, k, params))
        rows.append(
            {
                "nprobe": nprobe,
                "recall@10": round(recall, 4),
                "median_ms": round(ms, 3),
                "speedup": round(exact_ms / ms, 1),
            }
        )
        print(
            f"nprobe {nprobe:>4}: recall@10 {recall:.4f}  median {ms:.3f} ms  speed-up {exact_ms / ms:.1f}x", flush=True
        )
    result = {
        "vectors": len(db),
        "dimension": d,
        "queries": len(queries),
        "threads": args.threads,
        "machine": f"{machine()}, {faiss.omp_get_max_threads()} threads",
        "faiss": faiss.__version__,
        "exact_median_ms": round(exact_ms, 3),
        "nlist": nlist,
        "train_s": round(train_s, 1),
        "ivf": rows,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
