"""A device that fills up in the middle of `fpsearch index`, `add` or `remove`: one line and exit 7, the
previous generation still live and passing `check`, nothing of the failed run left on the device, and
the same command succeeding once space is freed.

The device is a small tmpfs the test mounts, so it runs only as root where mounting is allowed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import document_state
from typer.testing import CliRunner

from search.cli import app

MOUNT_MB = 24


def _mount(where: Path) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={MOUNT_MB}m", "tmpfs", str(where)], capture_output=True)
    return done.returncode == 0


@pytest.fixture(scope="module")
def device(tmp_path_factory):
    where = tmp_path_factory.mktemp("disk-full") / "mnt"
    if not _mount(where):
        pytest.skip("needs root and permission to mount a small tmpfs, to fill a device")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def _corpus(path: Path, prefix: str, n: int) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    rows = [
        {
            "_id": f"{prefix}{i}",
            "title": f"{prefix} {i}",
            "date": f"{2000 + i % 20}",
            "text": " ".join(
                f"Statement {j} on the Kuril Islands, item {prefix}{i}, says point {(i * j) % 29}." for j in range(12)
            ),
        }
        for i in range(n)
    ]
    (path / f"{prefix}.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "FPSEARCH_PART_SIZE": "8"}
    return subprocess.run([sys.executable, "-m", "search", *args], capture_output=True, text=True, env=env, timeout=300)


def _used(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _fill(device: Path, leave: int) -> Path:
    """Take all the device's free space but ``leave`` bytes."""
    ballast = device / "ballast"
    free = shutil.disk_usage(device).free
    with open(ballast, "wb") as fh:
        os.posix_fallocate(fh.fileno(), 0, max(free - leave, 0))
    return ballast


def _leftovers(index: Path) -> list[str]:
    """Anything in the index folder but the lock, CURRENT, the live generation and the one before it
    (kept for readers that have not reloaded yet)."""
    live = (index / "CURRENT").read_text().strip()
    previous = f"gen-{int(live.split('-')[1]) - 1:06d}"
    return sorted(p.name for p in index.iterdir() if p.name not in {".lock", "CURRENT", live, previous})


@pytest.fixture(scope="module")
def setup(device, tmp_path_factory):
    """Corpora a (6 documents) and b (40), an index of a, and for each change what the index holds
    after it and how many bytes it needs, measured in this process on a roomy copy."""
    from search import add, build, remove

    tmp = tmp_path_factory.mktemp("disk-full-corpora")
    a, b = _corpus(tmp / "a", "a", 6), _corpus(tmp / "b", "b", 40)
    pristine = device / "pristine"
    build([a], pristine)
    runs = {
        "index": lambda at: build([b], at),
        "add": lambda at: add([b], at),
        "remove": lambda at: remove(["a0", "a2", "a4"], at),
    }
    after, need = {}, {}
    for change, run in runs.items():
        scratch = device / "scratch"
        shutil.copytree(pristine, scratch)
        run(scratch)
        after[change] = document_state(scratch)
        need[change] = _used(scratch)  # the new generation is written whole beside the old one
        shutil.rmtree(scratch)
    return a, b, pristine, document_state(pristine), after, need


@pytest.mark.parametrize("change", ["index", "add", "remove"])
def test_a_change_on_a_full_device_fails_cleanly_and_succeeds_after(device, setup, change: str) -> None:
    a, b, pristine, before, after, need = setup
    command = {
        "index": ["index", str(b), "--quiet"],
        "add": ["add", str(b), "--quiet"],
        "remove": ["remove", "a0", "a2", "a4"],
    }[change]
    index = device / f"index-{change}"
    shutil.copytree(pristine, index)
    assert after[change] != before

    ballast = _fill(device, need[change] // 3)  # the change runs out of space part way
    try:
        failed = _cli(*command, "--index", str(index))
        lines = failed.stderr.strip().splitlines()
        assert failed.returncode == 7, failed.stderr
        assert len(lines) == 1 and lines[0].startswith("fpsearch: no space left on the device"), failed.stderr

        # the previous generation is live and whole, and checking it needs no free space
        assert document_state(index) == before
        assert _leftovers(index) == []
        checked = CliRunner().invoke(app, ["check", "--index", str(index)])
        assert checked.exit_code == 0, checked.output
    finally:
        ballast.unlink()

    again = CliRunner().invoke(app, [*command, "--index", str(index)])  # in-process: its model is loaded
    assert again.exit_code == 0, again.output
    assert document_state(index) == after[change]
    assert _leftovers(index) == []
    shutil.rmtree(index)


def test_post_documents_on_a_full_device_is_a_507(device, setup, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    from search.server import create_app

    a, b, pristine, before, after, need = setup
    index = device / "index-http"
    shutil.copytree(pristine, index)
    monkeypatch.setenv("FPSEARCH_TOKEN", "s3cret")
    auth = {"Authorization": "Bearer s3cret"}
    docs = [
        {"doc_id": f"http-{i}", "title": f"HTTP {i}", "text": f"Statement {i} on the Kuril Islands talks."}
        for i in range(20)
    ]
    with TestClient(create_app(index)) as client:
        ballast = _fill(device, need["add"] // 3)
        try:
            r = client.post("/documents", json={"documents": docs}, headers=auth)
            assert r.status_code == 507, r.text
            assert r.json()["detail"].startswith("no space left on the device")
            assert document_state(index) == before and _leftovers(index) == []
            assert client.get("/search", params={"q": "Kuril Islands"}).status_code == 200  # still serving
        finally:
            ballast.unlink()
        assert client.post("/documents", json={"documents": docs}, headers=auth).status_code == 200
    shutil.rmtree(index)
