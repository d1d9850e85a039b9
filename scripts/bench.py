"""fpsearch against txtai on the same passages, model and machine, in one run.

    python scripts/bench.py [--quick] [--json out.json] [--write BENCHMARKS.md]

Measures, with every figure next to its baseline from the same process:

1. indexing: ``fpsearch index`` of the corpus end to end, each embedding part (2,048 passages) paired
   with raw float32 ``SentenceTransformer.encode`` of the same texts just before or just after it (the
   baseline; the machine's speed drifts over a whole pass), then one whole raw ``encode`` of all the
   passages, then txtai ``Embeddings.index`` of them (bundled all-MiniLM-L6-v2, hybrid, content stored),
   each batch it embeds paired with raw ``encode`` the same way, so the two builds compare through
   their baselines however the machine drifts between them;
2. query latency p50/p95/p99, k=10: the floor (one PyTorch query embedding on 1 thread + exact FAISS over
   the same vectors), the fpsearch library per mode, txtai's library (dense and hybrid), then HTTP
   ``/search`` of ``fpsearch serve`` (a fresh server per mode, so no query is remembered) and of
   txtai's API from one sequential client;
3. load: 32 connections for 30 s of hybrid queries against each server, twice: queries the server has
   never seen (thousands of distinct titles: every request embeds and searches), then the 200
   latency queries again and again (what fpsearch remembers: embeddings and result lists). wrk is the
   load generator when installed (``apt install wrk``), else an asyncio httpx client;
4. peak resident memory (VmHWM) of each server process.

``--reuse DIR`` searches the indexes kept by an earlier ``--keep DIR`` run and skips part 1. txtai's
side needs ``pip install 'txtai[api]'`` (its server); ``--skip-txtai`` leaves it out.

The full run uses the whole Kremlin corpus (about 90 minutes on 2 cores, most of it five embedding
passes: the build and raw encode beside it, raw encode whole, txtai and raw encode beside it);
``--quick`` uses its first 150 documents. Loopback only; every load is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from harness import KREMLIN, KREMLIN_DEV, free_port, machine, start_server, stop, wait_ready, write_section

# TOKENIZERS_PARALLELISM is left as users have it: ``fpsearch index`` tokenizes with every core
# while it chunks (the server turns it off for itself).

CORPUS = KREMLIN
DEV_QUERIES = KREMLIN_DEV / "queries.jsonl"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))], 2)


def summary(values: list[float]) -> dict:
    return {"p50": pct(values, 0.50), "p95": pct(values, 0.95), "p99": pct(values, 0.99), "n": len(values)}


def timed(fn, queries: list[str]) -> list[float]:
    out = []
    for q in queries:
        started = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - started) * 1000)
    return out


def vm_hwm_mb(pid: int) -> float:
    """VmHWM of a process and its children (uvicorn's workers are children of the supervisor)."""
    total = 0.0
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return round(total, 1)


def http_sequential(base: str, path: str, params: list[dict]) -> list[float]:
    """One client, one request at a time. The warm-up uses queries of its own, so every measured
    request is the server's first sight of its query (no remembered embedding or result)."""
    out = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for n in range(3):
            client.get(path, params={**params[0], "q": f"warm up {n}", "query": f"warm up {n}"})
        for p in params:
            started = time.perf_counter()
            r = client.get(path, params=p)
            out.append((time.perf_counter() - started) * 1000)
            r.raise_for_status()
    return out


async def http_load(base: str, path: str, params: list[dict], connections: int, seconds: float) -> dict:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def worker(n: int) -> None:
            nonlocal errors
            i = n
            while time.perf_counter() - started < seconds:
                t0 = time.perf_counter()
                try:
                    r = await client.get(path, params=params[i % len(params)])
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - t0) * 1000)
                errors += not ok
                i += connections

        await asyncio.gather(*(worker(n) for n in range(connections)))
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 1),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        **summary(latencies),
    }


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


WRK_TIMEOUT = 30  # seconds a load request may take before wrk counts it an error


