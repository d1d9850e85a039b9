"""Concurrent searches run together (``search.retrieval.batching``): the same hits as one query at a time,
batches only of queries with the same options, and one bad query never fails the others."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from search import Engine
from search.errors import InvalidInput
from search.retrieval import SearchOptions
from search.retrieval.batching import Batcher

QUERIES = [
    "Kuril Islands position",
    "What did Putin say about a peace treaty with Japan?",
    "joint economic activity on the islands",
    "visa-free exchanges for former residents",
    "southern Kurils fishing",
    "Shikotan and Habomai",
]


def test_batched_searches_return_what_one_search_at_a_time_returns(real_index: Path) -> None:
    engine = Engine.open(real_index)
    want = {(q, mode): engine.search(q, k=5, mode=mode) for q in QUERIES for mode in ("hybrid", "dense", "lexical")}
    sizes = []
    answer = engine.answer

    def recorded(queries, options):
        sizes.append(len(queries))
        return answer(queries, options)

    engine.answer = recorded
    batcher = Batcher(lambda: engine, threads=2)
    try:
        with ThreadPoolExecutor(12) as pool:  # many at once, so that they queue and run in batches
            got = dict(zip(want, pool.map(lambda key: batcher.search(key[0], SearchOptions(k=5, mode=key[1])), want)))
    finally:
        batcher.close()
    assert got == want
    assert max(sizes) > 1 and sum(sizes) == len(want)


class Recording:
    """Stands in for an engine: answers each query with its own text, records the batches it was
    given, and holds the first batch until released (so that the others queue behind it)."""

    def __init__(self) -> None:
        self.batches: list[tuple[list[str], SearchOptions]] = []
        self.started = threading.Event()
        self.release = threading.Event()

    def answer(self, queries, options):
        self.batches.append((list(queries), options))
        if len(self.batches) == 1:
            self.started.set()
            assert self.release.wait(10)
        if "bad" in queries:
            raise InvalidInput("bad query")
        return [[f"{q}:{options.k}"] for q in queries]


def test_queries_waiting_together_share_a_batch_of_the_same_options() -> None:
    engine = Recording()
    batcher = Batcher(lambda: engine, threads=1, max_batch=4)
    first = batcher.submit("first")
    assert engine.started.wait(10)
    waiting = [batcher.submit(f"q{i}", SearchOptions(k=3 if i % 2 else 10)) for i in range(10)]
    engine.release.set()
    assert first.result(10) == ["first:10"]
    assert [f.result(10) for f in waiting] == [[f"q{i}:{3 if i % 2 else 10}"] for i in range(10)]
    batcher.close()
    later = engine.batches[1:]
    assert all(len(queries) <= 4 for queries, _ in later)
    assert len(later) < 10  # batched, not one by one
    for queries, options in later:  # never mixed: every query of a batch was asked with its k
        assert {int(q[1:]) % 2 for q in queries} == {1 if options.k == 3 else 0}
    assert sorted(q for queries, _ in later for q in queries) == sorted(f"q{i}" for i in range(10))


def test_one_bad_query_fails_alone() -> None:
    engine = Recording()
    batcher = Batcher(lambda: engine, threads=1)
    batcher.submit("first")
    assert engine.started.wait(10)
    futures = [batcher.submit(q) for q in ("a", "bad", "b")]
    engine.release.set()
    assert futures[0].result(10) == ["a:10"] and futures[2].result(10) == ["b:10"]
    with pytest.raises(InvalidInput, match="bad query"):
        futures[1].result(10)
    batcher.close()


def test_empty_and_too_long_queries_are_refused_when_submitted() -> None:
    batcher = Batcher(lambda: Recording(), threads=1, max_query_chars=20)
    with pytest.raises(InvalidInput, match="empty"):
        batcher.submit("   ")
    with pytest.raises(InvalidInput, match="the limit is 20"):
        batcher.submit("x" * 21)
    batcher.close()
    with pytest.raises(RuntimeError, match="closed"):
        batcher.submit("x")


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"k": 0}, "k must be"),
        ({"mode": "fuzzy"}, "mode must be"),
        ({"weight": 2.0}, "weight must be"),
        ({"per_doc": -1}, "per_doc must be"),
    ],
)
def test_options_are_checked_when_made(bad: dict, message: str) -> None:
    """A ``SearchOptions`` that exists is valid: the one check, wherever the options come in."""
    with pytest.raises(InvalidInput, match=message):
        SearchOptions(**bad)
    assert SearchOptions(per_doc=0).per_doc is None  # 0 and None both mean no limit
