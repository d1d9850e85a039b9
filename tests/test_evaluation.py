"""Metrics, BEIR loading and evaluation on a small corpus (``search.evaluation``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from search import Engine, build
from search.errors import InvalidInput
from search.evaluation import evaluate, load_qrels, load_queries, score_run
from search.store import EmbeddedStore


def test_score_run_matches_hand_computed_metrics() -> None:
    qrels = {"q1": {"a": 2, "b": 1}, "q2": {"c": 1}}
    run = {"q1": ["b", "x", "a"], "q2": ["y"]}
    result = score_run(run, qrels)
    assert result.per_query["q1"]["recall@10"] == 1.0
    assert result.per_query["q1"]["mrr@10"] == 1.0
    assert result.per_query["q2"] == {"ndcg@10": 0.0, "recall@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    ideal = 2 + 1 / np.log2(3)
    got = 1 + 2 / np.log2(4)
    assert result.per_query["q1"]["ndcg@10"] == pytest.approx(got / ideal, abs=1e-4)
    assert result.metrics["recall@10"] == 0.5


def test_mrr_is_cut_at_ten() -> None:
    run = {"q": [f"d{i}" for i in range(20)]}
    assert score_run(run, {"q": {"d12": 1}}).per_query["q"]["mrr@10"] == 0.0
    assert score_run(run, {"q": {"d3": 1}}).per_query["q"]["mrr@10"] == pytest.approx(0.25)


def test_beir_files_load(tmp_path: Path) -> None:
    (tmp_path / "q.jsonl").write_text('{"_id": "1", "text": "gas transit"}\n{"_id": 2, "text": "islands"}\n')
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n1\tnotes/energy.txt\t2\n2\tkuril.md\t1\n")
    assert load_queries(tmp_path / "q.jsonl") == {"1": "gas transit", "2": "islands"}
    assert load_qrels(tmp_path / "qrels.tsv") == {"1": {"notes/energy.txt": 2}, "2": {"kuril.md": 1}}
    (tmp_path / "bad.jsonl").write_text('{"text": "no id"}\n')
    with pytest.raises(InvalidInput, match="bad.jsonl:1"):
        load_queries(tmp_path / "bad.jsonl")


def test_evaluate_on_a_small_corpus(tmp_path: Path, corpus: Path, fake) -> None:
    build([corpus], tmp_path / "idx", model=fake)
    engine = Engine(EmbeddedStore.open(tmp_path / "idx"), fake)
    queries = {"1": "gas transit contract", "2": "Kuril Islands peace treaty", "3": "unjudged"}
    qrels = {"1": {"notes/energy.txt": 2}, "2": {"kuril.md": 2}}
    for mode in ("dense", "lexical", "hybrid"):
        result = evaluate(engine, queries, qrels, mode=mode)
        assert result.queries == 2
        assert result.metrics["mrr@10"] == 1.0, mode
        assert result.metrics["recall@100"] == 1.0
        assert result.settings["mode"] == mode
