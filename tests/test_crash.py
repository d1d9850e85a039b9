"""kill -9 at many moments of `index`, `add` and `remove`: the index always opens, passes `check`, and
holds exactly the state before or after the change; running the change again completes it."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import document_state

from search import build
from search.store.embedded import check_index

WORKER = Path(__file__).resolve().parent / "crash_worker.py"


def _corpus(path: Path, prefix: str, n: int, words: int = 60) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    rows = [
        {
            "_id": f"{prefix}{i}",
            "title": f"{prefix} {i}",
            "date": f"{2000 + i % 20}",
            "text": " ".join(
                f"Sentence {j} of {prefix} document {i} mentions topic{(i * j) % 31}." for j in range(words)
            ),
        }
        for i in range(n)
    ]
    (path / f"{prefix}.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from fakes import FakeEmbedder

    tmp = tmp_path_factory.mktemp("crash")
    a = _corpus(tmp / "a", "a", 40)
    b = _corpus(tmp / "b", "b", 30)
    c = _corpus(tmp / "c", "c", 15)
    pristine = tmp / "pristine"
    build([a], pristine, model=FakeEmbedder())
    ops = {"index": [str(b)], "add": [str(c)], "remove": [f"a{i}" for i in range(0, 40, 3)]}
    after = {}
    for op, args in ops.items():
        target = tmp / f"after-{op}"
        shutil.copytree(pristine, target)
        subprocess.run([sys.executable, str(WORKER), op, str(target), *args], check=True, timeout=120)
        after[op] = document_state(target)
        shutil.rmtree(target)
    return tmp, pristine, ops, document_state(pristine), after


def _timed_run(cmd: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, timeout=120)
    return time.perf_counter() - started


@pytest.mark.parametrize("op", ["index", "add", "remove"])
def test_kill_nine_at_random_moments(setup, op: str) -> None:
    tmp, pristine, ops, before, after = setup
    env = {**os.environ, "FPSEARCH_PART_SIZE": "16"}
    rng = random.Random(f"crash-{op}")
    work = tmp / f"work-{op}"
    shutil.copytree(pristine, work)
    cmd = [sys.executable, str(WORKER), op, str(work), *ops[op]]
    duration = _timed_run(cmd, env)
    shutil.rmtree(work)
    outcomes = {"before": 0, "after": 0}
    for attempt in range(8):
        shutil.copytree(pristine, work)
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.25, 1.1) * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        facts, problems = check_index(work)
        assert not problems, f"attempt {attempt}: {problems}"
        state = document_state(work)
        assert state in (before, after[op]), f"attempt {attempt}: a mix of before and after"
        outcomes["before" if state == before else "after"] += 1
        if state == before:  # (a finished remove cannot run twice: its ids are gone)
            subprocess.run(cmd, check=True, env=env, timeout=120)
        assert document_state(work) == after[op]
        assert not check_index(work)[1]
        shutil.rmtree(work)
    print(f"{op}: killed 8 times within {duration:.2f} s: {outcomes}")
    assert outcomes["before"] > 0, outcomes
