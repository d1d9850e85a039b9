"""Progress where there is no terminal: timed lines from the CLI, a callback or log lines from the library."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

from search import Update, build
from search.progress import Reporter

LINE = re.compile(r"^fpsearch: embedding: [\d,]+ of [\d,]+ passages \(\d+%\), [\d,.]+/s")


def test_a_reporter_speaks_once_per_interval_and_at_the_end() -> None:
    now = [0.0]
    seen: list[Update] = []
    r = Reporter(seen.append, interval=10, clock=lambda: now[0])
    r.stage("embedding", total=400, done=40)  # 40 resumed from an earlier run
    for _ in range(36):
        now[0] += 1
        r.advance(10)
    assert [u.done for u in seen] == [140, 240, 340, 400]
    assert seen[0].per_second == 10.0 and seen[0].eta_seconds == 26.0
    assert str(seen[0]) == "embedding: 140 of 400 passages (35%), 10.0/s, about 26 s left"
    assert str(seen[-1]) == "embedding: 400 of 400 passages (100%), 10.0/s"


def test_a_short_stage_under_the_interval_says_nothing() -> None:
    seen: list[Update] = []
    r = Reporter(seen.append, interval=10, clock=lambda: 0.0)
    r.stage("writing", total=3)
    for _ in range(3):
        r.advance(1)
    assert seen == []


def test_build_calls_a_plain_callback_with_every_batch(corpus: Path, tmp_path: Path, fake) -> None:
    seen: list[Update] = []
    report = build([corpus], tmp_path / "idx", model=fake, progress=seen.append)
    embedding = [u for u in seen if u.stage == "embedding"]
    assert embedding and embedding[-1].done == embedding[-1].total == report.passages
    assert {u.stage for u in seen} >= {"reading", "chunking", "embedding", "writing"}


def test_build_logs_its_progress_when_given_none(corpus: Path, tmp_path: Path, fake, caplog, monkeypatch) -> None:
    monkeypatch.setattr("search.progress.LOG_INTERVAL", 0.0)
    with caplog.at_level(logging.INFO, logger="search.indexing"):
        build([corpus], tmp_path / "idx", model=fake)
    assert any(r.getMessage().startswith("embedding: ") and "passages" in r.getMessage() for r in caplog.records)


def test_a_piped_index_prints_progress_lines(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    for i in range(40):
        (corpus / f"{i:02d}.txt").write_text(f"Note {i}\nThe Kuril Islands talks went on for round {i}.")
    env = {**os.environ, "FPSEARCH_PROGRESS_SECONDS": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "search", "index", str(corpus), "--index", str(tmp_path / "i")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if LINE.match(line)]
    assert lines and lines[-1].startswith("fpsearch: embedding: 40 of 40 passages (100%)"), done.stderr
    assert "\x1b[" not in done.stderr, "no terminal control codes in a pipe"
