from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from search.documents import LoadReport, load_documents
from search.errors import SourceError


def test_loads_folders_text_markdown_and_jsonl(corpus: Path) -> None:
    report = LoadReport()
    docs = {d.doc_id: d for d in load_documents([corpus], report)}
    assert set(docs) == {"kuril.md", "notes/energy.txt", "k-1", "k-2"}
    assert docs["kuril.md"].title == "Kuril Islands talks"
    assert docs["notes/energy.txt"].title == "Gas transit through Ukraine"
    assert docs["k-1"].metadata == {"tags": ["Energy", "Germany"]}
    assert docs["k-1"].date == "2018-05-18"
    assert docs["k-1"].source == "corpus"
    assert len(docs["k-1"].hash) == 64
    problems = [str(p) for p in report.problems]
    assert any("news.jsonl:3" in p and "malformed JSON" in p for p in problems)
    assert any("news.jsonl:4" in p and "empty" in p for p in problems)


def test_undecodable_and_empty_files_are_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00bad latin-1 \xe9")
    (tmp_path / "empty.md").write_text("  \n")
    (tmp_path / "ok.txt").write_text("\ufeffA title\nBody text.", encoding="utf-8")
    report = LoadReport()
    docs = list(load_documents([tmp_path], report))
    assert [d.doc_id for d in docs] == ["ok.txt"]
    assert docs[0].text.startswith("A title")  # the BOM is not part of the text
    assert {Path(p.path).name for p in report.problems} == {"bad.txt", "empty.md"}


def test_gzip_jsonl_and_beir_metadata(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"_id": 7, "title": "T", "text": "Body.", "metadata": {"a": 1}}) + "\n")
        fh.write(json.dumps({"_id": "s", "text": "lone \ud800 surrogate"}) + "\n")
        fh.write(json.dumps(["not", "an", "object"]) + "\n")
    report = LoadReport()
    docs = list(load_documents([path], report))
    assert [d.doc_id for d in docs] == ["7", "s"]
    assert docs[0].metadata == {"a": 1} and docs[0].source == "corpus"
    assert "\ufffd" in docs[1].text
    assert "not a JSON object" in str(report.problems[0])


def test_truncated_gzip_is_reported(tmp_path: Path) -> None:
    good = tmp_path / "c.jsonl.gz"
    with gzip.open(good, "wt") as fh:
        for i in range(2000):
            fh.write(json.dumps({"_id": i, "text": f"document {i} " * 20}) + "\n")
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2])
    report = LoadReport()
    docs = list(load_documents([good], report))
    assert 0 < len(docs) < 2000
    assert "damaged" in str(report.problems[-1])


def test_missing_and_wrong_paths(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        list(load_documents([tmp_path / "nope"]))
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(SourceError, match="not a .txt"):
        list(load_documents([tmp_path / "x.pdf"]))


def test_hash_changes_with_content_not_with_id(corpus: Path) -> None:
    from dataclasses import replace

    doc = next(iter(load_documents([corpus / "kuril.md"])))
    same = replace(doc, doc_id="other", hash="")
    changed = replace(doc, text=doc.text + " More.", hash="")
    assert same.hash == doc.hash
    assert changed.hash != doc.hash
