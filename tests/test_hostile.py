"""Hostile and odd input for the loaders and the chunker (hypothesis), and a 50 MB document."""

from __future__ import annotations

import json
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.chunking import Chunker, WordCounter
from search.documents import LoadReport, load_documents

ODD = st.sampled_from(
    [
        "\x00",
        "\ufeff",
        "\r\n",
        "\r",
        "\n\n",
        "\u2028",
        "\u200f",
        "שלום עולם.",
        "مرحبا بالعالم.",
        "日本語の文。",
        "😀",
        "\ud800",
        "\udfff",
        "\t",
        " ",
        "Mr.",
        "...",
        "\x1b[31m",
        "\u0301",
        "\uffff",
        '"',
        "\\",
    ]
)
TEXT = st.lists(st.one_of(st.text(max_size=40), ODD), max_size=60).map("".join)


def _check_docs(docs, report) -> None:
    for d in docs:
        assert d.text.strip()
        d.text.encode("utf-8")  # storable: no lone surrogates survive loading
        assert len(d.hash) == 64
        for p in Chunker(WordCounter(), max_tokens=30, overlap=1).chunk(d):
            assert d.text[p.start : p.end] == p.text
    for problem in report.problems:
        assert str(problem)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".txt", ".md", ".jsonl"]))
def test_any_bytes_in_any_file_never_crash_the_loader(tmp_path_factory, data: bytes, suffix: str) -> None:
    folder = tmp_path_factory.mktemp("bytes")
    (folder / f"f{suffix}").write_bytes(data)
    report = LoadReport()
    docs = list(load_documents([folder], report))
    _check_docs(docs, report)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, title=TEXT, with_id=st.booleans())
def test_any_unicode_through_text_and_jsonl(tmp_path_factory, text: str, title: str, with_id: bool) -> None:
    folder = tmp_path_factory.mktemp("text")
    (folder / "a.md").write_text(text, encoding="utf-8", errors="surrogatepass")
    record = {"title": title, "text": text, "date": "2020", "extra": [text[:5]]}
    if with_id:
        record["_id"] = title or "x"
    (folder / "b.jsonl").write_text(
        json.dumps(record) + "\n" + text[:20] + "\n", encoding="utf-8", errors="surrogatepass"
    )
    report = LoadReport()
    docs = list(load_documents([folder], report))
    _check_docs(docs, report)
    if text.removeprefix("\ufeff").strip() and "\ud800" not in text and "\udfff" not in text:
        assert any(d.doc_id == "a.md" for d in docs)


def test_a_50_megabyte_document_is_chunked_exactly(tmp_path: Path) -> None:
    line = "The delegation discussed transit, visas and the Kuril Islands at length. "
    text = (line * 40 + "\n") * (50_000_000 // (len(line) * 40 + 1))
    (tmp_path / "big.txt").write_text(text)
    started = time.perf_counter()
    (doc,) = list(load_documents([tmp_path / "big.txt"]))
    passages = Chunker(WordCounter(), max_tokens=200, overlap=1).chunk(doc)
    elapsed = time.perf_counter() - started
    assert len(doc.text) >= 49_000_000
    assert all(doc.text[p.start : p.end] == p.text for p in passages[:: max(1, len(passages) // 1000)])
    assert passages[0].start == 0 and passages[-1].end == len(doc.text.rstrip())
    assert elapsed < 240, f"50 MB took {elapsed:.0f} s"
