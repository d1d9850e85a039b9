"""The query-language note: a query the index's model cannot read is said to be so, in the CLI, HTTP
and MCP; English queries, even ones full of foreign names, get no note."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from search import Engine, language
from search.cli import app
from search.models import MINILM, model_languages
from search.server import create_app

ENGLISH = frozenset({"en"})


@pytest.mark.parametrize(
    "query",
    [
        "Kuril Islands position",
        "Kudankulam nuclear power plant",
        "Nord Stream 2",
        "Idlib demilitarised zone memorandum",
        "What did Putin say about a peace treaty with Japan?",
        "zzzz qqqq",
        "BRICS",
        "Sergei Lavrov in Tokyo",
        "2016",
    ],
)
def test_english_queries_get_no_note(query: str) -> None:
    assert language.note(query, ENGLISH, MINILM) is None


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Курильские острова", "Russian"),
        ("Что Путин сказал о мирном договоре с Японией?", "Russian"),
        ("クリル諸島の立場", "Japanese"),
        ("Qu'a dit Poutine sur un traité de paix avec le Japon ?", "French"),
        ("Was sagte Putin über einen Friedensvertrag mit Japan?", "German"),
    ],
)
def test_foreign_queries_are_named(query: str, name: str) -> None:
    text = language.note(query, ENGLISH, MINILM)
    assert text is not None and name in text and "all-MiniLM-L6-v2" in text and "English" in text


def test_a_non_latin_query_is_noted_even_when_the_statistics_are_unsure() -> None:
    guess = language.detect("北方領土")  # two kanji: py3langid says Chinese, not Japanese
    assert guess.script == "Cjk" and language.is_foreign(guess, ENGLISH)


def test_models_whose_languages_are_unknown_get_no_note() -> None:
    assert model_languages("minilm") == ENGLISH == model_languages("mpnet")
    assert model_languages("someone/their-own-model") is None
    assert language.note("Курильские острова", None, "someone/their-own-model") is None


def test_the_note_in_the_cli_http_and_engine(real_index: Path) -> None:
    russian = "Курильские острова"
    assert Engine.open(real_index).warnings(russian)[0].startswith("the query seems to be in Russian")
    assert Engine.open(real_index).warnings("Kuril Islands") == []
    result = CliRunner().invoke(app, ["query", russian, "--index", str(real_index), "-k", "2"])
    assert result.exit_code == 0
    notes = [line for line in result.stderr.splitlines() if line.startswith("fpsearch: note:")]
    assert len(notes) == 1 and "Russian" in notes[0]
    english = CliRunner().invoke(app, ["query", "Kuril Islands position", "--index", str(real_index), "-k", "2"])
    assert "note:" not in english.stderr
    with TestClient(create_app(real_index)) as client:
        body = client.get("/search", params={"q": russian, "k": 2}).json()
        assert any("Russian" in w for w in body["warnings"])
        assert all(h["match"] != "strong" for h in body["hits"]), (
            "hits for a query the model cannot read are never strong"
        )
        batch = client.post("/search", json={"queries": [russian, "Kuril Islands position"], "k": 2}).json()
        assert any("Russian" in w for w in batch["results"][0]["warnings"])
        assert not any("Russian" in w for w in batch["results"][1]["warnings"])
