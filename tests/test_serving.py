"""What a server keeps in memory (sentence vectors, passage owners, the quantized first pass,
remembered results) must answer exactly as the plain store does."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import faiss
import numpy as np
import pytest

import search.store.vectors as vectors_module
from search import Engine, config
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


def _clustered(rows: int, dim: int, seed: int, topics: int = 0) -> np.ndarray:
    """Unit vectors around 40 topics (the same ones for the same ``topics``), as text embeddings and
    their queries are (isotropic random vectors are the worst case for a product quantizer, and
    nothing like a corpus)."""
    rng = np.random.default_rng(seed)
    v = _unit(40, dim, topics)[rng.integers(0, 40, rows)] + 0.08 * rng.standard_normal((rows, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_quantized_first_pass_finds_the_exact_top_k_and_drops_itself_on_change() -> None:
    vecs = _clustered(6000, 64, 10)
    ids = np.arange(1000, 7000, dtype=np.int64)
    index = VectorIndex(faiss.IndexIDMap2(faiss.IndexFlatIP(64)))
    index.add(vecs, ids)
    queries = _clustered(20, 64, 11)
    exact = index.search(queries, 50)
    assert index.accelerate()
    fast = index.search(queries, 50)
    for a, b in zip(exact, fast):
        assert [i for i, _ in a] == [i for i, _ in b]
        assert np.allclose([s for _, s in a], [s for _, s in b], atol=1e-5)
    # a filter or exact=True still takes the float path; a change drops the quantized copy
    allowed = ids[::3]
    assert all(i in set(allowed.tolist()) for i, _ in index.search(queries[:1], 10, allowed)[0])
    index.add(queries[:1], np.array([99], dtype=np.int64))
    assert index.search(queries[:1], 1)[0][0][0] == 99


def test_a_batch_ranks_and_scores_as_one_query_at_a_time_does() -> None:
    """A batch gives the same hits as one query at a time, the same scores to the last bit, ties (here
    duplicate vectors) in row order, and the exact top k."""
    vecs = _clustered(6000, 64, 15)
    vecs[3000:3010] = vecs[10]  # ten copies of one vector
    index = VectorIndex(faiss.IndexIDMap2(faiss.IndexFlatIP(64)))
    index.add(vecs, np.arange(6000, dtype=np.int64))
    assert index.accelerate()
    queries = np.vstack([vecs[10:11], _clustered(15, 64, 16)])
    batch = index.search(queries, 30)
    assert batch == [index.search(q[None, :], 30)[0] for q in queries]
    assert [i for i, _ in batch[0][:11]] == [10, *range(3000, 3010)]
    exact = faiss.IndexFlatIP(64)
    exact.add(vecs)
    assert [[i for i, _ in hits] for hits in batch][1:] == exact.search(queries[1:], 30)[1].tolist()


def test_searches_keep_to_the_search_threads_and_put_the_threads_count_back() -> None:
    """OpenMP counts threads per calling thread, and PyTorch reads the same count: a search runs with
    ``config.SEARCH_THREADS`` (a server's worker thread would otherwise search with every core and leave an
    OpenMP thread spinning after each query), then gives the thread its own count back (left at 1, it
    had the model embed a build's passages on one core)."""
    index = VectorIndex(faiss.IndexIDMap2(faiss.IndexFlatIP(16)))
    index.add(_unit(50, 16, 3), np.arange(50, dtype=np.int64))
    inner, during, after = index.index, [], []

    class Watched:
        def __getattr__(self, name: str):
            return getattr(inner, name)

        def search(self, *args, **kwargs):
            during.append(faiss.omp_get_max_threads())
            return inner.search(*args, **kwargs)

    index.index = Watched()

    def search_and_look() -> None:
        faiss.omp_set_num_threads(4)  # what a thread may start with on a bigger machine
        index.search(_unit(1, 16, 4), 5)
        after.append(faiss.omp_get_max_threads())

    worker = threading.Thread(target=search_and_look)
    worker.start()
    worker.join()
    assert during == [config.number(config.SEARCH_THREADS)]
    assert after == [4]


def test_importing_the_vector_store_leaves_pytorchs_threads_alone() -> None:
    # the import used to set OpenMP's count to 1 for good, and with it PyTorch's when PyTorch came first
    code = "import torch; n = torch.get_num_threads(); import search.store.vectors; print(n, torch.get_num_threads())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == out[1]


def test_small_indexes_are_not_accelerated() -> None:
    index = VectorIndex(faiss.IndexIDMap2(faiss.IndexFlatIP(8)))
    index.add(_unit(10, 8, 2), np.arange(10, dtype=np.int64))
    assert not index.accelerate()


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_preloaded_store_answers_like_the_database(real_index: Path, monkeypatch, mode: str) -> None:
    monkeypatch.setattr(vectors_module, "ACCELERATE_FROM", 1)  # the seed index is small: force the first pass
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


def _fts5_whole_query(store, query: str, k: int) -> list[tuple[int, float]]:
    """FTS5 ranking the whole OR query itself: what the word-by-word sums must equal."""
    from search.store.embedded.fts import BM25
    from search.store.lexical import fts_query

    words = [w for w, _ in store.lexical.words(query)]
    sql = f"SELECT rowid, -{BM25} FROM passages_fts WHERE passages_fts MATCH ? ORDER BY {BM25}, rowid LIMIT ?"
    return [(int(i), float(s)) for i, s in store._pool.rows(sql, [fts_query(words), k])]


LEXICAL_QUERIES = QUERIES + [
    "Kuril kuril KURIL islands island",  # one word three times, two words with one stem
    'peace AND "treaty" NEAR(Japan) * title:Putin',  # FTS5 syntax is just text
    "Shikotan Habomai Etorofu Kunashir zzzzunknownword",
]


def test_word_by_word_bm25_equals_fts5_on_the_whole_query(real_index: Path) -> None:
    store = Engine.open(real_index).store
    for q in LEXICAL_QUERIES:
        want = _fts5_whole_query(store, q, 1000)
        for _ in range(2):  # asking FTS5 word by word, then from remembered words
            got = store.search_lexical(q, 1000)
            assert [i for i, _ in got] == [i for i, _ in want], q
            assert np.allclose([s for _, s in got], [s for _, s in want], rtol=0, atol=1e-9), q
    assert len(store.lexical.word_scores) > 0
    assert store.search_lexical(q, 3) == store.search_lexical(q, 1000)[:3]
    # a filter goes to FTS5 as one query; its hits are the unfiltered ones that pass the filter
    from search.store import Filter

    q = LEXICAL_QUERIES[0]
    everything = store.search_lexical(q, 1000)
    records = store.passages([i for i, _ in everything])
    since = sorted(r.date for r in records.values() if r.date)[len(records) // 2]
    filtered = store.search_lexical(q, 1000, Filter(since=since))
    kept = [(i, s) for i, s in everything if (records[i].date or "") >= since]
    assert 0 < len(kept) < len(everything)
    assert [i for i, _ in filtered] == [i for i, _ in kept]
    assert np.allclose([s for _, s in filtered], [s for _, s in kept], rtol=0, atol=1e-9)


@pytest.mark.parametrize("preload", [False, True])
def test_lexical_search_of_many_queries_equals_one_at_a_time(real_index: Path, preload: bool) -> None:
    """A batch's words are stemmed and counted together; each query still gets its own hits."""
    from search.store import Filter

    fresh = Engine.open(real_index).store
    if preload:
        fresh.preload(warm=False)
    single = Engine.open(real_index).store
    queries = LEXICAL_QUERIES + ["", "the of and", LEXICAL_QUERIES[0]]
    assert fresh.search_lexical_many(queries, 50) == [single.search_lexical(q, 50) for q in queries]
    where = Filter(since="2016")
    assert fresh.search_lexical_many(queries, 20, where) == [single.search_lexical(q, 20, where) for q in queries]
    assert fresh.search_lexical_many([], 10) == []


def test_word_scores_hold_at_most_their_budget_and_drop_the_oldest() -> None:
    from search.store.lexical import WordScores

    asked: list[str] = []

    def fetch(word: str):
        def rows() -> list[tuple[int, float]]:
            asked.append(word)
            return [(i, 1.0) for i in range(len(word))]

        return rows

    held = WordScores(budget=6)
    for w in ("abc", "de", "abc", "fgh"):  # "de" is the least recently used when "fgh" arrives
        held.get((w,), fetch(w))
    assert len(held) <= 6 and asked == ["abc", "de", "fgh"]
    held.get(("abc",), fetch("abc"))
    held.get(("de",), fetch("de"))
    assert asked == ["abc", "de", "fgh", "de"]
    ids, scores = held.get(("toolongforthebudget",), fetch("toolongforthebudget"))  # served, never held
    assert len(ids) == 19 and len(held) <= 6 and ("toolongforthebudget",) not in held


def test_a_preloading_store_scores_costly_words_ahead_and_answers_the_same(real_index: Path, monkeypatch) -> None:
    import search.store.embedded.fts as fts

    monkeypatch.setattr(fts, "WARM_FROM", 2)
    store = Engine.open(real_index).store
    want = {q: _fts5_whole_query(store, q, 1000) for q in LEXICAL_QUERIES}
    store.preload()
    store.lexical._warmer.join(60)
    assert not store.warming
    warmed = len(store.lexical.word_scores)
    assert warmed > 0 and ("kuril",) in store.lexical.word_scores and ("island",) in store.lexical.word_scores
    for q in LEXICAL_QUERIES:
        got = store.search_lexical(q, 1000)
        assert [i for i, _ in got] == [i for i, _ in want[q]], q
        assert np.allclose([s for _, s in got], [s for _, s in want[q]], rtol=0, atol=1e-9), q
    # "islands" and "island" are one FTS5 term: scored once, when warming
    assert len(store.lexical.word_scores) - warmed < sum(len(store.lexical.words(q)) for q in LEXICAL_QUERIES)
    store.close()  # stops a warmer that may still run, then closes the connections


def test_top_sums_adds_by_id_and_breaks_ties_by_id() -> None:
    from search.store.lexical import top_sums

    a = (np.array([5, 1, 9]), np.array([1.0, 2.0, 0.5]))
    b = (np.array([9, 7]), np.array([1.5, 2.0]))
    assert top_sums([a, b], 10) == [(1, 2.0), (7, 2.0), (9, 2.0), (5, 1.0)]
    assert top_sums([a, b], 2) == [(1, 2.0), (7, 2.0)]
    assert top_sums([], 3) == [] and top_sums([a], 0) == []


def test_top_sums_agrees_with_a_plain_sum_for_dense_and_sparse_ids() -> None:
    """Postings of common words sum in a table as long as the largest id, rare ones by sorting: both
    give what adding one posting at a time gives."""
    from search.store.lexical import top_sums

    rng = np.random.default_rng(7)
    for span in (3_000, 10**9):  # ids dense (the table) or spread far apart (sorting)
        parts = [
            (rng.choice(span, 2_000, replace=False).astype(np.int64), rng.integers(1, 5, 2_000) / 4) for _ in range(3)
        ]
        total: dict[int, float] = {}
        for ids, scores in parts:
            for i, s in zip(ids.tolist(), scores.tolist()):
                total[i] = total.get(i, 0.0) + s
        want = sorted(total.items(), key=lambda item: (-item[1], item[0]))[:50]
        assert top_sums(parts, 50) == want