def wrk_load(base: str, path: str, params: list[dict], connections: int, seconds: float) -> dict:
    """The same load through wrk (C, one thread): the generator costs the server's 2 cores next to
    nothing, where the Python client takes a share of them. Requests go through ``params`` in order.
    A request may take up to ``WRK_TIMEOUT`` seconds: at wrk's default of 2 s a slow answer counts as an
    error and its connection is dropped while the server still computes it, which on a large index (the
    full archive) left a server busy with abandoned requests and 128 of 129 "errors"."""
    from urllib.parse import urlencode

    targets = [path + "?" + urlencode(p, doseq=True) for p in params]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write("local targets = {" + ",".join(json.dumps(t) for t in targets) + "}\n")
        fh.write(
            "local n = 0\nrequest = function()\n  n = n + 1\n"
            "  return wrk.format('GET', targets[((n - 1) % #targets) + 1])\nend\n"
        )
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", f"--timeout={WRK_TIMEOUT}s", "--latency"]
            + ["-s", fh.name, base],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        ).stdout
    finally:
        os.unlink(fh.name)
    pcts = {
        int(m[1]): float(m[2]) * _WRK_UNITS[m[3]]
        for m in re.finditer(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    }
    done = re.search(r"(\d+) requests in ([\d.]+)(ms|s)", out)
    requests, elapsed = int(done[1]), float(done[2]) * _WRK_UNITS[done[3]] / 1000
    errors = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors += sum(int(x) for x in socket.groups()) if socket else 0
    return {
        "requests": requests,
        "errors": errors,
        "seconds": round(elapsed, 1),
        "generator": "wrk",
        "requests_per_second": round(requests / elapsed, 1),
        "p50": round(pcts[50], 1),
        "p95": None,
        "p99": round(pcts[99], 1),
        "distinct_queries": len({json.dumps(p) for p in params}),
    }


def run_load(base: str, path: str, params: list[dict], connections: int, seconds: float) -> dict:
    """wrk when it is installed (``apt install wrk``), else the asyncio httpx client."""
    if shutil.which("wrk"):
        return wrk_load(base, path, params, connections, seconds)
    row = asyncio.run(http_load(base, path, params, connections, seconds))
    return {**row, "generator": "httpx", "distinct_queries": len({json.dumps(p) for p in params})}


def load_queries(corpus: Path, n: int, seed: int) -> list[str]:
    """The dev queries, then document titles as further realistic queries (distinct, seeded)."""
    queries = [json.loads(line)["text"] for line in DEV_QUERIES.read_text().splitlines() if line.strip()]
    titles = []
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        for line in fh:
            title = json.loads(line).get("title") or ""
            if 15 < len(title) < 120:
                titles.append(re.sub(r"\s+", " ", title))
    random.Random(seed).shuffle(titles)
    for t in titles:
        if len(queries) >= n:
            break
        if t not in queries:
            queries.append(t)
    return queries[:n]


def sample_corpus(corpus: Path, docs: int | None, out: Path) -> Path:
    if docs is None:
        return corpus
    with gzip.open(corpus, "rt", encoding="utf-8") as fh, open(out, "w", encoding="utf-8") as w:
        for n, line in enumerate(fh):
            if n >= docs:
                break
            w.write(line)
    return out


def raw_encode(raw, texts: list[str]) -> float:
    """Seconds raw ``SentenceTransformer.encode`` takes over ``texts``, batched as fpsearch batches."""
    started = time.perf_counter()
    raw.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    return time.perf_counter() - started


class _Enough(Exception):
    """Raised from inside the build once the parts asked for are timed."""


@dataclass
class Pairs:
    """Parts of a run, each timed beside raw ``encode`` of the same texts: raw runs just before the
    part on odd parts and just after it on even ones, so each pair is timed within a minute or two."""

    raw: Any
    part: str  # what each progress line calls a part ("part") and the run timed ("build")
    run: str
    raw_s: list[float] = field(default_factory=list)  # raw encode of each part's texts
    part_s: list[float] = field(default_factory=list)  # the run's own time on each part

    def time(self, texts: list[str], step: Callable[[], Any]) -> Any:
        """Run ``step`` (the run's work on ``texts``) beside raw encode of ``texts``; its result."""
        raw_first = len(self.raw_s) % 2 == 0
        if raw_first:
            self.raw_s.append(raw_encode(self.raw, texts))
        started = time.perf_counter()
        result = step()
        self.part_s.append(time.perf_counter() - started)
        if not raw_first:
            self.raw_s.append(raw_encode(self.raw, texts))
        print(
            f"{self.part} {len(self.raw_s)}: {len(texts):,} passages, raw {len(texts) / self.raw_s[-1]:.1f}, "
            f"{self.run} {len(texts) / self.part_s[-1]:.1f} passages/s",
            flush=True,
        )
        return result


@dataclass
class PairedBuild:
    """A build timed part by part against raw ``encode`` of the same texts (see ``paired_build``)."""

    report: Any  # the build's report; None when stopped after the parts asked for
    passages: list[str]  # the texts of the parts embedded, in the build's order
    pairs: Pairs  # raw encode of each part's texts, and the build's own embedding of it
    build_s: float  # the build's wall time less the raw runs inside it


def paired_build(corpus: Path, index: Path, raw, parts: int | None = None) -> PairedBuild:
    """``build`` of ``corpus`` into ``index`` as ``fpsearch index`` runs it, each embedding part
    (2,048 passages) paired with raw ``encode`` of the same texts, run just before that part on odd
    parts and just after it on even ones; stopped after ``parts`` parts when given.

    Each pair is timed within a minute or two on the same passages: this VM's speed swings 10–20%
    over the ~11 minutes a whole pass takes, more than the overhead being measured. The build's time
    is its wall time less the raw runs inside it, so reading, chunking and writing count against it."""
    from search import build
    from search.documents import load_documents
    from search.embedding import SentenceTransformerEmbedder

    ours_part = SentenceTransformerEmbedder.embed_passages
    pairs = Pairs(raw, "part", "build")
    out = PairedBuild(None, [], pairs, 0.0)

    def paired(self, texts, spans, batch_size=32, progress=None):
        vectors = pairs.time(
            list(texts), lambda: ours_part(self, texts, spans, batch_size=batch_size, progress=progress)
        )
        out.passages.extend(texts)
        if parts is not None and len(pairs.raw_s) >= parts:
            raise _Enough
        return vectors

    # Warm raw encode up first (its first batches of each length run slower), on texts of every
    # length cut from the corpus's first document, so neither side's first part pays for it alone.
    words = next(iter(load_documents([corpus]))).text.split()
    raw_encode(raw, [" ".join(words[: n * 4]) for n in range(1, 65)])
    shutil.rmtree(index, ignore_errors=True)
    SentenceTransformerEmbedder.embed_passages = paired
    started = time.perf_counter()
    try:
        out.report = build([corpus], index)
    except _Enough:
        pass
    finally:
        SentenceTransformerEmbedder.embed_passages = ours_part
    out.build_s = time.perf_counter() - started - sum(pairs.raw_s)
    if out.report is not None and len(out.passages) != out.report.passages:
        raise RuntimeError(
            f"the build embedded {len(out.passages):,} passages in parts but reports {out.report.passages:,}"
        )
    return out


def measure_indexing(args, corpus: Path, raw, index: Path, txt_dir: Path) -> dict:
    """``fpsearch index`` of the corpus end to end with each embedding part paired with raw ``encode``
    of the same texts (``paired_build``), then one whole raw ``encode`` of all its passages, then
    txtai's ``Embeddings.index`` of them (same model folder, hybrid, content stored)."""
    import statistics

    from search.models import resolve_model

    run = paired_build(corpus, index, raw)
    report, passages, ours_s, raw_s = run.report, run.passages, run.build_s, sum(run.pairs.raw_s)
    print(
        f"{report.documents:,} documents, {report.passages:,} passages; fpsearch index "
        f"{report.passages / ours_s:.1f} passages/s end to end, raw encode of its parts "
        f"{report.passages / raw_s:.1f}",
        flush=True,
    )
    from search.store import open_store

    store = open_store(index)
    encoder = store.manifest.model.runtime
    store.close()
    # One whole raw pass too, as a user would call it (all passages, sorted by length together).
    whole_s = None if args.skip_whole else raw_encode(raw, passages)
    if whole_s:
        print(f"raw encode, all passages in one call: {len(passages) / whole_s:.1f} passages/s", flush=True)
    out = {
        "passages": report.passages,
        "encoder": encoder,
        "parts": len(run.pairs.raw_s),
        "raw_encode_per_s": round(report.passages / raw_s, 1),
        "fpsearch_per_s": round(report.passages / ours_s, 1),
        "fpsearch_over_raw": round(raw_s / ours_s, 3),
        "fpsearch_over_raw_median_part": round(
            statistics.median(r / s for r, s in zip(run.pairs.raw_s, run.pairs.part_s)), 3
        ),
        # the embedding stage alone (model, sentence vectors): the rest is reading, chunking, writing
        "fpsearch_embedding_stage_per_s": round(report.passages / sum(run.pairs.part_s), 1),
    }
    if whole_s:
        out["raw_encode_whole_per_s"] = round(len(passages) / whole_s, 1)
        out["fpsearch_over_raw_whole"] = round(whole_s / ours_s, 3)
    if not args.skip_txtai:
        txt_s, pairs = paired_txtai(passages, raw, str(resolve_model("minilm")[1]()), txt_dir)
        txt_raw_s = sum(pairs.raw_s)
        out["txtai_per_s"] = round(len(passages) / txt_s, 1)
        out["txtai_raw_encode_per_s"] = round(len(passages) / txt_raw_s, 1)
        out["txtai_over_raw"] = round(txt_raw_s / txt_s, 3)
        out["txtai_parts"] = len(pairs.raw_s)
        # Each side against raw encode of the same passages timed beside it, so the VM's drift between
        # the two builds (they run 10-20 minutes apart) cancels; the plain ratio of rates beside it.
        out["fpsearch_over_txtai"] = round((raw_s / ours_s) / (txt_raw_s / txt_s), 3)
        out["fpsearch_over_txtai_wall"] = round((report.passages / ours_s) / (len(passages) / txt_s), 3)
        print(
            f"txtai index: {len(passages) / txt_s:.1f} passages/s, {txt_raw_s / txt_s:.2f} of raw beside it",
            flush=True,
        )
    return out


def paired_txtai(passages: list[str], raw, model_dir: str, txt_dir: Path) -> tuple[float, Pairs]:
    """txtai's ``Embeddings.index`` of ``passages`` (same model folder, hybrid, content stored) into
    ``txt_dir``, each batch it embeds (1,024 passages) paired with raw ``encode`` of the same texts as
    the build's parts are (``Pairs``): its wall time less the raw runs inside it, and the pairs."""
    from txtai import Embeddings
    from txtai.vectors import Vectors

    theirs = Vectors.batch
    pairs = Pairs(raw, "txtai batch", "txtai embedding")

    def paired(self, documents, output, recovery):
        return pairs.time([text for _, text, _ in documents], lambda: theirs(self, documents, output, recovery))

    shutil.rmtree(txt_dir, ignore_errors=True)
    txt = Embeddings(path=model_dir, content=True, hybrid=True)
    Vectors.batch = paired
    started = time.perf_counter()
    try:
        txt.index([(i, t, None) for i, t in enumerate(passages)])
    finally:
        Vectors.batch = theirs
    txt_s = time.perf_counter() - started - sum(pairs.raw_s)
    txt.save(str(txt_dir))
    return txt_s, pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="first 150 documents, 60 queries, 10 s of load")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=1, help="fpsearch serve --workers")
    parser.add_argument("--skip-txtai", action="store_true")
    parser.add_argument(
        "--skip-whole", action="store_true", help="leave out raw encode of all passages in one call (a fourth pass)"
    )
    parser.add_argument("--keep", type=Path, default=None, help="keep the built indexes in this folder")
    parser.add_argument(
        "--reuse",
        type=Path,
        default=None,
        help="a --keep folder from an earlier run: skip indexing, measure queries on its indexes",
    )
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--write", type=Path, default=None, help="update this Markdown file's bench table")
    args = parser.parse_args()
    if args.quick:
        args.queries, args.seconds = 60, 10
    if not args.skip_txtai:
        try:  # its server is needed an hour into a full run: say so now, not then
            import txtai.api  # noqa: F401
        except ImportError as exc:
            raise SystemExit(
                f"bench: txtai's server cannot be imported ({exc}); pip install 'txtai[api]', or pass --skip-txtai"
            ) from None

    import faiss
    import torch
    from sentence_transformers import SentenceTransformer

    from search import Engine
    from search.models import resolve_model

    work = (
        Path(args.reuse or args.keep) if (args.reuse or args.keep) else Path(tempfile.mkdtemp(prefix="fpsearch-bench-"))
    )
    work.mkdir(parents=True, exist_ok=True)
    corpus = sample_corpus(args.corpus, 150 if args.quick else None, work / "sample.jsonl")
    model_dir = str(resolve_model("minilm")[1]())
    result: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{machine()}, Python {platform.python_version()}, "
        f"torch {torch.__version__}, faiss {faiss.__version__}",
        "corpus": corpus.name,
        "command": "python scripts/bench.py"
        + (" --quick" if args.quick else "")
        + (" --reuse DIR" if args.reuse else "")
        + (" --skip-whole" if args.skip_whole else ""),
    }
    # ``queries`` (the dev queries, then titles) for every latency figure and the recurring load;
    # the other titles for the load of queries a server has never seen.
    pool = load_queries(args.corpus, 10**6, 0)
    queries, unseen = pool[: args.queries], pool[args.queries :]

    # -- 1. indexing ---------------------------------------------------------------------------
    raw = SentenceTransformer(model_dir, device="cpu")
    index = work / "fpsearch-index"
    txt_dir = work / "txtai-index"
    if args.reuse:
        result["indexing"] = {"passages": Engine.open(index).store.passage_count, "reused": str(args.reuse)}
        if not args.skip_txtai:
            from txtai import Embeddings

            txt = Embeddings()
            txt.load(str(txt_dir))
    else:
        result["indexing"] = measure_indexing(args, corpus, raw, index, txt_dir)
        if not args.skip_txtai:
            from txtai import Embeddings

            txt = Embeddings()
            txt.load(str(txt_dir))
    print(
        f"{result['indexing']['passages']:,} passages, {len(queries)} queries, "
        f"{len(unseen):,} more for the unseen-query load",
        flush=True,
    )

    # -- 2. library latency --------------------------------------------------------------------
    torch.set_num_threads(1)
    engine = Engine.open(index)
    ids, vecs = engine.store.vectors.all_vectors()
    flat = faiss.IndexFlatIP(vecs.shape[1])
    flat.add(vecs)
    faiss.omp_set_num_threads(1)

    def floor(q: str) -> None:
        v = raw.encode([q], normalize_embeddings=True, show_progress_bar=False)
        flat.search(np.asarray(v, dtype=np.float32), 10)

    timed(floor, queries[:5])
    lib = {"floor (torch 1 thread + exact FAISS)": summary(timed(floor, queries))}
    from search import config

    faiss.omp_set_num_threads(config.number(config.SEARCH_THREADS))
    for mode in ("dense", "lexical", "hybrid"):
        engine._cache.clear()
        engine.search(queries[0], k=10, mode=mode)
        engine._cache.clear()
        lib[f"fpsearch {mode}"] = summary(timed(lambda q, m=mode: engine.search(q, k=10, mode=m), queries))
    if not args.skip_txtai:
        for name, weights in (("dense", 1.0), ("hybrid", None)):
            txt.search(queries[0], 10, weights=weights)
            lib[f"txtai {name}"] = summary(timed(lambda q, w=weights: txt.search(q, 10, weights=w), queries))
    result["library_ms"] = lib
    for name, row in lib.items():
        print(f"library {name}: {row}", flush=True)

    # -- 3. HTTP: sequential, then load; 4. memory -----------------------------------------------
    http: dict = {}

    def serve() -> tuple[subprocess.Popen, str]:
        started = time.monotonic()
        proc, base = start_server(index, "--workers", str(args.workers), stderr=subprocess.DEVNULL)
        http["fpsearch server start to ready, s"] = round(time.monotonic() - started, 1)
        return proc, base

    # A fresh server per mode, each sent the same queries it has never seen, so every measured
    # request embeds and searches; the hybrid server then takes the loads.
    for mode in ("dense", "lexical", "hybrid"):
        server, base = serve()
        try:
            params = [{"q": q, "k": 10, "mode": mode} for q in queries]
            http[f"fpsearch {mode}"] = summary(http_sequential(base, "/search", params))
            if mode != "hybrid":
                continue
            # first queries it has never seen (each embedded and searched), then the ones it has
            # just answered, again and again (remembered embeddings and results)
            unseen_params = [{"q": q, "k": 10, "mode": "hybrid"} for q in unseen]
            http["fpsearch hybrid, load, unseen queries"] = run_load(
                base, "/search", unseen_params, args.connections, args.seconds
            )
            http["fpsearch hybrid, load, recurring queries"] = run_load(
                base, "/search", params, args.connections, args.seconds
            )
            http["fpsearch server peak RSS MB"] = vm_hwm_mb(server.pid)
        finally:
            stop(server)
    if not args.skip_txtai:
        config = work / "txtai.yml"
        config.write_text(f"path: {txt_dir}\nembeddings:\n")
        port = free_port()
        tserver = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "txtai.api:app", "--port", str(port), "--log-level", "warning"],
            env={**os.environ, "CONFIG": str(config)},
            stderr=subprocess.DEVNULL,
        )
        tbase = f"http://127.0.0.1:{port}"
        try:
            wait_ready(tbase + "/count", tserver)
            for name, extra in (("dense", {"weights": 1.0}), ("hybrid", {})):
                params = [{"query": q, "limit": 10, **extra} for q in queries]
                http[f"txtai {name}"] = summary(http_sequential(tbase, "/search", params))
            params = [{"query": q, "limit": 10} for q in unseen]
            http["txtai hybrid, load, unseen queries"] = run_load(
                tbase, "/search", params, args.connections, args.seconds
            )
            params = [{"query": q, "limit": 10} for q in queries]
            http["txtai hybrid, load, recurring queries"] = run_load(
                tbase, "/search", params, args.connections, args.seconds
            )
            http["txtai server peak RSS MB"] = vm_hwm_mb(tserver.pid)
        finally:
            stop(tserver)
    result["http_ms"] = http
    for name, row in http.items():
        print(f"http {name}: {row}", flush=True)

    floor_p50 = lib["floor (torch 1 thread + exact FAISS)"]["p50"]
    result["checks"] = {
        "http_hybrid_p50_over_floor": round(http["fpsearch hybrid"]["p50"] / floor_p50, 2),
        "http_hybrid_p99_over_floor": round(http["fpsearch hybrid"]["p99"] / floor_p50, 2),
        "load_rps_unseen_queries": http["fpsearch hybrid, load, unseen queries"]["requests_per_second"],
        "load_rps_recurring_queries": http["fpsearch hybrid, load, recurring queries"]["requests_per_second"],
        "load_errors": sum(r["errors"] for n, r in http.items() if n.startswith("fpsearch") and "load" in n),
    }
    if "fpsearch_over_raw" in result["indexing"]:
        result["checks"]["indexing_over_raw_encode"] = result["indexing"]["fpsearch_over_raw"]
    if not args.skip_txtai:
        result["checks"].update(
            {
                "txtai_http_hybrid_p50_over_fpsearch": round(
                    http["txtai hybrid"]["p50"] / http["fpsearch hybrid"]["p50"], 2
                ),
                **{
                    f"fpsearch_load_rps_over_txtai, {kind}": round(
                        http[f"fpsearch hybrid, load, {kind}"]["requests_per_second"]
                        / max(http[f"txtai hybrid, load, {kind}"]["requests_per_second"], 0.01),
                        2,
                    )
                    for kind in ("unseen queries", "recurring queries")
                },
            }
        )
    print(json.dumps(result["checks"]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if args.write:
        write_markdown(args.write, result)
    if not (args.keep or args.reuse):  # a temporary folder of our own, never one we were given
        shutil.rmtree(work, ignore_errors=True)


def write_markdown(path: Path, r: dict) -> None:
    ix = r["indexing"]
    lines = [
        "",
        f"_`{r['command']}` on {r['date']}: {r['machine']}; corpus `{r['corpus']}`, {ix['passages']:,} passages._",
        "",
    ]
    if "raw_encode_per_s" not in ix:
        lines += [
            "Indexing was not measured in this run: it searched the indexes an earlier full run built (`--reuse`)."
        ]
    else:
        lines += [
            "| indexing | passages/s | ratio |",
            "|---|---|---|",
            f"| raw `SentenceTransformer.encode` of each embedding part's passages, run beside that part "
            f"({ix['parts']} parts; the baseline) | {ix['raw_encode_per_s']} | 1.00 |",
            f"| `fpsearch index` end to end (wall time less the raw runs inside it; passages embedded by "
            f"{ix.get('encoder', 'torch')}) | {ix['fpsearch_per_s']} | "
            f"{ix['fpsearch_over_raw']:.2f} of raw (median part {ix['fpsearch_over_raw_median_part']:.2f}) |",
            f"| `fpsearch index`, its embedding stage alone | {ix['fpsearch_embedding_stage_per_s']} | "
            f"{ix['fpsearch_embedding_stage_per_s'] / ix['raw_encode_per_s']:.2f} of raw |",
        ]
        if "raw_encode_whole_per_s" in ix:
            lines.append(
                f"| raw `encode` of all passages in one call, after the build | {ix['raw_encode_whole_per_s']} | "
                f"`fpsearch index` is {ix['fpsearch_over_raw_whole']:.2f}× it |"
            )
    if "txtai_raw_encode_per_s" in ix:
        lines += [
            f"| raw `encode` of each txtai batch's passages, run beside that batch ({ix['txtai_parts']} "
            f"batches; txtai's baseline) | {ix['txtai_raw_encode_per_s']} | 1.00 |",
            f"| txtai `Embeddings.index` (hybrid; wall time less the raw runs inside it) | {ix['txtai_per_s']} | "
            f"{ix['txtai_over_raw']:.2f} of raw |",
            "",
            f"fpsearch is **{ix['fpsearch_over_txtai']:.2f}× txtai**, each build against raw `encode` of the same "
            f"passages timed beside it ({ix['fpsearch_over_raw']:.2f} ÷ {ix['txtai_over_raw']:.2f}); the plain "
            f"ratio of the two rates, measured minutes apart, is {ix['fpsearch_over_txtai_wall']:.2f}×.",
        ]
    lines += ["", "| query latency, k=10 (ms) | p50 | p95 | p99 |", "|---|---|---|---|"]
    for name, row in r["library_ms"].items():
        lines.append(f"| library: {name} | {row['p50']} | {row['p95']} | {row['p99']} |")
    for name, row in r["http_ms"].items():
        if isinstance(row, dict) and "requests_per_second" not in row:
            lines.append(f"| HTTP, one client: {name} | {row['p50']} | {row['p95']} | {row['p99']} |")
    lines += [
        "",
        "| load: hybrid, 32 connections | requests/s | requests | errors | p50 ms | p99 ms | generator |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in r["http_ms"].items():
        if isinstance(row, dict) and "requests_per_second" in row:
            lines.append(
                f"| {name} | {row['requests_per_second']} | {row['requests']:,} | {row['errors']} | "
                f"{row['p50']} | {row['p99']} | {row.get('generator', 'httpx')} |"
            )
    mem = [f"{k}: {v}" for k, v in r["http_ms"].items() if k.endswith("MB")]
    ready = r["http_ms"].get("fpsearch server start to ready, s")
    lines += ["", "Peak server memory (VmHWM): " + "; ".join(mem) + ".", ""]
    if ready is not None:
        lines += [
            f"An fpsearch server took {ready} s from start to ready (model loaded, sentence vectors "
            "preloaded, costly lexical words scored ahead: `/health` says `warming: false`).",
            "",
        ]
    write_section("bench.py", lines, "## Speed against txtai (`scripts/bench.py`)", path)


if __name__ == "__main__":
    main()
