"""The parties of a topic in ``positions``: the actors a topic names, or that others' passages on it
name, are searched in their own words and keep a place in the list, so that each side is heard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search import Engine, build
from search.reading import named_countries

CHORUS = [("Alphaland", "AAA"), ("Betania", "BBB"), ("Cetia", "CCC"), ("Deltora", "DDD"), ("Epsilonia", "EEE")]


def dispute_corpus(root: Path) -> Path:
    docs = [
        {
            "_id": f"un-{iso3}",
            "title": f"General Debate: {name}",
            "date": "2020",
            "country": name,
            "country_iso3": iso3,
            "text": "We condemn the invasion of Freedonia by Sylvania. The invasion of Freedonia must end now. "
            "Sylvania must withdraw its troops from Freedonia.",
        }
        for name, iso3 in CHORUS
    ]
    docs += [
        {
            "_id": "un-SYL-2020",
            "title": "General Debate: Sylvania",
            "date": "2020",
            "country": "Sylvania",
            "country_iso3": "SYL",
            "text": "Our border operation removed the terrorist bases that Freedonia harboured. "
            "We will not apologise for defending our towns.",
        },
        {
            "_id": "un-SYL-2021",
            "title": "General Debate: Sylvania",
            "date": "2021",
            "country": "Republic of Sylvania",
            "country_iso3": "SYL",
            "text": "Our harvest was good this year, and our farmers export grain to many markets.",
        },
        {
            "_id": "un-ELB",
            "title": "General Debate: Elbonia",
            "date": "2020",
            "country": "Elbonia",
            "country_iso3": "ELB",
            "text": "Mud farming and fishing drive our economy. We welcome tourists to our coast.",
        },
    ]
    root.mkdir()
    (root / "speeches.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n", encoding="utf-8")
    return root


@pytest.fixture
def dispute_index(tmp_path: Path, fake) -> Path:
    build([dispute_corpus(tmp_path / "corpus")], tmp_path / "index", model=fake)
    return tmp_path / "index"


def test_a_side_that_others_name_is_heard_in_its_own_words(dispute_index: Path, fake) -> None:
    engine = Engine.open(dispute_index, model=fake)
    everyone = engine.positions("the invasion of Freedonia", by="country_iso3", n=10, quotes=1)
    ranks = [p.actor for p in everyone]
    # five countries condemn it in the topic's own words; Sylvania answers in others, and ranks last of them
    assert set(ranks[:5]) == {iso3 for _, iso3 in CHORUS} and ranks[5] == "SYL", ranks
    few = engine.positions("the invasion of Freedonia", by="country_iso3", n=3, quotes=1)
    assert len(few) == 3 and few[-1].actor == "SYL" and few[-1].party
    assert not any(p.party for p in few[:-1])  # named by nobody else
    for quote in few[-1].quotes:
        assert quote.doc_id == "un-SYL-2020"
        assert engine.document(quote.doc_id).text[quote.sentence_start : quote.sentence_end] == quote.sentence
    # grouped by the name the document gives, it is the same side
    by_name = engine.positions("the invasion of Freedonia", by="country", n=3, quotes=0)
    assert by_name[-1].actor == "Sylvania" and by_name[-1].party


def test_a_side_the_topic_names_is_heard_under_any_of_its_names(dispute_index: Path, fake) -> None:
    engine = Engine.open(dispute_index, model=fake)
    # named in the topic by the name of a document of another year: the iso3 key pairs them
    assert engine.store.metadata_pairs("country_iso3", "country")["SYL"] == {"Sylvania", "Republic of Sylvania"}
    found = engine.positions("the Sylvanian operation against terrorist bases", by="country_iso3", n=2, quotes=1)
    assert "SYL" in [p.actor for p in found] and next(p for p in found if p.actor == "SYL").party


def test_no_parties_by_year_or_source(dispute_index: Path, fake) -> None:
    engine = Engine.open(dispute_index, model=fake)
    assert not any(p.party for p in engine.positions("the invasion of Freedonia", by="year", n=5))
    assert not any(p.party for p in engine.positions("the invasion of Freedonia", by="source", n=5))


def test_only_a_party_may_be_listed_without_a_quote(dispute_index: Path, fake) -> None:
    engine = Engine.open(dispute_index, model=fake)
    for topic in ("the invasion of Freedonia", "Sylvania and its troops", "grain exports"):
        for p in engine.positions(topic, by="country_iso3", n=10, quotes=2):
            assert p.quotes or p.party, (topic, p.actor)


def test_countries_are_named_by_name_short_form_or_adjective() -> None:
    known = ["Israel", "Lebanon", "India", "Niger", "Nigeria", "Russian Federation", "Russia", "United States"]
    groups = named_countries("the Israeli invasion of Lebanon; Indian and Nigerian troops", known)
    assert groups == {frozenset({"Israel"}), frozenset({"Lebanon"}), frozenset({"India"}), frozenset({"Nigeria"})}
    # one country however it is written, and a short form in capitals is not a pronoun
    assert named_countries("russia and the Russian Federation", known, fold=True) == {
        frozenset({"Russian Federation", "Russia"})
    }
    assert named_countries("tell us what the US says", known, fold=True) == {frozenset({"United States"})}
    assert named_countries("tell us about it", known, fold=True) == set()
    # the UN corpus writes the Soviet Union "USSR"
    assert named_countries("the Soviet Union and the USSR", [*known, "USSR"]) == {frozenset({"USSR"})}
    # as written in a passage: a capital is needed, and Latin American is not the United States
    assert named_countries("india and Latin American states", known) == set()


def test_parties_are_marked_in_http_and_cli_with_the_real_model(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from search.cli import app
    from search.server import create_app

    index = tmp_path / "index"
    build([dispute_corpus(tmp_path / "corpus")], index)
    with TestClient(create_app(index)) as client:
        r = client.get("/positions", params={"q": "the invasion of Freedonia", "by": "country_iso3", "n": 3})
        assert r.status_code == 200
        found = {p["actor"]: p for p in r.json()["positions"]}
        assert found["SYL"]["party"] is True and not found["AAA"]["party"]
    out = CliRunner().invoke(
        app, ["positions", "the invasion of Freedonia", "--by", "country", "-n", "3", "--index", str(index)]
    )
    assert out.exit_code == 0, out.output
    assert "Sylvania" in out.output and "a party to the topic" in out.output
    lines = CliRunner().invoke(
        app, ["positions", "the invasion of Freedonia", "--by", "country", "-n", "3", "--json", "--index", str(index)]
    )
    assert any(
        json.loads(line)["actor"] == "Sylvania" and json.loads(line)["party"] for line in lines.output.splitlines()
    )


def test_a_weak_party_is_quoted_only_where_it_names_what_the_topic_is_about() -> None:
    from search.positions import _others, _words

    own = _words("Russian Federation Russia")
    assert _others(_words("Russia's invasion of Ukraine"), own) == {"invasion", "ukraine"}
    assert _others(_words("the United States embargo against Cuba"), _words("USA United States America")) == {
        "embargo",
        "cuba",
    }
