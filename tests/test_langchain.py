"""The LangChain retriever: LangChain's own standard retriever suite, over an index folder and over a
running server, then what its Documents carry."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import RetrieversIntegrationTests

from search import Engine, InvalidInput
from search.integrations.langchain import FpsearchRetriever


class TestOverAnIndexFolder(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _place(self, real_index: Path) -> None:
        self.place = {"index": str(real_index)}

    @property
    def retriever_constructor(self) -> type[FpsearchRetriever]:
        return FpsearchRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return self.place

    @property
    def retriever_query_example(self) -> str:
        return "Kuril Islands position"


class TestOverAServer(TestOverAnIndexFolder):
    @pytest.fixture(autouse=True)
    def _place(self, server: str) -> None:
        self.place = {"url": server}


def test_documents_carry_the_span_and_match_the_engine(real_index: Path, server: str) -> None:
    here = FpsearchRetriever(index=str(real_index), k=5).invoke("peace treaty with Japan")
    there = FpsearchRetriever(url=server + "/", k=5).invoke("peace treaty with Japan")
    hits = Engine.open(real_index).search("peace treaty with Japan", k=5)
    assert [d.id for d in here] == [d.id for d in there] == [f"{h.doc_id}:{h.start}-{h.end}" for h in hits]
    engine = Engine.open(real_index)
    for doc, hit in zip(here, hits):
        assert isinstance(doc, Document) and doc.page_content == hit.text
        m = doc.metadata
        assert engine.document(m["doc_id"]).text[m["start"] : m["end"]] == doc.page_content
        assert m["sentence"] == hit.sentence and m["title"] == hit.title and m["score"] == pytest.approx(hit.score)
        assert {"date", "source", "sentence_start", "sentence_end", "speaker", "cosine", "rank"} <= set(m)
    for a, b in zip(here, there):  # the same metadata in-process and over HTTP (scores to float precision)
        assert a.metadata.keys() == b.metadata.keys() and a.metadata["score"] == pytest.approx(b.metadata["score"])
        assert {k: v for k, v in a.metadata.items() if k not in ("score", "cosine")} == {
            k: v for k, v in b.metadata.items() if k not in ("score", "cosine")
        }


def test_options_per_call_and_async(real_index: Path) -> None:
    retriever = FpsearchRetriever(index=str(real_index), k=3)
    recent = retriever.invoke("Kuril Islands", since="2017", k=2)
    assert len(recent) == 2 and all(d.metadata["date"] >= "2017" for d in recent)
    putin = retriever.invoke("islands", speaker="Putin")
    assert putin and all(d.metadata["speaker"] == "Vladimir Putin" for d in putin)
    assert len(asyncio.run(retriever.ainvoke("Kuril Islands"))) == 3


def test_bad_input_is_one_clear_error(real_index: Path, server: str) -> None:
    with pytest.raises(InvalidInput, match="since"):
        FpsearchRetriever(index=str(real_index)).invoke("Kuril", since="last week")
    with pytest.raises(InvalidInput, match="answered 422: since"):
        FpsearchRetriever(url=server).invoke("Kuril", since="last week")
    with pytest.raises(InvalidInput, match="unknown search option 'top'"):
        FpsearchRetriever(index=str(real_index)).invoke("Kuril", top=3)
    with pytest.raises(ValueError, match="not both"):
        FpsearchRetriever(index=str(real_index), url=server)
