"""Match strength (``search.strength``): real queries are strong matches, nonsense is none, and every way in says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from search import Engine
from search.cli import app
from search.server import create_app
from search.strength import NONE, STRONG, WEAK, best, coverage, strength

CHROMIUM = "/usr/bin/chromium"


def test_coverage_matches_stems_not_substrings() -> None:
    assert coverage("Kuril Islands position", "the Kurils and the island chain") == (pytest.approx(2 / 3), 3)
    assert coverage("New START extension", "they agreed to extend New START") == (1.0, 3)
    assert coverage("zzzz qqqq", "nothing here") == (0.0, 2)
    assert coverage("the of and", "") == (0.0, 3)  # all stopwords: they are the words


@pytest.mark.parametrize(
    ("cosine", "share", "words", "level"),
    [
        (0.62, 0.0, 3, STRONG),  # close in meaning, whatever the words
        (0.42, 2 / 3, 3, STRONG),  # fairly close, with most of the words
        (0.32, 1.0, 2, STRONG),  # every word of a name the model embeds poorly
        (0.32, 1.0, 1, WEAK),  # one word is not enough evidence
        (0.35, 0.0, 2, WEAK),
        (0.10, 0.5, 2, WEAK),
        (0.14, 0.0, 2, NONE),  # "zzzz qqqq"
        (None, 1.0, 3, STRONG),  # lexical mode: the words alone
        (None, 0.5, 2, WEAK),
        (None, 0.0, 2, NONE),
    ],
)
def test_strength_levels(cosine, share, words, level) -> None:
    assert strength(cosine, share, words) == level


def test_best_of_levels() -> None:
    assert best([NONE, WEAK, None]) == WEAK and best([]) == NONE and best([WEAK, STRONG]) == STRONG


def test_nonsense_is_no_strong_match_in_cli_http_and_engine(real_index: Path) -> None:
    engine = Engine.open(real_index)
    assert {h.match for h in engine.search("zzzz qqqq", k=5)} == {NONE}
    assert engine.search("Kuril Islands position", k=3)[0].match == STRONG
    for mode in ("dense", "lexical"):
        assert best(h.match for h in engine.search("peace treaty with Japan", k=5, mode=mode)) == STRONG

    out = CliRunner().invoke(app, ["query", "zzzz qqqq", "--index", str(real_index), "-k", "3"])
    assert out.exit_code == 0 and out.stdout.startswith("no strong match; the closest passages:")
    assert "none match" in out.stdout
    good = CliRunner().invoke(app, ["query", "Kuril Islands position", "--index", str(real_index), "-k", "3"])
    assert "no strong match" not in good.stdout and "strong match" in good.stdout
    as_csv = CliRunner().invoke(app, ["query", "zzzz qqqq", "--index", str(real_index), "-k", "2", "-f", "csv"])
    assert as_csv.stdout.splitlines()[0].split(",")[4] == "match" and ",none," in as_csv.stdout

    with TestClient(create_app(real_index)) as client:
        body = client.get("/search", params={"q": "zzzz qqqq", "k": 3}).json()
        assert body["match"] == NONE and {h["match"] for h in body["hits"]} == {NONE}
        assert any(w.startswith("no strong match") for w in body["warnings"])
        good = client.get("/search", params={"q": "Kuril Islands position", "k": 3}).json()
        assert good["match"] == STRONG and good["warnings"] == []


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt-get install chromium)")
def test_the_page_shows_a_notice_when_nothing_matches_well(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(server + "/?q=zzzz+qqqq")
        page.wait_for_selector(".hit")
        assert page.locator("#notices").is_visible()
        assert "no strong match" in page.locator("#notices .notice").first.inner_text()
        page.goto(server + "/?q=Kuril+Islands+position")
        page.wait_for_selector(".hit")
        assert not page.locator("#notices").is_visible()
        browser.close()
