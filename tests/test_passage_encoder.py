"""The passage encoder: the fused ONNX graph embeds passages and sentences as PyTorch float32 does, an
index records which of the two embedded it, and a change to an index embeds as the index was built."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from search import add, build
from search.cli import app
from search.embedding import SentenceTransformerEmbedder, make_embedder
from search.errors import InvalidInput
from search.store import EmbeddedStore


def _contents(index: Path) -> dict[tuple[str, int, int], tuple[np.ndarray, np.ndarray]]:
    """Every passage of an index by (document, start, end): its vector and its sentence vectors."""
    store = EmbeddedStore.open(index)
    try:
        out = {}
        for doc in store.iter_documents():
            rows = store.document_passages(doc.doc_id)
            ids = [r[0] for r in rows]
            sentences = store.sentences(ids)
            for (pid, start, end), vector in zip(rows, store.vectors_of(ids)):
                out[(doc.doc_id, start, end)] = (vector, sentences[pid][1])
        return out
    finally:
        store.close()


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return (a * b).sum(axis=-1)


def test_a_fused_build_equals_the_float32_build(real_index: Path, tmp_path: Path, monkeypatch) -> None:
    """The seed sample built by PyTorch float32 and by the fused graph (the default ``real_index``):
    the same passages, with vectors and sentence vectors within the issue's bounds (cosine ≥ 0.999
    median and ≥ 0.995 least; in practice both are ≥ 0.99999)."""
    from harness import seed_sample

    monkeypatch.setenv("FPSEARCH_PASSAGE_RUNTIME", "torch")
    build([seed_sample(tmp_path)], tmp_path / "torch")
    fused, plain = _contents(real_index), _contents(tmp_path / "torch")
    assert EmbeddedStore.open(real_index).manifest.model.runtime == "onnx"
    assert EmbeddedStore.open(tmp_path / "torch").manifest.model.runtime == "torch"
    assert fused.keys() == plain.keys() and len(fused) > 20
    passages = _cosines(np.stack([fused[k][0] for k in fused]), np.stack([plain[k][0] for k in fused]))
    sentences = np.concatenate([_cosines(fused[k][1], plain[k][1]) for k in fused])
    assert len(sentences) > len(passages)
    assert np.median(passages) >= 0.999 and passages.min() >= 0.995
    assert np.median(sentences) >= 0.999 and sentences.min() >= 0.995


def test_the_fused_graph_embeds_as_pytorch_does() -> None:
    """Straight from the encoders (no storage rounding): far inside the bounds."""
    texts = [
        "Vladimir Putin: We do not trade territories, although the problem of concluding a peace treaty "
        "with Japan is important. " * 3,
        "Question: What is Russia's position on the Kuril Islands?",
        "Short one.",
    ]
    spans = [[(0, 14), (15, 60)], [(0, 9), (10, 57)], [(0, 10)]]
    onnx = SentenceTransformerEmbedder("minilm", passage_runtime="onnx")
    torch = SentenceTransformerEmbedder("minilm", passage_runtime="torch")
    assert (onnx.passage_runtime, torch.passage_runtime) == ("onnx", "torch")
    a, a_parts = onnx.embed_passages(texts, spans)
    b, b_parts = torch.embed_passages(texts, spans)
    assert _cosines(a, b).min() >= 0.99999
    for x, y in zip(a_parts, b_parts):
        assert x.shape == y.shape and _cosines(x, y).min() >= 0.99999


def test_an_unfaithful_graph_is_refused() -> None:
    """The check that keeps a fused graph can fail: the int8 query graph is close (cosine ~0.99) but
    not the same vectors, and is refused."""
    from search import onnx as onnx_runtime

    embedder = SentenceTransformerEmbedder("minilm", query_precision="int8")
    int8 = embedder._onnx_encoder("int8")
    assert int8 is not None
    with pytest.raises(ValueError, match="not faithful"):
        onnx_runtime._check_faithful(embedder.model, int8.path)


def test_a_change_embeds_as_the_index_was_built() -> None:
    """``add`` makes its embedder from the manifest's ``model.runtime``: PyTorch for an index PyTorch
    embedded (and every index older than the record), the fused graph for one it embedded."""
    assert make_embedder("minilm", passages="torch").passage_runtime == "torch"
    assert make_embedder("minilm", passages="onnx").passage_runtime == "onnx"


def test_add_to_a_pytorch_index_stays_pytorch(tmp_path: Path, corpus: Path, monkeypatch) -> None:
    monkeypatch.setenv("FPSEARCH_PASSAGE_RUNTIME", "torch")
    build([corpus / "kuril.md"], tmp_path / "idx")
    monkeypatch.delenv("FPSEARCH_PASSAGE_RUNTIME")
    used = []
    real = SentenceTransformerEmbedder.embed_passages

    def spy(self, *args, **kwargs):
        used.append(self.passage_runtime)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SentenceTransformerEmbedder, "embed_passages", spy)
    add([corpus / "notes"], tmp_path / "idx")
    assert used == ["torch"]
    result = CliRunner().invoke(app, ["info", "--index", str(tmp_path / "idx")])
    assert result.exit_code == 0 and "encoder    PyTorch float32" in result.output


def test_a_bad_passage_runtime_is_a_clear_error(monkeypatch) -> None:
    with pytest.raises(InvalidInput, match="FPSEARCH_PASSAGE_RUNTIME"):
        SentenceTransformerEmbedder("minilm", passage_runtime="tensorrt")
    monkeypatch.setenv("FPSEARCH_PASSAGE_RUNTIME", "gpu")
    result = CliRunner().invoke(app, ["query", "Kuril Islands", "--index", "nowhere"])
    assert result.exit_code != 0 and "FPSEARCH_PASSAGE_RUNTIME" in result.output
    assert "Traceback" not in result.output
