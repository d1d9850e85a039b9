"""kill -9 during a real `fpsearch index`, then the same command: it resumes and ends where an
uninterrupted build ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness import seed_sample

from search import build
from search.store import EmbeddedStore


def test_kill_dash_nine_then_resume(tmp_path: Path) -> None:
    corpus = seed_sample(tmp_path, n=4)
    idx = tmp_path / "idx"
    env = {**os.environ, "FPSEARCH_PART_SIZE": "8", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "search", "index", str(corpus), "--index", str(idx), "--quiet", "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    parts: list[Path] = []
    while time.time() < deadline and proc.poll() is None:
        # finished parts only: a part being written is part-NNNNNN.tmp.npz until it is renamed
        parts = [p for p in idx.glob(".build/*/part-*.npz") if ".tmp" not in p.name]
        if len(parts) >= 2:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the build finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (idx / "CURRENT").exists(), "nothing may be published by a killed build"

    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["resumed"] >= 16, report
    assert "resuming" not in done.stdout

    reference = build([corpus], tmp_path / "ref")
    resumed = EmbeddedStore.open(idx)
    assert resumed.manifest["counts"] == EmbeddedStore.open(tmp_path / "ref").manifest["counts"]
    assert report["passages"] == reference.passages
    assert not (idx / ".build").exists()
