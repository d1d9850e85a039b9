"""Queries are embedded by a static int8 copy of the model's ONNX export: batch-independent, close to float32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from search import Engine
from search import onnx as onnx_runtime
from search.embedding import SentenceTransformerEmbedder
from search.errors import InvalidInput

QUERIES = [
    "Kuril Islands position",
    "What did Putin say about a peace treaty with Japan?",
    "sanctions",
    "Vitamin D supplementation does not prevent fractures in adults.",
    "talks on the withdrawal of troops and a ceasefire along the line of contact " * 12,  # past the window
]


def test_queries_go_through_a_static_int8_copy_that_answers_as_one_query_at_a_time(real_index: Path) -> None:
    int8 = SentenceTransformerEmbedder("minilm", query_precision="int8")
    float32 = SentenceTransformerEmbedder("minilm", query_precision="float32")
    encoder = int8._onnx_encoder("int8")
    assert encoder.path.name.startswith("model-int8-") and encoder.path.parent == int8._onnx_encoder().path.parent
    batch = int8.embed_queries(QUERIES)
    # fixed activation scales: a query's vector does not depend on its batch mates or their order
    assert np.array_equal(batch, np.vstack([int8.embed_queries([q]) for q in QUERIES]))
    assert np.array_equal(batch[::-1], int8.embed_queries(QUERIES[::-1]))
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    many = [f"{q} ({n})" for n in range(14) for q in QUERIES[:5]]  # more than a short batch (64)
    assert np.array_equal(
        int8.embed_queries(many), np.vstack([int8.embed_queries(many[i : i + 7]) for i in range(0, 70, 7)])
    )
    reference = float32.embed_queries(QUERIES)
    assert np.array_equal(reference, float32.embed(QUERIES))
    cosines = (batch * reference).sum(axis=1)
    assert cosines.min() > 0.985, cosines
    assert not np.allclose(batch, reference, atol=1e-4)  # the int8 file is really the one running
    # the engine (and so /search and /v1/embeddings) embeds queries this way
    assert np.array_equal(Engine.open(real_index).embed(QUERIES), batch)


def test_query_precision_is_checked(monkeypatch) -> None:
    with pytest.raises(InvalidInput, match="int8 or float32"):
        SentenceTransformerEmbedder("minilm", query_precision="int4")
    monkeypatch.setenv("FPSEARCH_QUERY_PRECISION", "fp16")
    with pytest.raises(InvalidInput, match="int8 or float32"):
        SentenceTransformerEmbedder("minilm")


def test_a_model_that_cannot_be_quantized_leaves_nothing_and_queries_stay_float32(tmp_path: Path, monkeypatch) -> None:
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"not an onnx graph")
    tokenizer = SentenceTransformerEmbedder("minilm")._light()["tokenizer"]
    assert onnx_runtime.quantized(broken, tokenizer, 256) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]

    monkeypatch.setattr(onnx_runtime, "quantized", lambda *args: None)
    fallback = SentenceTransformerEmbedder("minilm", query_precision="int8")
    assert fallback._onnx_encoder("int8") is None and fallback._onnx_encoder() is not None
    assert np.array_equal(fallback.embed_queries(QUERIES), fallback.embed(QUERIES))
