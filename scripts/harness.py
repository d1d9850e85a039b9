"""What the benchmark and evaluation scripts and the tests share: where the shared data lies, the
machine a figure came from, writing a section of BENCHMARKS.md, and an ``fpsearch serve`` started as
a user starts it.

Scripts import it as ``harness`` (Python puts ``scripts/`` on the path of a script it runs); the tests
find it through pytest's ``pythonpath`` setting in pyproject.toml. The ``search`` package itself comes
from the environment (``pip install -e .``), never from a path put in by hand."""

from __future__ import annotations

import gzip
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the bundled models only: nothing is downloaded

ROOT = Path(__file__).resolve().parent.parent
# The corpora and evaluation sets, beside the checkout unless FPSEARCH_SHARED says where.
SHARED = Path(os.environ.get("FPSEARCH_SHARED", ROOT.parent / "shared"))
BENCHMARKS = ROOT / "BENCHMARKS.md"
# How the product's thresholds were calibrated (match strength, the query-language note)
CALIBRATION = ROOT / "docs" / "calibration.md"
SEEDS = ROOT / "seeds"
KREMLIN = SHARED / "corpus" / "kremlin_en.jsonl.gz"
KREMLIN_DEV = SHARED / "eval" / "kremlin-dev"


def machine() -> str:
    """The CPU model, its widest vector instructions and the core count (from /proc/cpuinfo where
    there is one), e.g. "AMD EPYC (AVX2), 2 cores": the model's speed depends on them."""
    first: dict[str, str] = {}  # each field of the first CPU
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            first.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    model = first.get("model name") or platform.processor() or platform.machine()
    flags = set(first.get("flags", "").split())
    named = {"avx2": "AVX2", "avx512_vnni": "AVX-512 VNNI", "avx512_bf16": "AVX-512 BF16", "amx_tile": "AMX"}
    have = [v for k, v in named.items() if k in flags]
    if len(have) > 1:
        have.remove("AVX2")
    isa = f" ({', '.join(have)})" if have else ""
    return f"{model}{isa}, {os.cpu_count()} cores"


def stamp(script: str) -> str:
    return f"_Written by `python scripts/{script}` on {time.strftime('%Y-%m-%d %H:%M')} UTC ({machine()})._"


def write_section(name: str, lines: list[str], heading: str = "", path: Path = BENCHMARKS) -> None:
    """Replace the section ``name`` of ``path`` (between ``<!-- NAME:start -->`` and
    ``<!-- NAME:end -->``) with ``lines`` (blank lines at either end dropped), or add it at the end
    under ``heading``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    lines = list(lines)
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    block = "\n".join([start, *lines, end])
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if start in text and end in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + (f"{heading}\n\n" if heading else "") + block + "\n"
    path.write_text(text, encoding="utf-8")


def seed_sample(tmp_path: Path, n: int = 6) -> Path:
    """The tests' small corpus, written under ``tmp_path/sample``: the seed article plus the ``n`` seed
    Kremlin documents that mention the Kurils most, each cut to its first 6,000 characters."""
    out = tmp_path / "sample"
    out.mkdir()
    for name in ("russia-japan-kuril-islands.txt", "russia-japan-kuril-islands.txt.json"):
        (out / name).write_bytes((SEEDS / name).read_bytes())
    with gzip.open(SEEDS / "kremlin_japan.jsonl.gz", "rt", encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh]
    docs.sort(key=lambda d: (-d["text"].count("Kuril"), d["_id"]))
    docs = sorted(docs[:n], key=lambda d: len(d["text"]))
    with open(out / "kremlin_sample.jsonl", "w", encoding="utf-8") as fh:
        for d in docs:
            d["text"] = d["text"][:6000]
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    return out


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, seconds: float = 300) -> float:
    """Wait until the server answers ``url`` and (fpsearch's /health) has finished scoring its lexical
    words ahead; returns the seconds that took. Raises RuntimeError, with the server's stderr where it
    was piped, if the server exits or does not get ready in time."""
    import httpx

    started = time.monotonic()
    while time.monotonic() < started + seconds:
        if proc.poll() is not None:
            said = proc.stderr.read() if proc.stderr else ""
            raise RuntimeError(f"the server exited with {proc.returncode}: {said}".rstrip(": "))
        try:
            r = httpx.get(url, timeout=2)
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else None
            if r.status_code == 200 and not (isinstance(body, dict) and body.get("warming")):
                return round(time.monotonic() - started, 1)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not get ready in {seconds:.0f} s")


def stop(proc: subprocess.Popen, sig: signal.Signals = signal.SIGINT, seconds: float = 30) -> None:
    """Ask the server to stop with ``sig``; kill it if it has not stopped after ``seconds``."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_server(index: Path, *options: str, stderr=None, seconds: float = 300) -> tuple[subprocess.Popen, str]:
    """``fpsearch serve --index INDEX OPTIONS`` on a free loopback port, in a process of its own, once
    it is ready: ``(process, base URL)``."""
    port = free_port()
    command = [sys.executable, "-m", "search", "serve", "--index", str(index), "--port", str(port)]
    if "--log-level" not in options:
        command += ["--log-level", "warning"]
    proc = subprocess.Popen([*command, *options], stderr=stderr, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base + "/health", proc, seconds)
    except BaseException:
        stop(proc, signal.SIGKILL, 10)
        raise
    return proc, base


@contextmanager
def serving(index: Path, *options: str, stderr=None) -> Iterator[tuple[str, subprocess.Popen]]:
    """:func:`start_server` for a ``with`` block: ``(base URL, process)``, stopped with SIGTERM after."""
    proc, base = start_server(index, *options, stderr=stderr)
    try:
        yield base, proc
    finally:
        stop(proc, signal.SIGTERM)
