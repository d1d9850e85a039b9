"""The engine ranks by the best sentence as well as the passage (``search.retrieval.engine``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from search import Engine, build
from search.errors import InvalidInput
from search.store import EmbeddedStore


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
