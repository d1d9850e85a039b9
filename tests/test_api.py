"""The HTTP service: TestClient for routes and errors, a real uvicorn server for the openai client."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from search import Engine
from search.server import ApiSettings, create_app


@pytest.fixture(scope="module")
def client(real_index: Path):
    app = create_app(real_index, settings=ApiSettings(max_k=50, max_batch=4, max_body_bytes=20_000))
    with TestClient(app) as c:
        yield c


def test_search_get_spans_round_trip_against_documents(client, real_index: Path) -> None:
    r = client.get("/search", params={"q": "Kuril Islands position", "k": 5})
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "Kuril Islands position" and body["took_ms"] >= 0
    assert body["version"] == (real_index / "CURRENT").read_text().strip()  # the generation that answered
    assert len(body["hits"]) == 5
    assert sum("Kuril" in h["text"] for h in body["hits"][:3]) >= 2
    for h in body["hits"]:
        doc = client.get(f"/documents/{h['doc_id']}", params={"start": h["start"], "end": h["end"]}).json()
        assert doc["text"][h["start"] : h["end"]] == h["text"] == doc["span"]


def test_search_post_single_and_batch_match_get(client) -> None:
    single = client.post("/search", json={"query": "peace treaty with Japan", "k": 3}).json()
    got = client.get("/search", params={"q": "peace treaty with Japan", "k": 3}).json()
    assert [h["passage_id"] for h in single["hits"]] == [h["passage_id"] for h in got["hits"]]
    batch = client.post("/search", json={"queries": ["peace treaty with Japan", "Kuril"], "k": 2, "mode": "dense"})
    assert batch.status_code == 200
    results = batch.json()["results"]
    assert [r["query"] for r in results] == ["peace treaty with Japan", "Kuril"]
    assert all(r["mode"] == "dense" and len(r["hits"]) == 2 for r in results)


def test_concurrent_requests_get_the_hits_of_sequential_ones(real_index: Path) -> None:
    """Requests that arrive together are searched in one batch (``search.retrieval.batching``); each still gets
    exactly the hits it would get alone (no remembered results here, so every request searches)."""
    from concurrent.futures import ThreadPoolExecutor

    asks = [
        {"q": q, "k": 4, "mode": m}
        for q in (
            "Kuril Islands position",
            "peace treaty",
            "fishing near the islands",
            "visa-free trips",
            "Shikotan",
            "economic zones",
        )
        for m in ("hybrid", "dense")
    ]
    with TestClient(create_app(real_index, settings=ApiSettings(result_cache=0, batch_threads=1))) as c:

        def hits(params: dict) -> list:
            r = c.get("/search", params=params)
            assert r.status_code == 200, r.text
            return [(h["passage_id"], h["score"], h["sentence_start"]) for h in r.json()["hits"]]

        alone = [hits(p) for p in asks]
        with ThreadPoolExecutor(len(asks)) as pool:
            together = list(pool.map(hits, asks))
    assert together == alone


def test_filters_and_modes_over_http(client) -> None:
    for mode in ("dense", "lexical", "hybrid"):
        r = client.get("/search", params={"q": "Kuril", "mode": mode, "since": "2016", "until": "2018-12-31"})
        assert r.status_code == 200, r.text
        assert all("2016" <= h["date"][:4] <= "2018" for h in r.json()["hits"])


def test_documents_with_slashes_and_bad_spans(client, tmp_path: Path) -> None:
    r = client.get("/documents/russia-japan-kuril-islands.txt")
    assert r.status_code == 200 and "Kuril" in r.json()["text"]
    assert client.get("/documents/nope/with/slashes").status_code == 404
    assert "detail" in client.get("/documents/nope").json()
    bad = client.get("/documents/russia-japan-kuril-islands.txt", params={"start": 10, "end": 5})
    assert bad.status_code == 422 and "outside the document" in bad.json()["detail"]
    assert client.get("/documents/..%2F..%2Fetc%2Fpasswd").status_code == 404


@pytest.mark.parametrize(
    "params, status",
    [
        ({"q": ""}, 422),
        ({"q": "   "}, 422),
        ({"q": "x", "k": 0}, 422),
        ({"q": "x", "k": 51}, 422),
        ({"q": "x", "k": "many"}, 422),
        ({"q": "x" * 1001}, 422),
        ({"q": "x", "mode": "magic"}, 422),
        ({"q": "x", "since": "soon"}, 422),
        ({"q": "x", "where": "novalue"}, 422),
        ({"q": '"unbalanced NEAR( AND'}, 200),
        ({}, 422),
    ],
)
def test_bad_search_input_is_4xx_with_detail(client, params, status) -> None:
    r = client.get("/search", params=params)
    assert r.status_code == status, r.text
    if status >= 400:
        assert "detail" in r.json()


def test_post_limits(client) -> None:
    assert client.post("/search", json={"queries": ["a"] * 5}).status_code == 422
    assert client.post("/search", json={}).status_code == 422
    assert client.post("/search", json={"query": "a", "queries": ["b"]}).status_code == 422
    assert client.post("/search", json={"queries": []}).status_code == 422
    big = client.post("/search", json={"query": "x" * 30_000})
    assert big.status_code == 413 and "limit" in big.json()["detail"]
    bad_json = client.post("/search", content=b"{not json", headers={"content-type": "application/json"})
    assert bad_json.status_code == 422


def test_embeddings_are_the_index_vectors(client, real_index: Path) -> None:
    texts = ["peace treaty with Japan", "Kuril Islands"]
    r = client.post("/v1/embeddings", json={"input": texts, "model": "sentence-transformers/all-MiniLM-L6-v2"})
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "list" and body["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert body["usage"]["prompt_tokens"] > 0
    got = np.array([d["embedding"] for d in body["data"]], dtype=np.float32)
    assert got.shape == (2, 384)
    want = Engine.open(real_index).embed(texts)
    assert np.allclose(got, want, atol=1e-5)
    b64 = client.post("/v1/embeddings", json={"input": "Kuril Islands", "encoding_format": "base64"}).json()
    decoded = np.frombuffer(base64.b64decode(b64["data"][0]["embedding"]), dtype="<f4")
    assert np.allclose(decoded, want[1], atol=1e-5)


@pytest.mark.parametrize(
    "body",
    [
        {"input": [], "model": "default"},
        {"input": "x", "model": "text-embedding-3-small"},
        {"input": [[1, 2, 3]]},
        {"input": "x", "dimensions": 12},
        {"input": "word " * 400},
        {"input": ["x"] * 300},
        {"model": "default"},
    ],
)
def test_bad_embedding_requests(client, body) -> None:
    r = client.post("/v1/embeddings", json=body)
    assert 400 <= r.status_code < 500 and "detail" in r.json(), r.text


def test_health_info_docs_and_page(client) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["documents"] == 7
    for _ in range(600):  # the server scores its costly lexical words in the background, then says so
        if not client.get("/health").json()["warming"]:
            break
        time.sleep(0.05)
    assert client.get("/health").json()["warming"] is False
    info = client.get("/info").json()
    assert info["model"]["dimension"] == 384 and info["limits"]["max_k"] == 50
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert {"/search", "/v1/embeddings", "/documents/{doc_id}", "/health", "/info"} <= set(schema["paths"])
    page = client.get("/")
    assert page.status_code == 200 and "fpsearch" in page.text
    assert client.get("/static/app.js").status_code == 200


def test_missing_index_fails_at_startup(tmp_path: Path) -> None:
    from search.errors import IndexMissing

    with pytest.raises(IndexMissing):
        with TestClient(create_app(tmp_path / "none")):
            pass


def test_official_openai_client_gets_the_same_vectors(server: str, real_index: Path) -> None:
    import openai

    client = openai.OpenAI(base_url=server + "/v1", api_key="x")
    texts = ["What did Putin say about a peace treaty with Japan?", "Kuril Islands position"]
    result = client.embeddings.create(model="sentence-transformers/all-MiniLM-L6-v2", input=texts)
    got = np.array([d.embedding for d in result.data], dtype=np.float32)
    want = Engine.open(real_index).embed(texts)
    assert got.shape == (2, 384)
    cos = (got * want).sum(axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert (cos > 0.999).all()
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="text-embedding-3-small", input="x")


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt-get install chromium)")
def test_search_page_in_a_real_browser(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = Path(__file__).resolve().parent.parent / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        for name, viewport in (("laptop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})):
            page = browser.new_page(viewport=viewport)
            page.goto(server + "/")
            page.fill("#q", "Kuril Islands position")
            page.click("button[type=submit]")
            page.wait_for_selector(".hit")
            hits = page.locator(".hit")
            assert hits.count() == 10
            assert "Kuril" in hits.first.inner_text()
            assert page.locator(".hit mark").count() == 10
            page.screenshot(path=str(shots / f"search-{name}.png"), full_page=False)
            with page.expect_navigation():
                hits.first.locator("h2 a").click()
            page.wait_for_selector("#hit")
            span = page.locator("#hit")
            assert span.inner_text().strip()
            assert span.locator("strong").count() == 1
            box = span.bounding_box()
            assert box is not None and 0 <= box["y"] < viewport["height"], "the span is scrolled into view"
            page.screenshot(path=str(shots / f"document-{name}.png"), full_page=False)
            page.close()
        browser.close()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt-get install chromium)")
def test_by_actor_view_and_year_timeline_in_a_real_browser(server: str) -> None:
    from playwright.sync_api import sync_playwright

    shots = Path(__file__).resolve().parent.parent / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server + "/")
        page.fill("#q", "Kuril Islands")
        page.select_option("#view", "speaker")
        page.click("button[type=submit]")
        page.wait_for_selector(".actor")
        actors = page.locator(".actor")
        assert 1 <= actors.count() <= 10
        assert "Vladimir Putin" in actors.first.locator("summary").inner_text()
        assert not actors.first.locator(".quote").first.is_visible()  # closed until opened
        actors.first.locator("summary").click()
        quote = actors.first.locator(".quote a").first
        said = quote.inner_text()
        assert quote.is_visible() and said.startswith("“")
        page.screenshot(path=str(shots / "by-actor.png"), full_page=False)
        with page.expect_navigation():
            quote.click()
        page.wait_for_selector("#hit strong")
        assert page.locator("#hit strong").inner_text().strip() in said

        page.goto(server + "/?q=Kuril+Islands&view=year")
        page.wait_for_selector(".timeline .bar")
        bars = page.locator(".timeline .bar")
        years = [bars.nth(i).get_attribute("data-year") for i in range(bars.count())]
        assert years == sorted(years) and len(years) >= 2
        page.screenshot(path=str(shots / "timeline.png"), full_page=False)
        bars.first.click()
        page.wait_for_selector(".hit")
        assert page.locator(".timeline .bar.chosen").count() == 1
        dates = page.locator(".hit .meta").all_inner_texts()
        assert dates and all(d.startswith(years[0]) for d in dates), dates
        browser.close()


def test_write_endpoints_need_the_token(real_index: Path, tmp_path: Path, monkeypatch) -> None:
    import shutil

    idx = tmp_path / "idx"
    shutil.copytree(real_index, idx)
    monkeypatch.delenv("FPSEARCH_TOKEN", raising=False)
    with TestClient(create_app(idx)) as c:
        r = c.post("/documents", json={"documents": [{"doc_id": "x", "text": "t"}]})
        assert r.status_code == 403 and "FPSEARCH_TOKEN" in r.json()["detail"]
    monkeypatch.setenv("FPSEARCH_TOKEN", "s3cret")
    doc = {
        "doc_id": "notes/sakhalin.txt",
        "title": "Sakhalin LNG",
        "text": "Sakhalin-2 liquefied natural gas deliveries to Japan will continue.",
        "date": "2022-05-01",
    }
    with TestClient(create_app(idx)) as c:
        assert c.post("/documents", json={"documents": [doc]}).status_code == 401
        bad = c.post("/documents", json={"documents": [doc]}, headers={"Authorization": "Bearer wrong"})
        assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"
        auth = {"Authorization": "Bearer s3cret"}
        added = c.post("/documents", json={"documents": [doc]}, headers=auth)
        assert added.status_code == 200 and added.json()["added"] == 1, added.text
        hits = c.get("/search", params={"q": "Sakhalin liquefied natural gas", "k": 1}).json()["hits"]
        assert hits[0]["doc_id"] == "notes/sakhalin.txt"
        again = c.post("/documents", json={"documents": [doc]}, headers=auth).json()
        assert again["unchanged"] == 1
        assert c.delete("/documents/notes/sakhalin.txt", headers=auth).json()["removed"] == 1
        assert c.get("/documents/notes/sakhalin.txt").status_code == 404
        assert c.delete("/documents/notes/sakhalin.txt", headers=auth).status_code == 404
        assert c.post("/reload", headers=auth).status_code == 200
        assert (
            c.post("/documents", json={"documents": [{"doc_id": "e", "text": "  "}]}, headers=auth).status_code == 422
        )


def test_server_picks_up_a_new_generation(real_index: Path, tmp_path: Path) -> None:
    import shutil

    from search import add

    idx = tmp_path / "idx"
    shutil.copytree(real_index, idx)
    settings = ApiSettings(reload_check_seconds=0.0)
    with TestClient(create_app(idx, settings=settings)) as c:
        before = c.get("/health").json()
        old_store = c.app.state.holder.engine.store
        query = {"q": "Northern Sea Route between Europe and Asia", "k": 3}
        assert c.get("/search", params=query).json()["hits"][0]["doc_id"] != "arctic.txt"  # now remembered
        new = tmp_path / "new"
        new.mkdir()
        (new / "arctic.txt").write_text("Arctic\nThe Northern Sea Route links Europe and Asia.")
        add([new], idx)
        after = c.get("/health").json()
        assert after["generation"] != before["generation"]
        assert after["documents"] == before["documents"] + 1
        assert not old_store.warming  # the replaced version is no longer prepared
        assert c.get("/documents/arctic.txt").status_code == 200
        # the remembered result belonged to the old version: the same query now finds the new text
        assert c.get("/search", params=query).json()["hits"][0]["doc_id"] == "arctic.txt"


@pytest.mark.parametrize(
    "raw_query",
    [
        "q=",
        "q=%20%20%09",
        "q=" + "a" * 60_000,
        "q=%22Kuril%22%20NEAR(a%20b)%20AND%20OR%20NOT%20*",
        "q=%27%3B%20DROP%20TABLE%20documents%3B%20--",
        "q=%00%01%02%1b%5B31m",
        "q=%FF%FE%FD",
        "q=Kuril&k=-1",
        "q=Kuril&k=99999999999999999999",
        "q=Kuril&per_doc=0",
        "q=Kuril&since=2016-13-45",
        "q=Kuril&where=%3D",
    ],
)
def test_hostile_queries_never_500(client, raw_query: str) -> None:
    r = client.get("/search?" + raw_query)
    assert r.status_code < 500, r.text[:300]
    body = r.json()
    assert ("hits" in body) if r.status_code == 200 else ("detail" in body)


def test_a_100_kb_query_is_refused_cleanly(client) -> None:
    r = client.post("/search", json={"query": "Kuril " * 17_000})
    assert r.status_code == 413 and "detail" in r.json()
    r = client.post("/search", content=b"x" * 100_000, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "detail" in r.json()


def test_non_utf8_bytes_in_the_url_path(server: str) -> None:
    import socket as sock
    from urllib.parse import urlparse

    url = urlparse(server)
    for raw in (b"/search?q=\xff\xfe", b"/documents/\xff\xfe", b"/search?q=%ff%c3%28"):
        with sock.create_connection((url.hostname, url.port), timeout=30) as s:
            s.sendall(b"GET " + raw + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        status = int(data.split(b" ", 2)[1])
        assert 200 <= status < 500, (raw, data[:300])


def test_queries_keep_answering_while_add_runs(real_index: Path, tmp_path: Path) -> None:
    """A server answers every query from one consistent generation while a writer adds documents, then
    serves the new generation."""
    import shutil
    import threading

    from search import add

    idx = tmp_path / "idx"
    shutil.copytree(real_index, idx)
    new = tmp_path / "new"
    new.mkdir()
    for n in range(40):
        (new / f"arctic-{n}.txt").write_text(f"Arctic {n}\nThe Northern Sea Route {n} links Europe and Asia. " * 20)
    with TestClient(create_app(idx, settings=ApiSettings(reload_check_seconds=0.0))) as c:
        before = c.get("/health").json()
        writer = threading.Thread(target=add, args=([new], idx))
        writer.start()
        answers = []
        while writer.is_alive() or len(answers) < 5:
            r = c.get("/search", params={"q": "Kuril Islands position", "k": 5})
            assert r.status_code == 200, r.text
            hits = r.json()["hits"]
            assert len(hits) == 5
            for h in hits[:2]:  # every span a hit names is there to quote, in whichever generation answered
                doc = c.get(f"/documents/{h['doc_id']}").json()
                assert doc["text"][h["start"] : h["end"]] == h["text"]
            answers.append(r)
        writer.join()
        after = c.get("/health").json()
        assert after["documents"] == before["documents"] + 40
        top = c.get("/search", params={"q": "Northern Sea Route links Europe and Asia", "k": 3}).json()["hits"]
        assert top[0]["doc_id"].startswith("arctic-")


def test_per_doc_zero_lifts_the_limit_and_negative_is_refused(client) -> None:
    unlimited = client.get("/search", params={"q": "Kuril Islands", "k": 10, "per_doc": 0, "mode": "lexical"}).json()
    docs = [h["doc_id"] for h in unlimited["hits"]]
    assert max(docs.count(d) for d in docs) > 2  # the seed article alone has many Kuril passages
    posted = client.post("/search", json={"query": "Kuril Islands", "k": 10, "per_doc": None, "mode": "lexical"})
    assert [h["doc_id"] for h in posted.json()["hits"]] == docs
    r = client.get("/search", params={"q": "Kuril", "per_doc": -1})
    assert r.status_code == 422 and "detail" in r.json()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt-get install chromium)")
def test_api_docs_list_the_operations_with_no_network(server: str) -> None:
    """Swagger UI's script and styles come from the server (the fastapi-offline package): a page that
    fetched them from a CDN would be blank offline, so every request off this server is refused."""
    from playwright.sync_api import sync_playwright

    elsewhere: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})

        def only_here(route) -> None:
            if route.request.url.startswith(server):
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort()

        page.route("**/*", only_here)
        page.goto(server + "/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        listed = {
            page.locator(".opblock .opblock-summary-path").nth(i).inner_text().replace("\u200b", "")
            for i in range(page.locator(".opblock").count())
        }
        assert {"/search", "/v1/embeddings", "/documents/{doc_id}", "/positions", "/health"} <= listed, listed
        assert page.locator(".opblock-tag").count() >= 3  # the operations grouped by tag
        browser.close()
    assert elsewhere == [], f"/docs asked for {elsewhere}"
