"""What a server keeps in memory (sentence vectors, passage owners, the int8 first pass, remembered
results) must answer exactly as the plain store does."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

import search.store.vectors as vectors_module
from search import Engine
from search.store.vectors import VectorIndex

QUERIES = [
    "Kuril Islands position",
    "What did Putin say about a peace treaty with Japan?",
    "joint economic activity on the islands",
    "visa-free exchanges for former residents",
]


def _unit(rows: int, dim: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_int8_first_pass_finds_the_exact_top_k_and_drops_itself_on_change() -> None:
    vecs = _unit(6000, 64, 0)
    ids = np.arange(1000, 7000, dtype=np.int64)
    index = VectorIndex(faiss.IndexIDMap2(faiss.IndexFlatIP(64)))
    index.add(vecs, ids)
    queries = _unit(20, 64, 1)
    exact = index.search(queries, 50)
    assert index.accelerate()
    fast = index.search(queries, 50)
    for a, b in zip(exact, fast):
        assert [i for i, _ in a] == [i for i, _ in b]
        assert np.allclose([s for _, s in a], [s for _, s in b], atol=1e-5)
    # a filter or exact=True still takes the float path; a change drops the int8 copy
    allowed = ids[::3]
    assert all(i in set(allowed.tolist()) for i, _ in index.search(queries[:1], 10, allowed)[0])
    index.add(queries[:1], np.array([99], dtype=np.int64))
    assert index.search(queries[:1], 1)[0][0][0] == 99


def test_small_indexes_are_not_accelerated() -> None:
    index = VectorIndex(faiss.IndexIDMap2(faiss.IndexFlatIP(8)))
    index.add(_unit(10, 8, 2), np.arange(10, dtype=np.int64))
    assert not index.accelerate()


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_preloaded_store_answers_like_the_database(real_index: Path, monkeypatch, mode: str) -> None:
    monkeypatch.setattr(vectors_module, "ACCELERATE_FROM", 1)  # the seed index is small: force the int8 pass
    plain = Engine.open(real_index)
    served = Engine(Engine.open(real_index).store, plain.embedder)
    assert served.store.preload()
    assert served.store.vectors.accelerate()
    for q in QUERIES:
        a = plain.search(q, k=10, mode=mode)
        b = served.search(q, k=10, mode=mode)
        assert [(h.passage_id, h.sentence_start, h.sentence_end) for h in a] == [
            (h.passage_id, h.sentence_start, h.sentence_end) for h in b
        ]
        assert np.allclose([h.score for h in a], [h.score for h in b], atol=1e-4)
    ids = [h.passage_id for h in plain.search(QUERIES[0], k=20, mode="dense", per_doc=None)]
    qvec = plain.embed([QUERIES[0]])[0]
    want, got = plain.store.best_sentence_cosines(ids, qvec), served.store.best_sentence_cosines(ids, qvec)
    assert want.keys() == got.keys() and all(abs(want[i] - got[i]) < 1e-5 for i in want)
    assert plain.store.passage_docs(ids + [10**9]) == served.store.passage_docs(ids + [10**9])


def test_remembered_results_equal_fresh_ones_and_stay_bounded(real_index: Path) -> None:
    plain = Engine.open(real_index)
    cached = Engine(Engine.open(real_index).store, plain.embedder, results=2)
    for _ in range(2):
        for q in QUERIES:
            assert cached.search(q, k=5) == plain.search(q, k=5)
    assert len(cached._results) == 2
    # options are part of the key: another k or mode is searched, not served from memory
    assert len(cached.search(QUERIES[0], k=3)) == 3
    assert cached.search(QUERIES[0], k=5, mode="lexical") == plain.search(QUERIES[0], k=5, mode="lexical")
