"""A short loopback soak in the suite (the long one is scripts/soak.py): mixed valid and invalid
requests from 16 connections; no valid request fails, no 5xx."""

from __future__ import annotations

import asyncio
import importlib.util
import os
from pathlib import Path

SOAK = Path(__file__).resolve().parent.parent / "scripts" / "soak.py"


def test_short_soak(server: str) -> None:
    spec = importlib.util.spec_from_file_location("soak", SOAK)
    soak = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(soak)
    result = asyncio.run(soak.soak(server, total=300, connections=16, max_seconds=240, pid=os.getpid(), seed=1))
    assert result["requests"] == 300
    assert result["valid_errors"] == 0 and result["server_errors_5xx"] == 0, result
    assert result["invalid_answered_4xx"] == result["invalid"]
