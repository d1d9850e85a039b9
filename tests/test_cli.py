"""The command line, driven in-process with typer's CliRunner, on the real bundled model."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from search.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _one_line_error(result, code: int, needle: str) -> None:
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("fpsearch: "), result.stderr
    assert needle in lines[0]
    assert "Traceback" not in result.output


def test_help_is_fast_and_every_command_is_documented() -> None:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "search", "--help"], capture_output=True, text=True, check=True)
    assert time.perf_counter() - started < 5, "--help must not load the model"
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        assert name in out.stdout
        assert command.callback.__doc__, f"{name} has no help text"
        assert f"fpsearch {name}" in readme, f"{name} is not in the README"


def test_query_json_spans_round_trip_through_doc(real_index: Path) -> None:
    result = run("query", "Kuril Islands position", "--index", str(real_index), "--json", "-k", "5")
    assert result.exit_code == 0, result.output
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(hits) == 5
    assert sum("Kuril" in h["text"] for h in hits[:3]) >= 2
    for h in hits:
        assert {"doc_id", "title", "date", "score", "start", "end", "text", "metadata"} <= h.keys()
        doc = json.loads(run("doc", h["doc_id"], "--index", str(real_index), "--json").stdout)
        assert doc["text"][h["start"] : h["end"]] == h["text"]
        assert h["start"] <= h["sentence_start"] < h["sentence_end"] <= h["end"]


def test_human_output_shows_rank_score_title_span(real_index: Path) -> None:
    result = run("query", "peace treaty with Japan", "--index", str(real_index), "-k", "2")
    assert result.exit_code == 0
    first = result.stdout.splitlines()[0]
    assert first.lstrip().startswith("1. ")
    assert any(":" in line and "-" in line and "kremlin-" in line for line in result.stdout.splitlines())


def test_doc_span_and_info(real_index: Path) -> None:
    hit = json.loads(run("query", "Kuril", "--index", str(real_index), "--json", "-k", "1").stdout)
    out = json.loads(
        run(
            "doc",
            hit["doc_id"],
            "--index",
            str(real_index),
            "--json",
            "--start",
            str(hit["start"]),
            "--end",
            str(hit["end"]),
        ).stdout
    )
    assert out["span"] == hit["text"]
    info = json.loads(run("info", "--index", str(real_index), "--json").stdout)
    assert info["model"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert info["model"]["dimension"] == 384
    assert info["counts"]["documents"] == 7
    text = run("info", "--index", str(real_index)).stdout
    assert "passages" in text and "all-MiniLM-L6-v2" in text


def test_bad_input_gives_one_line_and_nonzero_exit(real_index: Path, tmp_path: Path) -> None:
    _one_line_error(run("query", "   ", "--index", str(real_index)), 2, "query is empty")
    _one_line_error(
        run("query", "x", "-k", "0", "--index", str(real_index)), 2, "--k must be a whole number of at least 1"
    )
    _one_line_error(run("query", "x", "--index", str(tmp_path / "nothing")), 3, "no index at")
    _one_line_error(run("doc", "no-such-doc", "--index", str(real_index)), 5, "no document 'no-such-doc'")
    _one_line_error(
        run("index", str(tmp_path / "missing.txt"), "--index", str(tmp_path / "i")), 2, "no such file or folder"
    )
    _one_line_error(run("query", "x", "--since", "yesterday", "--index", str(real_index)), 2, "since 'yesterday'")
    _one_line_error(run("query", "x", "--mode", "magic", "--index", str(real_index)), 2, "mode must be")
    _one_line_error(run("doc", "x", "--index", str(real_index), "--start", "5", "--end", "2"), 5, "no document")
    _one_line_error(run("info", "--index", str(tmp_path / "nothing")), 3, "no index at")
    _one_line_error(run("query", "x", "--index", str(real_index), "--model", "mpnet-nope"), 3, "built with model")
    _one_line_error(run("serve", "--index", str(real_index), "--result-cache", "-1"), 2, "--result-cache")
    _one_line_error(run("serve", "--index", str(real_index), "--batch-threads", "-1"), 2, "--batch-threads")
    # library errors name the parameter (max_tokens, per_doc); the command line names its option
    _one_line_error(
        run("index", str(tmp_path), "--index", str(tmp_path / "i"), "--max-tokens", "8"),
        2,
        "--max-tokens must be at least 16",
    )
    _one_line_error(run("query", "x", "--per-doc", "-1", "--index", str(real_index)), 2, "--per-doc must be")


@pytest.mark.parametrize(
    "name, value",
    [
        ("FPSEARCH_MAX_K", "many"),
        ("FPSEARCH_BATCH_THREADS", "two"),
        ("FPSEARCH_SEARCH_THREADS", "abc"),
        ("FPSEARCH_SEARCH_THREADS", "0"),
    ],
)
def test_bad_settings_in_the_environment_give_one_line(real_index: Path, name: str, value: str) -> None:
    import os

    # every command reads the FPSEARCH_* variables at its start, before it loads a model or an index
    done = subprocess.run(
        [sys.executable, "-m", "search", "serve", "--index", str(real_index), "--port", "1"],
        env={**os.environ, name: value},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"fpsearch: {name} must be"), done.stderr


def test_first_query_builds_the_default_index(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FPSEARCH_INDEX", raising=False)
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "note.txt").write_text("Kurils\nThe Kuril Islands dispute with Japan continues.")
    result = run("query", "Kuril Islands position", "--json")
    assert result.exit_code == 0, result.output
    assert "building it from seeds" in result.stderr
    assert json.loads(result.stdout.splitlines()[0])["doc_id"] == "note.txt"
    assert (tmp_path / "index" / "CURRENT").exists()


def test_index_add_remove_commands(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Arctic\nThe Northern Sea Route runs along the polar coast.")
    idx = str(tmp_path / "idx")
    built = run("index", str(corpus), "--index", idx, "--json", "--quiet")
    assert built.exit_code == 0 and json.loads(built.stdout)["passages"] == 1
    (corpus / "b.txt").write_text("Caspian\nThe legal status of the Caspian Sea was agreed.")
    added = json.loads(run("add", str(corpus), "--index", idx, "--json", "--quiet").stdout)
    assert (added["added"], added["unchanged"]) == (1, 1)
    assert run("remove", "a.txt", "--index", idx).exit_code == 0
    info = json.loads(run("info", "--index", idx, "--json").stdout)
    assert info["counts"] == {"documents": 1, "passages": 1}
    _one_line_error(run("remove", "a.txt", "--index", idx), 5, "no such document")


@pytest.mark.parametrize("args", [["query"], ["doc"], ["remove"]])
def test_missing_arguments_are_usage_errors(args) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
