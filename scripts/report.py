"""What the benchmark and evaluation scripts share: the machine they ran on, and writing their
section of BENCHMARKS.md (between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``, added at the
end the first time)."""

from __future__ import annotations

import os
import platform
import re
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("FPSEARCH_SHARED", ROOT.parent / "shared"))
BENCHMARKS = ROOT / "BENCHMARKS.md"


def machine() -> str:
    """The CPU model and core count (from /proc/cpuinfo where there is one), e.g. "AMD EPYC, 2 cores"."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def stamp(script: str) -> str:
    return f"_Written by `python scripts/{script}` on {time.strftime('%Y-%m-%d %H:%M')} UTC ({machine()})._"


def write_section(name: str, lines: list[str]) -> None:
    """Replace the section ``name`` of BENCHMARKS.md with ``lines`` (or append it)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = "\n".join([start, *lines, end])
    text = BENCHMARKS.read_text(encoding="utf-8")
    if start in text and end in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    BENCHMARKS.write_text(text, encoding="utf-8")
