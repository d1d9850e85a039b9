"""The MCP server, through real clients: the SDK's own over stdio (``fpsearch mcp``) and over streamable
HTTP (``/mcp`` on a running server), and langchain-mcp-adapters as a LangChain user loads it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

REPO = Path(__file__).resolve().parents[1]
ADAPTERS = REPO / ".venv-adapters" / "bin" / "python"
TOOLS = ["get_document", "positions", "search", "speakers"]


def stdio(index: Path) -> StdioServerParameters:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return StdioServerParameters(command=sys.executable, args=["-m", "search", "mcp", "--index", str(index)], env=env)


async def exercise(session: ClientSession) -> dict:
    """What an agent does: list the tools, search, then check each hit's span against the document."""
    init = await session.initialize()
    assert init.server_info.name == "fpsearch" and "doc_id" in init.instructions
    listed = (await session.list_tools()).tools
    search_tool = next(t for t in listed if t.name == "search")
    assert "character offsets" in search_tool.description and "score" in search_tool.description
    answer = await session.call_tool("search", {"query": "Kuril Islands position", "k": 4})
    assert not answer.is_error, answer.content
    hits = answer.structured_content["hits"]
    assert len(hits) == 4 and sum("Kuril" in h["text"] for h in hits[:3]) >= 2
    for h in hits:
        doc = await session.call_tool("get_document", {"doc_id": h["doc_id"], "start": h["start"], "end": h["end"]})
        assert doc.structured_content["text"] == h["text"]
        assert h["text"][h["sentence_start"] - h["start"] : h["sentence_end"] - h["start"]] == h["sentence"]
        assert h["title"] and h["uri"].startswith("fpsearch://documents/")
    return {"tools": sorted(t.name for t in listed), "hits": hits}


def test_stdio_lists_tools_and_answers_with_spans(real_index: Path) -> None:
    async def run() -> dict:
        async with stdio_client(stdio(real_index)) as (read, write), ClientSession(read, write) as session:
            out = await exercise(session)
            templates = (await session.list_resource_templates()).resource_templates
            assert [t.uri_template for t in templates] == ["fpsearch://documents/{doc_id}"]
            whole = await session.read_resource(out["hits"][0]["uri"])
            doc = await session.call_tool("get_document", {"doc_id": out["hits"][0]["doc_id"]})
            assert whole.contents[0].text == doc.structured_content["text"]
            assert doc.structured_content["length"] == len(doc.structured_content["text"])
            who = await session.call_tool("positions", {"topic": "peace treaty with Japan", "n": 3, "quotes": 1})
            top = who.structured_content["positions"][0]
            assert top["actor"] == "Vladimir Putin" and top["quotes"][0]["sentence"]
            names = await session.call_tool("speakers", {"kind": "person", "limit": 5})
            assert "Vladimir Putin" in [a["actor"] for a in names.structured_content["result"]]
            out["errors"] = [
                await session.call_tool("search", {"query": "Kuril", "since": "last week"}),
                await session.call_tool("get_document", {"doc_id": "no-such-document"}),
                await session.call_tool("search", {"query": "Kuril", "k": 1000}),
                await session.call_tool("search", {"query": "  "}),
                await session.call_tool("positions", {"topic": "Kuril", "by": "colour"}),
            ]
            return out

    out = asyncio.run(run())
    assert out["tools"] == TOOLS
    messages = [e.content[0].text for e in out["errors"]]
    assert all(e.is_error for e in out["errors"]), messages
    for needle, message in zip(["YYYY", "no-such-document", "limit is 100", "empty", "colour"], messages):
        assert needle in message and "Traceback" not in message, message


def test_http_mcp_on_a_running_server(server: str) -> None:
    async def run() -> dict:
        async with streamable_http_client(f"{server}/mcp") as streams, ClientSession(streams[0], streams[1]) as session:
            return await exercise(session)

    out = asyncio.run(run())
    assert out["tools"] == TOOLS
    # the same passages as the HTTP API's own search
    api = httpx.get(f"{server}/search", params={"q": "Kuril Islands position", "k": 4}).json()
    assert [(h["doc_id"], h["start"]) for h in api["hits"]] == [(h["doc_id"], h["start"]) for h in out["hits"]]


def test_http_mcp_refuses_a_foreign_host_header(server: str) -> None:
    """DNS-rebinding protection: a page on another site that resolves to this machine gets nothing."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    r = httpx.post(
        f"{server}/mcp",
        json=body,
        headers={"Host": "attacker.example", "Accept": "application/json, text/event-stream"},
    )
    assert r.status_code == 421


def test_mcp_command_on_a_missing_index_is_one_line(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "search", "mcp", "--index", str(tmp_path / "nothing")],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "fpsearch:" in r.stderr


@pytest.mark.skipif(
    not ADAPTERS.exists(), reason="no .venv-adapters: scripts/test.sh makes it (langchain-mcp-adapters needs mcp<2)"
)
@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_langchain_mcp_adapters_load_the_tools_and_search(transport: str, real_index: Path, server: str) -> None:
    client = REPO / "tests" / "clients" / "langchain_mcp.py"
    args = ["stdio", sys.executable, str(real_index)] if transport == "stdio" else ["http", f"{server}/mcp"]
    r = subprocess.run(
        [str(ADAPTERS), str(client), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        cwd=REPO,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["tools"] == TOOLS
    answer = json.loads(out["answer"][0]["text"])
    assert len(answer["hits"]) == 3 and any("Kuril" in h["text"] for h in answer["hits"])
