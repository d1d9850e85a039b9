"""A live generation's FAISS file or SQLite store damaged (bytes flipped, or cut short) under a running
server: the server answers what it answered before or refuses with a 503 that names the file, never
something else; /health says what is wrong; `fpsearch check` names the file; opening the index names
it and the fix; `fpsearch rollback` goes back to the kept previous generation, and the server follows."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from search import Document, Engine
from search.cli import app as cli
from search.errors import IndexDamaged
from search.indexing import add_documents
from search.server import ApiSettings, create_app

QUERIES = ["Kuril Islands position", "peace treaty with Japan", "joint economic activity on the islands"]
NEW = Document(
    doc_id="late-1",
    title="A later statement",
    date="2020-01-01",
    text="The ministers met again to discuss fishing rights near the southern Kuril Islands.",
)


@pytest.fixture(scope="module")
def pristine(real_index: Path, tmp_path_factory) -> Path:
    """The seed-sample index with one change on top, so that a previous generation is kept."""
    index = tmp_path_factory.mktemp("damaged") / "index"
    shutil.copytree(real_index, index)
    add_documents([NEW], index)
    assert sorted(p.name for p in index.glob("gen-*")) == ["gen-000001", "gen-000002"]
    return index


def _damage(path: Path, how: str) -> None:
    size = path.stat().st_size
    if how == "truncated":
        os.truncate(path, size // 2)
        return
    with open(path, "r+b") as fh:  # flip bytes all through the file, keeping its size
        for offset in range(size // 8, size, max(size // 16, 1)):
            fh.seek(offset)
            chunk = bytearray(fh.read(64))
            fh.seek(offset)
            fh.write(bytes(b ^ 0xFF for b in chunk))


def _hits(response) -> list[tuple[str, int, int]]:
    return [(h["doc_id"], h["start"], h["end"]) for h in response.json()["hits"]]


@pytest.mark.parametrize("how", ["flipped", "truncated"])
@pytest.mark.parametrize("name", ["store.sqlite", "vectors.faiss"])
def test_a_file_damaged_under_a_server(pristine: Path, tmp_path: Path, name: str, how: str) -> None:
    index = tmp_path / "index"
    shutil.copytree(pristine, index)
    damaged = index / "gen-000002" / name
    settings = ApiSettings(reload_check_seconds=0.05, result_cache=0)
    with TestClient(create_app(index, settings=settings)) as client:
        before = {q: _hits(client.get("/search", params={"q": q})) for q in QUERIES}
        assert client.get("/health").json()["status"] == "ok"

        _damage(damaged, how)
        time.sleep(0.1)
        for _ in range(3):
            for q in QUERIES:
                r = client.get("/search", params={"q": q})
                # what it answered before, or a clear refusal that names the file: nothing else
                assert r.status_code in (200, 503), r.text
                if r.status_code == 200:
                    assert _hits(r) == before[q]
                else:
                    assert str(damaged) in r.json()["detail"]
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "damaged"
        assert any(str(damaged) in p for p in health.json()["problems"])

        # check names the file; opening names it and the fix
        checked = CliRunner().invoke(cli, ["check", "--index", str(index)])
        assert checked.exit_code == 4 and str(damaged) in checked.output, checked.output
        assert "fpsearch rollback" in checked.output
        with pytest.raises(IndexDamaged) as opened:
            Engine.open(index).search(QUERIES[0])
        assert str(damaged) in str(opened.value) and "fpsearch rollback" in str(opened.value)

        # the way back: the previous generation, which the running server moves to by itself
        rolled = CliRunner().invoke(cli, ["rollback", "--index", str(index)])
        assert rolled.exit_code == 0, rolled.output
        assert "gen-000001 is live again" in rolled.output
        deadline = time.monotonic() + 5
        while client.get("/health").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        health = client.get("/health").json()
        assert health["status"] == "ok" and health["generation"] == "gen-000001"
        assert client.get("/search", params={"q": QUERIES[0]}).status_code == 200
    assert CliRunner().invoke(cli, ["check", "--index", str(index)]).exit_code == 0
    assert not (index / "gen-000002").exists()


def test_a_server_will_not_start_on_a_damaged_index(pristine: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(pristine, index)
    _damage(index / "gen-000002" / "store.sqlite", "flipped")
    with pytest.raises(IndexDamaged, match="store.sqlite"):
        with TestClient(create_app(index)):
            pass


def test_rollback_refuses_without_a_previous_generation(real_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(real_index, index)
    result = CliRunner().invoke(cli, ["rollback", "--index", str(index)])
    assert result.exit_code == 3
    assert "keeps no generation before gen-000001" in result.output


def test_a_retired_generation_is_not_damaged(pristine: Path, tmp_path: Path) -> None:
    """A server's store on a generation that a newer one retired (its files deleted) is stale, not
    damaged: the server moves on rather than refusing (found by scripts/update_while_serving.py)."""
    from search.store import EmbeddedStore

    index = tmp_path / "index"
    shutil.copytree(pristine, index)
    store = EmbeddedStore.open(index)
    try:
        assert store.damage(full=True) == []
        assert CliRunner().invoke(cli, ["rollback", "--index", str(index)]).exit_code == 0  # deletes gen-000002
        assert not store.gen.exists() and store.is_stale()
        assert store.damage() == [] and store.damage(full=True) == []
    finally:
        store.close()
