"""What works without each optional extra: the core still searches and serves, and what needs an extra
says which one, in one line (the CLI) or a JSON detail (HTTP)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# ``sys.modules[name] = None`` makes ``import name`` fail as if the package were not installed.
WITHOUT = "import sys\nfor name in {names!r}: sys.modules[name] = None\n"


def run_without(names: list[str], code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT.format(names=names) + code], capture_output=True, text=True, timeout=300
    )


def test_the_server_serves_without_the_mcp_package_and_mcp_says_what_to_install(real_index: Path) -> None:
    done = run_without(
        ["mcp"],
        f"""
import json
from fastapi.testclient import TestClient
from search.server import create_app
with TestClient(create_app({str(real_index)!r})) as client:
    found = client.get("/search", params={{"q": "Kuril Islands", "k": 2}})
    tools = client.post("/mcp", json={{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}})
    print(json.dumps([found.status_code, len(found.json()["hits"]), tools.status_code, tools.json()]))
""",
    )
    assert done.returncode == 0, done.stderr
    status, hits, mcp_status, body = json.loads(done.stdout.splitlines()[-1])
    assert (status, hits, mcp_status) == (200, 2, 501)
    assert "pip install 'fpsearch[server]'" in body["detail"]


def test_fpsearch_mcp_without_the_mcp_package_is_one_line(real_index: Path) -> None:
    done = run_without(
        ["mcp"],
        f"""
import sys
from search.cli import main
sys.argv = ["fpsearch", "mcp", "--index", {str(real_index)!r}]
main()
""",
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and "pip install 'fpsearch[server]'" in lines[0], done.stderr


def test_scoring_without_pytrec_eval_names_the_eval_extra() -> None:
    done = run_without(
        ["pytrec_eval"],
        """
from search.errors import InvalidInput
from search.evaluation import score_run
try:
    score_run({"q": ["d"]}, {"q": {"d": 1}})
except InvalidInput as exc:
    print(exc)
""",
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'fpsearch[eval]'" in done.stdout


@pytest.mark.parametrize("extra, names", [("server", ["mcp"]), ("eval", ["pytrec_eval"])])
def test_the_core_imports_without_each_extra(extra: str, names: list[str]) -> None:
    done = run_without(names, "import search.cli, search.server, search.retrieval, search.indexing; print('ok')")
    assert done.returncode == 0 and done.stdout.strip() == "ok", (extra, done.stderr)
