"""The FAISS side of the embedded store: inner-product search over unit vectors, keyed by passage id.

Small indexes are exact (``IndexIDMap2`` over ``IndexFlatIP``). From ``config.ANN_THRESHOLD`` vectors (100,000) on, the
index is an inverted file (``IndexIVFFlat``, ``nlist ≈ 4·√n`` lists, trained on a seeded sample) that
searches ``nprobe`` lists per query; ``exact=True`` searches every list, which is exact. Deletes work in
both (IVF keeps a hash-table direct map for ``remove_ids`` and ``reconstruct``). See BENCHMARKS.md for
the recall and speed that chose the defaults (``scripts/bench_ann.py``). A server calls ``accelerate()``:
a flat index then answers unfiltered searches with a 4-bit product-quantized first pass and a float32
second one.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from .. import config
from ..errors import IndexDamaged
from .manifest import Ann

DEFAULT_NPROBE = 64
TRAIN_SAMPLE = 100_000
# With a filter that leaves few passages, scoring those directly beats probing lists (and is exact).
DIRECT_FILTER_LIMIT = 50_000


# A flat index this large gets a 4-bit product-quantized copy for the first pass once ``accelerate()``
# is called; its candidates are then scored again in float32.
ACCELERATE_FROM = 5_000
# The first pass hands ``COARSE_FACTOR · k + COARSE_EXTRA`` candidates to the exact rescoring: over the
# 24,605 Kremlin passages, the exact top 100 was among the first 800 for 2,000 of 2,000 queries (600:
# 1,994; the top 30 among 240: 2,000).
COARSE_FACTOR = 8
COARSE_EXTRA = 64
# Vectors the first pass's codebooks are trained on (a seeded sample): 8,192 found the same candidates
# as all 24,605, and a larger sample only costs start-up time and memory.
COARSE_TRAIN = 10_000


def nlist_for(n: int) -> int:
    """Inverted lists for ``n`` vectors: about 4·√n, a power of two, at least 64."""
    return max(64, 2 ** round(math.log2(4 * math.sqrt(max(n, 1)))))


@contextmanager
def _openmp_threads(count: int | None = None) -> Iterator[None]:
    """OpenMP's thread count for FAISS work in this thread (a ``with`` block or a method decorator),
    the caller's put back afterwards. OpenMP keeps one count per thread and PyTorch reads the same one:
    a count left at 1 by a search or at import made the model embed a build's passages on one core of
    two, at 23 against 44 passages/s."""
    # Searches (count None) take ``config.SEARCH_THREADS``, one by default: queries run side by side (a
    # server, batches), and FAISS's OpenMP threads spin when other work holds the cores — measured 5 ms
    # with one thread against 32 ms with two for one query over 24,605 vectors on a busy 2-core machine.
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count or config.number(config.SEARCH_THREADS))
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


class VectorIndex:
    """Passage vectors in FAISS. Scores are inner products of unit vectors, i.e. cosine similarity."""

    def __init__(self, index: faiss.Index, nprobe: int = DEFAULT_NPROBE, trained_on: int = 0) -> None:
        self.index = index
        self.nprobe = nprobe
        self.trained_on = trained_on

    @property
    def index(self) -> faiss.Index:
        return self._index

    @index.setter
    def index(self, value: faiss.Index) -> None:
        self._index = value
        self._ivf = _ivf(value)  # looked up once: extracting it per query costs more than a search
        # (quantized index, ids, float32 view into ``value``): set by accelerate(), dropped on any change
        self._coarse: tuple[faiss.Index, np.ndarray, np.ndarray] | None = None

    @classmethod
    def empty(cls, dimension: int) -> VectorIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def read(cls, path: Path, described: dict[str, Any] | None = None) -> VectorIndex:
        """Load a written index; ``described`` is what ``describe()`` said when it was written."""
        described = described or {}
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexDamaged(f"{path} is not a readable FAISS index; rebuild the index") from exc
        ivf = _ivf(index)
        if ivf is not None:
            ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        return cls(index, int(described.get("nprobe", DEFAULT_NPROBE)), int(described.get("trained_on", 0)))

    def write(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    @property
    def is_ann(self) -> bool:
        return self._ivf is not None

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        self._coarse = None
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))

    def remove(self, ids: np.ndarray) -> int:
        self._coarse = None
        return int(self.index.remove_ids(ids.astype(np.int64)))

    def accelerate(self) -> bool:
        """For a read-only flat index of at least ``ACCELERATE_FROM`` vectors: keep a product-quantized
        copy (two dimensions a 4-bit code: a sixteenth of the float index's memory) scanned by FAISS's
        SIMD "fast scan" for a first pass, whose ``COARSE_FACTOR · k + COARSE_EXTRA`` best are scored
        again exactly. Over 24,605 vectors an unfiltered search of the top 100 then costs 0.5 ms
        instead of 2.1 with an int8 scan (one thread; see docs/benchmark-history.md). True if it is in use."""
        if self._coarse is not None:
            return True
        if self.is_ann or self.ntotal < ACCELERATE_FROM:
            return False
        flat = faiss.downcast_index(self.index.index)  # IDMap2 over IndexFlatIP: view its floats, no copy
        ids = faiss.vector_to_array(self.index.id_map).astype(np.int64)
        vecs = faiss.rev_swig_ptr(flat.get_xb(), self.ntotal * self.dimension).reshape(self.ntotal, self.dimension)
        codes = self.dimension // 2 if self.dimension % 2 == 0 else self.dimension
        coarse = faiss.IndexPQFastScan(self.dimension, codes, 4, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)  # seeded: the same copy every time the server starts
        with _openmp_threads():  # training in this thread, no OpenMP helpers
            coarse.train(vecs[np.sort(rng.choice(len(vecs), size=min(len(vecs), COARSE_TRAIN), replace=False))])
            coarse.add(vecs)
        self._coarse = (coarse, ids, vecs)
        return True

    def reconstruct(self, ids: list[int]) -> np.ndarray:
        """The stored vectors of these passage ids."""
        if len(ids) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.index.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def ids(self) -> np.ndarray:
        """Every passage id held, in no particular order."""
        ivf = self._ivf
        if ivf is None:
            return faiss.vector_to_array(self.index.id_map).astype(np.int64)
        invlists = ivf.invlists
        parts = [
            faiss.rev_swig_ptr(invlists.get_ids(n), invlists.list_size(n)).copy()
            for n in range(ivf.nlist)
            if invlists.list_size(n)
        ]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    def all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, vectors)`` of everything held."""
        ids = self.ids()
        return ids, self.reconstruct(ids.tolist())

    def finalize(self, ann: Ann) -> None:
        """Before writing: switch to an inverted file once the index is large enough (or retrain one
        that has grown to twice the size it was trained on)."""
        threshold = ann.threshold or config.ANN_THRESHOLD.default
        if self.ntotal < threshold or ann.exact:
            if self.is_ann and ann.exact:
                self._rebuild_flat()
            return
        if self.is_ann and self.ntotal <= 2 * self.trained_on:
            return
        self._rebuild_ivf(ann.seed)

    def _rebuild_flat(self) -> None:
        ids, vecs = self.all_vectors()
        flat = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dimension))
        flat.add_with_ids(vecs, ids)
        self.index = flat

    @_openmp_threads(os.cpu_count() or 1)  # training is bulk work: every core
    def _rebuild_ivf(self, seed: int) -> None:
        ids, vecs = self.all_vectors()
        nlist = nlist_for(len(ids))
        quantizer = faiss.IndexFlatIP(self.dimension)
        ivf = faiss.IndexIVFFlat(quantizer, self.dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(seed)
        sample = vecs[rng.choice(len(vecs), size=min(len(vecs), TRAIN_SAMPLE), replace=False)]
        ivf.cp.seed = seed
        ivf.train(np.ascontiguousarray(sample))
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        ivf.add_with_ids(vecs, ids)
        self.index = ivf
        self.trained_on = len(ids)

    def describe(self) -> dict[str, Any]:
        ivf = self._ivf
        out: dict[str, Any] = {"metric": "inner_product", "dimension": self.dimension}
        if ivf is None:
            out["type"] = "IDMap2,Flat"
        else:
            out.update(
                type=f"IVF{ivf.nlist},Flat", nlist=int(ivf.nlist), nprobe=self.nprobe, trained_on=self.trained_on
            )
        return out

    # OpenMP keeps the thread count per calling thread: a server's worker threads start at every
    # core, and the idle OpenMP thread then spins after each search (11 ms of a core per request).
    @_openmp_threads()
    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None, exact: bool = False
    ) -> list[list[tuple[int, float]]]:
        """Top-k ``(id, score)`` per query, best first; ``allowed`` limits the ids that may be returned.

        On an inverted file, ``exact`` probes every list; a filter leaving at most
        ``DIRECT_FILTER_LIMIT`` passages is scored directly (exact), and a filtered probe that finds
        fewer than k passages falls back to that too, so a filter never costs hits that exist.
        """
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        limit = self.ntotal if allowed is None else min(self.ntotal, len(allowed))
        k = min(k, limit)
        if k < 1 or len(queries) == 0:
            return [[] for _ in range(len(queries))]
        ivf = self._ivf
        if ivf is not None and allowed is not None and len(allowed) <= DIRECT_FILTER_LIMIT:
            return self._direct(queries, k, allowed)
        if self._coarse is not None and allowed is None and not exact:
            return self._two_pass(queries, k)
        sel = faiss.IDSelectorBatch(allowed.astype(np.int64)) if allowed is not None else None
        if ivf is None:
            params = faiss.SearchParameters(sel=sel) if sel is not None else None
        else:
            nprobe = ivf.nlist if exact else min(self.nprobe, ivf.nlist)
            params = (
                faiss.SearchParametersIVF(sel=sel, nprobe=nprobe)
                if sel is not None
                else (faiss.SearchParametersIVF(nprobe=nprobe))
            )
        scores, ids = self.index.search(queries, k, params=params)
        out = [
            [(int(i), float(s)) for i, s in zip(row_ids, row_scores) if i >= 0]
            for row_ids, row_scores in zip(ids, scores)
        ]
        if ivf is not None and allowed is not None and any(len(r) < k for r in out):
            return self._direct(queries, k, allowed)
        return out

    def _two_pass(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        coarse, ids, vecs = self._coarse
        want = min(COARSE_FACTOR * k + COARSE_EXTRA, len(ids))
        k = min(k, want)
        rows = coarse.search(queries, want)[1]
        # in row order, so that equal candidate sets are fed (and their ties kept) alike, whatever the batch
        rows.sort(axis=1)
        scores, best = np.empty(k, dtype=np.float32), np.empty(k, dtype=np.int64)
        out = []
        for q, row in zip(queries, rows):
            row = row[row >= 0]  # -1: fewer candidates than asked (a copy, contiguous as FAISS needs)
            # FAISS scores each candidate by itself (the same bits wherever it stands in the list) and
            # keeps the best k; ties are then put in row order.
            faiss.knn_inner_products_by_idx(
                faiss.swig_ptr(q),
                faiss.swig_ptr(vecs),
                faiss.swig_ptr(row),
                self.dimension,
                1,
                len(vecs),
                len(row),
                k,
                faiss.swig_ptr(scores),
                faiss.swig_ptr(best),
            )
            found = best >= 0
            order = np.lexsort((best[found], -scores[found]))
            out.append(list(zip(ids[best[found][order]].tolist(), scores[found][order].tolist())))
        return out

    def _direct(self, queries: np.ndarray, k: int, allowed: np.ndarray) -> list[list[tuple[int, float]]]:
        vecs = self.reconstruct(allowed.tolist())
        scores = queries @ vecs.T
        out = []
        for row in scores:
            top = np.argpartition(-row, k - 1)[:k] if k < len(row) else np.arange(len(row))
            top = top[np.argsort(-row[top], kind="stable")]
            out.append([(int(allowed[i]), float(row[i])) for i in top])
        return out


def _ivf(index: faiss.Index):
    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:
        return None
