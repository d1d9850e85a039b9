"""The same behaviour from every store: the embedded folder and PostgreSQL (writes to the primary,
reads from a streaming replica)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search import Filter, add, build, remove
from search.errors import DocumentNotFound, IndexBusy, InvalidInput
from search.indexing import copy_index
from search.store import FORMAT_VERSION, target


def test_build_search_and_exact_spans(backend, corpus: Path, fake) -> None:
    report = build([corpus], backend.location, model=fake)
    assert report.documents == 4 and report.published
    engine = backend.engine(fake)
    hits = engine.search("Nord Stream pipeline Germany", k=3, mode="dense", sentence_weight=0.0)
    assert hits[0].doc_id == "k-1"
    assert hits[0].cosine == pytest.approx(hits[0].score, abs=1e-5)
    for h in engine.search("islands transit gas pipeline", k=20, per_doc=None):
        assert engine.document(h.doc_id).text[h.start : h.end] == h.text
    assert engine.manifest["counts"]["documents"] == 4
    assert engine.manifest["model"]["name"] == "fake-bow"
    facts, problems = target(backend.location).check()
    assert not problems, problems


def test_every_mode_finds_and_highlights(backend, corpus: Path, fake) -> None:
    build([corpus], backend.location, model=fake)
    engine = backend.engine(fake)
    for mode in ("dense", "lexical", "hybrid"):
        hits = engine.search("gas transit contract", k=5, mode=mode)
        assert hits and hits[0].doc_id == "notes/energy.txt", mode
        for h in hits:
            assert h.start <= h.sentence_start < h.sentence_end <= h.end
        assert "transit" in hits[0].sentence


def test_k_clamped_and_bad_input(backend, corpus: Path, fake) -> None:
    build([corpus], backend.location, model=fake)
    engine = backend.engine(fake)
    hits = engine.search("islands", k=1000, mode="dense", per_doc=None)
    assert len(hits) == engine.store.passage_count == len({h.passage_id for h in hits})
    for text in ('"unbalanced', "NEAR(a b) AND", "'; DROP TABLE fp_passages; --"):
        engine.search(text, k=3, mode="lexical")
    with pytest.raises(InvalidInput):
        engine.search("   ")


def test_filters_apply_before_top_k(backend, corpus: Path, fake) -> None:
    build([corpus], backend.location, model=fake)
    engine = backend.engine(fake)
    for mode in ("dense", "lexical", "hybrid"):
        year = engine.search(
            "shipping coast", k=5, mode=mode, where=Filter.build(since="2017-03-01", until="2017-03-31")
        )
        assert {h.doc_id for h in year} == {"k-2"}, mode
    assert not engine.search("shipping", k=5, where=Filter.build(since="2018-06-01"))
    tagged = engine.search("islands", k=5, mode="dense", where=Filter.build(where=["tags=Germany"]))
    assert {h.doc_id for h in tagged} == {"k-1"}
    either = engine.search("islands", k=5, mode="dense", per_doc=1, where=Filter.build(where=["tags=Arctic|Germany"]))
    assert {h.doc_id for h in either} == {"k-1", "k-2"}
    by_source = engine.search("islands", k=10, mode="dense", where=Filter.build(sources=["nothing"]))
    assert by_source == []


def test_add_update_remove(backend, corpus: Path, tmp_path: Path, fake) -> None:
    build([corpus], backend.location, model=fake)
    before = backend.engine(fake).manifest["counts"]
    assert add([corpus], backend.location, model=fake).unchanged == 4
    assert backend.engine(fake).manifest["counts"] == before
    new = tmp_path / "new"
    new.mkdir()
    (new / "baltic.txt").write_text("Kaliningrad transit\nTransit to the Kaliningrad exclave by rail.")
    assert add([new], backend.location, model=fake, source="corpus").added == 1
    assert backend.engine(fake).search("Kaliningrad exclave", k=1)[0].doc_id == "baltic.txt"
    (new / "baltic.txt").write_text("Kaliningrad transit\nVisa-free travel to Schengen states.")
    assert add([new], backend.location, model=fake, source="corpus").updated == 1
    engine = backend.engine(fake)
    for mode in ("dense", "lexical"):
        texts = [h.text for h in engine.search("Kaliningrad exclave rail", k=20, mode=mode, per_doc=None)]
        assert not any("rail" in t for t in texts), mode
    assert remove(["baltic.txt", "nope"], backend.location).removed == 1
    engine = backend.engine(fake)
    assert engine.manifest["counts"] == before
    for mode in ("dense", "lexical", "hybrid"):
        assert "baltic.txt" not in {h.doc_id for h in engine.search("Schengen", k=20, mode=mode, per_doc=None)}
    with pytest.raises(DocumentNotFound):
        engine.document("baltic.txt")
    assert not target(backend.location).check()[1]


def test_one_writer_at_a_time(backend, corpus: Path, fake) -> None:
    build([corpus], backend.location, model=fake)
    with target(backend.location).lock():
        with pytest.raises(IndexBusy, match="being changed"):
            add([corpus], backend.location, model=fake)


def test_copy_between_stores_keeps_every_answer(backend, corpus: Path, tmp_path: Path, fake) -> None:
    source = tmp_path / "source"
    build([corpus], source, model=fake)
    report = copy_index(source, backend.location)
    assert report.documents == 4
    original = backend.__class__("embedded", source, source, lambda: None).engine(fake)
    copied = backend.engine(fake)
    for mode in ("dense", "lexical", "hybrid"):
        a = [
            (h.doc_id, h.start, h.end, h.sentence_start) for h in original.search("gas transit islands", k=6, mode=mode)
        ]
        b = [(h.doc_id, h.start, h.end, h.sentence_start) for h in copied.search("gas transit islands", k=6, mode=mode)]
        assert a == b, mode


def test_manifest_is_json_and_versioned(backend, corpus: Path, fake) -> None:
    build([corpus], backend.location, model=fake)
    engine = backend.engine(fake)
    json.dumps(engine.manifest)
    assert engine.manifest["format_version"] == FORMAT_VERSION
    first = engine.store.version
    add([corpus / "kuril.md"], backend.location, model=fake, source="other")  # unchanged: no new version
    remove(["k-1"], backend.location)
    backend.sync()
    assert engine.store.is_stale()
    assert backend.engine(fake).store.version != first


def test_server_on_a_replica_answers_with_correct_spans(pg_cluster, real_index: Path) -> None:
    from fastapi.testclient import TestClient

    from search.server import create_app

    primary, replica = pg_cluster.create_database("served")
    copy_index(real_index, primary)
    pg_cluster.wait_for_replica()
    with TestClient(create_app(replica)) as client:
        info = client.get("/info").json()
        assert info["replica"] is True and info["vectors"]["type"] == "pgvector HNSW"
        body = client.get("/search", params={"q": "Kuril Islands position", "k": 5}).json()
        assert sum("Kuril" in h["text"] for h in body["hits"][:3]) >= 2
        for h in body["hits"]:
            doc = client.get(f"/documents/{h['doc_id']}", params={"start": h["start"], "end": h["end"]}).json()
            assert doc["span"] == h["text"]


def test_askers_are_read_from_the_turns_of_transcripts(backend, tmp_path: Path, fake) -> None:
    root = tmp_path / "talks"
    root.mkdir()
    interview = (
        "Interview\nAnna Asker: Will you give the islands back?\nVladimir Putin: Why should we? "
        "We do not trade territories.\nAnna Asker: Is a treaty possible?\nVladimir Putin: It is, in time.\n"
    )
    docs = [
        {"_id": "talk", "text": interview},
        {"_id": "speech", "speaker": "Mr. Orator", "text": "Peace matters. Who will keep it?"},  # one turn: no exchange
    ]
    (root / "t.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n", encoding="utf-8")
    build([root], backend.location, model=fake)
    store = backend.engine(fake).store
    assert {store.actors[i].name for i in store.askers()} == {"Anna Asker"}


def test_metadata_pairs_give_each_value_the_names_its_documents_carry(backend, tmp_path: Path, fake) -> None:
    root = tmp_path / "speeches"
    root.mkdir()
    docs = [
        {"_id": "a", "country": "United States of America", "iso3": "USA", "text": "Trade and peace."},
        {"_id": "b", "country": "USA", "iso3": "USA", "text": "Peace and trade."},
        {"_id": "c", "country": "Japan", "iso3": "JPN", "text": "The northern islands."},
        {"_id": "d", "country": ["a", "list"], "iso3": "XXX", "text": "Lists are not names."},
    ]
    (root / "s.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n", encoding="utf-8")
    build([root], backend.location, model=fake)
    store = backend.engine(fake).store
    assert store.metadata_pairs("iso3", "country") == {"USA": {"United States of America", "USA"}, "JPN": {"Japan"}}


def test_spellings_of_one_speaker_are_one_actor(backend, tmp_path: Path, fake) -> None:
    root = tmp_path / "debate"
    root.mkdir()
    docs = [
        {"_id": "a", "speaker": "Ban Ki-moon", "text": "Peace needs development. Development needs peace."},
        {"_id": "b", "speaker": "Ban Ki Moon", "text": "The islands are a matter for dialogue."},
        {"_id": "c", "speaker": "Ban Ki-moon", "text": "Climate change threatens every nation."},
        {"_id": "d", "speaker": "Mr. Gromyko", "text": "A peace treaty with Japan is possible."},
    ]
    (root / "s.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n", encoding="utf-8")
    build([root], backend.location, model=fake)
    engine = backend.engine(fake)
    listed = {a.name: a for a in engine.speakers()}
    assert "Ban Ki Moon" not in listed and listed["Ban Ki-moon"].documents == 3  # the spelling most say
    assert listed["Ban Ki-moon"].sentences == 4
    for name in ("Ban Ki Moon", "ban ki-moon"):
        ids = engine.resolve_speaker(name)
        assert len(ids) == 2 and {engine.store.actors[i].name for i in ids} == {"Ban Ki-moon"}
    hits = engine.search("islands dialogue", k=10, mode="lexical", speaker="Ban Ki-moon")
    assert [h.doc_id for h in hits] == ["b"] and hits[0].speaker == "Ban Ki-moon"
