from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from search import Engine, Filter, build, remove
from search.errors import (
    IndexDamaged,
    IndexIncompatible,
    IndexMissing,
    InvalidInput,
    SourceError,
)
from search.store import FORMAT_VERSION, EmbeddedStore
from search.store.embedded import current_generation


def _engine(index: Path, fake) -> Engine:
    return Engine(EmbeddedStore.open(index), fake)


def _all_passages(store: EmbeddedStore):
    ids = store.vectors.ids().tolist()
    return store.passages(ids)


def test_build_and_search_with_exact_spans(tmp_path: Path, corpus: Path, fake) -> None:
    report = build([corpus], tmp_path / "idx", model=fake)
    assert report.documents == 4 and report.passages >= 4 and report.published
    assert any("malformed JSON" in str(p) for p in report.problems)
    engine = _engine(tmp_path / "idx", fake)
    hits = engine.search("Nord Stream pipeline Germany", k=3, mode="dense", sentence_weight=0.0)
    assert hits[0].doc_id == "k-1"
    assert hits[0].cosine == pytest.approx(hits[0].score)
    for rec in _all_passages(engine.store).values():
        assert engine.document(rec.doc_id).text[rec.start : rec.end] == rec.text
    manifest = engine.manifest
    assert manifest["format_version"] == FORMAT_VERSION == 2 and manifest["model"]["name"] == "fake-bow"
    assert manifest["counts"] == {"documents": 4, "passages": engine.store.passage_count}
    assert set(manifest["files"]) == {"store.sqlite", "vectors.faiss"}


def test_k_is_clamped_and_never_returns_missing_rows(tmp_path: Path, corpus: Path, fake) -> None:
    build([corpus], tmp_path / "idx", model=fake)
    engine = _engine(tmp_path / "idx", fake)
    hits = engine.search("islands", k=1000, mode="dense", per_doc=None)
    assert len(hits) == engine.store.passage_count
    assert len({h.passage_id for h in hits}) == len(hits)
    with pytest.raises(InvalidInput):
        engine.search("islands", k=0)
    with pytest.raises(InvalidInput):
        engine.search("   ")


def test_per_doc_limits_passages_from_one_document(tmp_path: Path, fake) -> None:
    (tmp_path / "c").mkdir()
    long = " ".join(f"Pipeline sentence {i} about gas." for i in range(200))
    (tmp_path / "c" / "long.txt").write_text("Long\n" + long)
    (tmp_path / "c" / "short.txt").write_text("Short\nA pipeline for gas.")
    build([tmp_path / "c"], tmp_path / "idx", model=fake)
    engine = _engine(tmp_path / "idx", fake)
    hits = engine.search("pipeline gas", k=5, per_doc=1)
    assert sorted(h.doc_id for h in hits) == ["long.txt", "short.txt"]
    assert len(engine.search("pipeline gas", k=5, per_doc=None)) == 5
    # 0 means no limit in the library too, as in the CLI (--per-doc 0) and HTTP (per_doc=0)
    assert engine.search("pipeline gas", k=5, per_doc=0) == engine.search("pipeline gas", k=5, per_doc=None)
    with pytest.raises(InvalidInput, match="per_doc"):
        engine.search("pipeline gas", k=5, per_doc=-1)


class ExplodingEmbedder:
    """Wraps an embedder and fails after ``after`` calls, like a build killed part way."""

    def __init__(self, inner, after: int) -> None:
        self.inner, self.after, self.name = inner, after, inner.name

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_passages(self, *args, **kwargs):
        if self.after == 0:
            raise KeyboardInterrupt
        self.after -= 1
        return self.inner.embed_passages(*args, **kwargs)


def test_interrupted_build_keeps_old_index_and_resumes(tmp_path: Path, corpus: Path, fake, monkeypatch) -> None:
    idx = tmp_path / "idx"
    build([corpus / "kuril.md"], idx, model=fake)
    old = EmbeddedStore.open(idx).manifest
    monkeypatch.setenv("FPSEARCH_PART_SIZE", "2")
    with pytest.raises(KeyboardInterrupt):
        build([corpus], idx, model=ExplodingEmbedder(fake, after=1))
    store = EmbeddedStore.open(idx)
    assert store.manifest == old and store.gen == current_generation(idx)
    assert not list(idx.glob(".tmp-*"))
    report = build([corpus], idx, model=fake)
    assert report.resumed == 2 and report.embedded == report.passages - 2
    assert EmbeddedStore.open(idx).manifest["counts"]["documents"] == 4
    assert not (idx / ".build").exists()


