"""``LiveIndex`` (``search.retrieval.live``): a library user's engine follows the index as it changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from search import LiveIndex, add, build, remove
from search.errors import IndexDamaged
from search.store.embedded import current_generation


def test_a_live_index_answers_from_each_new_version_and_refuses_damaged_files(
    corpus: Path, fake, tmp_path: Path
) -> None:
    idx = tmp_path / "idx"
    build([corpus], idx, model=fake)
    with LiveIndex(idx, model=fake, check_seconds=0.0, preload=False) as live:
        first = live.current()
        assert "sakhalin.txt" not in {h.doc_id for h in live.search("Sakhalin ferry timetable", k=5, mode="lexical")}
        new = tmp_path / "new"
        new.mkdir()
        (new / "sakhalin.txt").write_text("Sakhalin ferry\nThe Sakhalin ferry timetable changes in winter.")
        add([new], idx, model=fake)
        hits = live.search("Sakhalin ferry timetable", k=5, mode="lexical")
        assert hits[0].doc_id == "sakhalin.txt"
        assert live.current() is not first and live.current().store.version == current_generation(idx).name
        remove(["sakhalin.txt"], idx)
        assert "sakhalin.txt" not in {h.doc_id for h in live.search("Sakhalin ferry timetable", k=5, mode="lexical")}
        # a file of the live version changed under it: no answer from it until a new version is published
        vectors = current_generation(idx) / "vectors.faiss"
        vectors.write_bytes(vectors.read_bytes()[:-64])
        with pytest.raises(IndexDamaged, match="vectors.faiss"):
            live.current()
    with pytest.raises(IndexDamaged, match="vectors.faiss"):
        LiveIndex(idx, model=fake)  # nor does a new one open on it
