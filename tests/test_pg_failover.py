"""The PostgreSQL primary lost under a running fpsearch: reads on the streaming replica keep
answering, reads and writes on the primary fail at once with a clear error (no hang), and once the
primary is back the same process writes and reads again without a restart. On a cluster of its own."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import started_pg_cluster

from search import Document, Engine
from search.errors import StoreUnavailable
from search.indexing import add_documents, build
from search.store import open_store

QUERY = "gas transit through Ukraine"
LATE = Document(
    doc_id="late-1",
    title="Transit talks resume",
    date="2021-03-01",
    text="Gas transit talks resumed in Vienna; both sides agreed on volumes for the next year.",
)


@pytest.fixture(scope="module")
def cluster():
    """A cluster of its own: this test stops its primary."""
    with started_pg_cluster() as pg:
        yield pg


def _ids(engine: Engine) -> list[str]:
    return [h.doc_id for h in engine.search(QUERY, k=5)]


def test_primary_lost_and_back(cluster, corpus: Path, fake) -> None:
    primary, replica = cluster.create_database("failover")
    build([corpus], primary, model=fake)
    cluster.wait_for_replica()
    on_primary = Engine(open_store(primary), fake)  # a server reading from the primary
    on_replica = Engine(open_store(replica), fake)  # and one reading from the replica
    before = _ids(on_replica)
    assert before and _ids(on_primary) == before

    cluster.stop_primary()
    try:
        assert _ids(on_replica) == before  # the replica keeps answering
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="cannot reach the database"):
            add_documents([LATE], primary, model=fake)
        with pytest.raises(StoreUnavailable):
            on_primary.search(QUERY, k=5)
        assert time.monotonic() - started < 15  # refused at once, not after a hang
        assert _ids(on_replica) == before
    finally:
        cluster.start_primary()

    # the same process: writes work again, and the readers it had answer again
    add_documents([LATE], primary, model=fake)
    cluster.wait_for_replica()
    assert _ids(on_primary)  # its pooled connections, dropped with the primary, were opened again
    assert "late-1" in _ids(on_replica)  # and the replica, which replayed the change
    for url in (primary, replica):
        found = Engine(open_store(url), fake).search("gas transit talks resumed in Vienna", k=3)
        assert "late-1" in [h.doc_id for h in found]
