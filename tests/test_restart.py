"""`fpsearch serve` stopped by SIGTERM, then by SIGINT, while 32 connections send searches: every
request gets its answer or a clean 503 (none dropped, none hanging), the process exits 0 within its
grace period, and the restarted server answers exactly as before."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from harness import start_server

CONNECTIONS = 32
GRACE = 10
FIXED = ["Kuril Islands position", "What did Putin say about a peace treaty with Japan?", "fishing near the islands"]
WORDS = (
    "Kuril Islands peace treaty Japan visit minister talks economy trade border fishing joint "
    "activity sovereignty declaration negotiations Tokyo Moscow summit"
).split()


class Server:
    def __init__(self, index: Path) -> None:
        self.proc, self.base = start_server(index, "--grace", str(GRACE), stderr=subprocess.PIPE, seconds=180)

    def answers(self) -> list[list[tuple]]:
        out = []
        for q in FIXED:
            r = httpx.get(self.base + "/search", params={"q": q, "k": 10}, timeout=30)
            assert r.status_code == 200, r.text
            out.append([(h["doc_id"], h["start"], h["end"], h["score"]) for h in r.json()["hits"]])
        return out

    def stop_under_load(self, sig: signal.Signals) -> dict:
        """32 connections searching (queries none has sent before); ``sig`` once 32 were answered."""
        seen: dict = {"ok": 0, "refused_with_503": 0, "connect_refused": 0, "dropped": [], "hung": 0, "other": []}

        async def client(i: int) -> None:
            async with httpx.AsyncClient(base_url=self.base, timeout=GRACE + 20) as c:
                for n in range(10_000):
                    q = " ".join(WORDS[(i * 5 + n * 3 + j) % len(WORDS)] for j in range(3)) + f" {sig.name} {i} {n}"
                    try:
                        r = await c.get("/search", params={"q": q, "k": 5})
                    except httpx.ConnectError:
                        seen["connect_refused"] += 1  # nothing was sent: the client knows to go elsewhere
                        return
                    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                        seen["dropped"].append(f"{type(exc).__name__}: {exc}")
                        return
                    except httpx.TimeoutException:
                        seen["hung"] += 1
                        return
                    if r.status_code == 200:
                        seen["ok"] += 1
                    elif r.status_code == 503 and "shutting down" in r.json()["detail"]:
                        seen["refused_with_503"] += 1
                        return
                    else:
                        seen["other"].append((r.status_code, r.text[:200]))
                        return

        async def run() -> float:
            tasks = [asyncio.create_task(client(i)) for i in range(CONNECTIONS)]
            warm = time.monotonic() + 60
            while seen["ok"] < CONNECTIONS and time.monotonic() < warm:  # under load, answering
                await asyncio.sleep(0.05)
            started = time.monotonic()
            self.proc.send_signal(sig)
            while self.proc.poll() is None and time.monotonic() - started < GRACE + 10:
                await asyncio.sleep(0.05)
            took = time.monotonic() - started
            await asyncio.wait_for(asyncio.gather(*tasks), GRACE + 30)
            return took

        seen["seconds_to_exit"] = asyncio.run(run())
        seen["exit"] = self.proc.poll()
        seen["stderr"] = self.proc.stderr.read() if seen["exit"] is not None else ""
        if seen["exit"] is None:
            self.proc.kill()
        return seen


@pytest.fixture
def index(real_index: Path, tmp_path: Path) -> Path:
    shutil.copytree(real_index, tmp_path / "index")
    return tmp_path / "index"


def test_sigterm_and_sigint_under_load_drain_cleanly_and_restart_identically(index: Path) -> None:
    server = Server(index)
    before = server.answers()
    for sig in (signal.SIGTERM, signal.SIGINT):
        seen = server.stop_under_load(sig)
        assert seen["ok"] > 0, seen
        assert seen["dropped"] == [] and seen["hung"] == 0 and seen["other"] == [], seen
        assert seen["refused_with_503"] + seen["connect_refused"] >= CONNECTIONS, seen
        assert seen["exit"] == 0, seen
        assert seen["seconds_to_exit"] < GRACE, seen
        assert "Traceback" not in seen["stderr"], seen["stderr"]
        server = Server(index)
        assert server.answers() == before
    server.proc.terminate()
    server.proc.wait(timeout=GRACE + 10)
