"""Rough edges a new user hits in a first hour, each pinned by a test that fails if it comes back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from search.cli import app
from search.documents import load_documents

runner = CliRunner()
SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_a_failed_build_leaves_no_lock_and_no_folder(tmp_path: Path) -> None:
    target = tmp_path / "X"
    assert run("index", str(tmp_path / "nonexistent"), "--index", str(target)).exit_code == 2
    assert not target.exists()
    (tmp_path / "empty").mkdir()
    assert run("index", str(tmp_path / "empty"), "--index", str(target)).exit_code == 2
    assert not target.exists(), "a build with nothing to index must not leave X/.lock"
    existing = tmp_path / "mine"
    existing.mkdir()
    assert run("index", str(tmp_path / "empty"), "--index", str(existing)).exit_code == 2
    assert existing.is_dir() and list(existing.iterdir()) == [], "a folder the user made stays, empty"


def test_doc_prints_one_source_line_and_lists_as_words(real_index: Path) -> None:
    hit = json.loads(
        run(
            "query", "Kuril", "--index", str(real_index), "--json", "-k", "1", "--where", "country=Russian Federation"
        ).stdout.splitlines()[0]
    )
    stored = json.loads(run("doc", hit["doc_id"], "--index", str(real_index), "--json").stdout)
    assert "source" in stored["metadata"] and isinstance(stored["metadata"]["tags"], list)
    head = run("doc", hit["doc_id"], "--index", str(real_index)).stdout.split("\n\n", 1)[0].splitlines()
    assert sum(line.startswith("source:") for line in head) == 1, head
    assert not any('["' in line or line.endswith("[]") for line in head), "list metadata printed as raw JSON"
    tags = next(line for line in head if line.strip().startswith("tags:"))
    assert tags.split(":", 1)[1].strip() == (", ".join(stored["metadata"]["tags"]) or "—")


def test_doc_help_explains_start_and_end() -> None:
    out = run("doc", "--help").stdout
    assert "text[start:end]" in out and "Show only text." not in out
    assert "FPSEARCH_STORE" in run("query", "--help").stdout, "bracketed help text must not be eaten as markup"


def test_a_large_k_says_how_many_hits_there_were(real_index: Path) -> None:
    result = run("query", "Kuril Islands", "--index", str(real_index), "-k", "100000", "--json")
    assert result.exit_code == 0
    n = len(result.stdout.splitlines())
    assert 0 < n < 100000
    assert f"{n:,} hits, fewer than the 100,000 asked for" in result.stderr
    assert "--per-doc 0" in result.stderr
    assert "fewer than" not in run("query", "Kuril Islands", "--index", str(real_index), "-k", "3").stderr


def test_build_report_counts_in_good_english(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Arctic\nThe Northern Sea Route runs along the polar coast.")
    result = run("index", str(corpus), "--index", str(tmp_path / "i"), "--quiet")
    assert result.exit_code == 0
    line = result.stderr.strip().splitlines()[-1]
    assert "1 document, 1 passage;" in line and "documents" not in line
    assert "/s" not in line, "a rate over one passage measures the model's loading, not embedding"
    assert "embedded 1 passage in " in line


def test_http_errors_name_parameters_not_cli_flags(real_index: Path) -> None:
    from search.server import create_app

    with TestClient(create_app(real_index)) as client:
        for params in (
            {"q": "x", "since": "yesterday"},
            {"q": "x", "since": "2020", "until": "2019"},
            {"q": "x", "where": "country"},
        ):
            r = client.get("/search", params=params)
            assert 400 <= r.status_code < 500, r.text
            assert "--" not in r.json()["detail"], r.json()
        for body in ({"input": ""}, {"input": ["Kuril Islands", ""]}):
            r = client.post("/v1/embeddings", json=body)
            assert r.status_code == 422 and "empty string" in json.dumps(r.json()), r.text


def test_the_seed_article_has_its_title_date_and_clean_lines() -> None:
    article = next(d for d in load_documents([SEEDS]) if d.doc_id == "russia-japan-kuril-islands.txt")
    assert article.title != "Russia japan kuril islands" and "Kuril" in article.title
    assert article.date == "2016-04"
    assert article.metadata["publisher"] == "Russia Direct"
    assert not any(line != line.rstrip() for line in article.text.splitlines())


@pytest.mark.parametrize("sidecar", ["{not json", "[1, 2]"])
def test_a_broken_sidecar_is_reported_and_the_text_still_indexed(tmp_path: Path, sidecar: str) -> None:
    from search.documents import LoadReport

    (tmp_path / "a.txt").write_text("Arctic\nThe Northern Sea Route.")
    (tmp_path / "a.txt.json").write_text(sidecar)
    report = LoadReport()
    docs = list(load_documents([tmp_path], report))
    assert [d.title for d in docs] == ["Arctic"]
    assert len(report.problems) == 1 and "a.txt.json" in str(report.problems[0])
