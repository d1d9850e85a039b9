"""The FTS5 query built from user text is always valid (``search.store.lexical``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from search import build
from search.store import EmbeddedStore
from search.store.lexical import fts_query


@pytest.mark.parametrize(
    "text",
    [
        '"unbalanced',
        "NEAR(a b)",
        "a AND OR NOT b",
        "title:x",
        "col*",
        "'; DROP TABLE passages; --",
        "(((",
        "^start",
        "-minus +plus",
        "\x00\x01",
        "日本 の 島",
    ],
)
def test_fts_queries_are_always_valid(tmp_path: Path, corpus: Path, fake, text: str) -> None:
    build([corpus], tmp_path / "idx", model=fake)
    store = EmbeddedStore.open(tmp_path / "idx")
    store.search_lexical(text, 5)  # must not raise
    match = fts_query(text)
    assert match is None or all(part.startswith('"') for part in match.split(" OR "))