def test_open_refuses_missing_mismatched_and_damaged(tmp_path: Path, corpus: Path, fake) -> None:
    with pytest.raises(IndexMissing, match="fpsearch index"):
        EmbeddedStore.open(tmp_path / "none")
    idx = tmp_path / "idx"
    build([corpus], idx, model=fake)
    with pytest.raises(IndexIncompatible, match="built with model 'fake-bow'"):
        EmbeddedStore.open(idx, model="sentence-transformers/all-MiniLM-L6-v2")
    gen = current_generation(idx)
    manifest = json.loads((gen / "manifest.json").read_text())
    (gen / "manifest.json").write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(IndexIncompatible, match="format 99"):
        EmbeddedStore.open(idx)
    (gen / "manifest.json").write_text(json.dumps(manifest))
    data = (gen / "vectors.faiss").read_bytes()
    (gen / "vectors.faiss").write_bytes(data[:-100])
    with pytest.raises(IndexDamaged, match="damaged"):
        EmbeddedStore.open(idx)
    (gen / "vectors.faiss").write_bytes(b"\0" * len(data))
    with pytest.raises(IndexDamaged, match="FAISS"):
        EmbeddedStore.open(idx)


def test_build_rejects_bad_input(tmp_path: Path, fake) -> None:
    with pytest.raises(SourceError):
        build([tmp_path / "missing"], tmp_path / "idx", model=fake)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no documents"):
        build([tmp_path / "empty"], tmp_path / "idx", model=fake)
    assert not (tmp_path / "idx" / "CURRENT").exists()


def test_search_many_matches_single_searches(tmp_path: Path, corpus: Path, fake) -> None:
    build([corpus], tmp_path / "idx", model=fake)
    engine = _engine(tmp_path / "idx", fake)
    queries = ["gas transit", "Kuril Islands", "polar coast shipping"]
    batch = engine.search_many(queries, k=3)
    assert batch == [engine.search(q, k=3) for q in queries]
    assert np.allclose(np.linalg.norm(engine.embed(queries), axis=1), 1.0)


def test_ann_index_keeps_deletes_filters_and_exact_fallback(tmp_path: Path, fake, monkeypatch) -> None:
    monkeypatch.setenv("FPSEARCH_ANN_THRESHOLD", "300")
    rows = [
        {
            "_id": f"d{i}",
            "date": f"{2000 + i % 20}-01-01",
            "text": " ".join(f"topic{(i * 7 + j) % 97}" for j in range(12)),
        }
        for i in range(400)
    ]
    corpus = tmp_path / "many.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in rows))
    idx = tmp_path / "idx"
    build([corpus], idx, model=fake)
    store = EmbeddedStore.open(idx)
    assert store.vectors.is_ann and store.manifest["vectors"]["type"].startswith("IVF")
    engine = Engine(store, fake)
    exact = engine.search("topic5 topic12", k=10, mode="dense", per_doc=None, exact=True)
    approx = engine.search("topic5 topic12", k=10, mode="dense", per_doc=None)
    assert len(approx) == 10 and approx[0].passage_id == exact[0].passage_id
    only_2019 = engine.search("topic5", k=5, mode="dense", where=Filter.build(since="2019", until="2019"))
    assert len(only_2019) == 5 and {h.date[:4] for h in only_2019} == {"2019"}
    remove(["d0", "d1"], idx)
    store = EmbeddedStore.open(idx)
    assert store.vectors.is_ann and store.passage_count == store.vectors.ntotal
    assert sorted(store.vectors.ids().tolist()) == sorted(store.passages(store.vectors.ids().tolist()))


def test_exporting_the_query_encoder_leaves_the_model_as_loaded(tmp_path: Path, monkeypatch) -> None:
    """The ONNX export traces the model; the process's own model must embed the same afterwards."""
    from search.embedding import SentenceTransformerEmbedder

    monkeypatch.setenv("FPSEARCH_CACHE", str(tmp_path / "cache"))
    embedder = SentenceTransformerEmbedder("minilm", passage_runtime="torch")
    texts = [
        "The Kuril Islands dispute has kept Russia and Japan from a peace treaty since 1945.",
        "Short one.",
        "Talks on joint economic activity on the islands continued. " * 6,
    ]
    spans = [[(0, 10)]] * len(texts)
    before, _ = embedder.embed_passages(texts, spans)
    query = embedder.embed(["Kuril Islands position"])  # exports to the fresh cache, then runs ONNX
    assert list((tmp_path / "cache").rglob("model.onnx")), "the query encoder was not exported"
    after, _ = embedder.embed_passages(texts, spans)
    assert np.allclose(before, after, atol=1e-6)
    assert np.allclose(query, embedder.model.encode(["Kuril Islands position"], normalize_embeddings=True), atol=1e-5)
