"""Runs one index change with the fake embedder, slowly enough to be killed at any stage.

python tests/crash_worker.py OP INDEX [ARGS...]      OP: index | add | remove
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from fakes import FakeEmbedder  # tests/ is on the path of a script run from it

from search import add, build, remove


class SlowFake(FakeEmbedder):
    def embed_passages(self, texts, spans, batch_size=32, progress=None):
        time.sleep(0.002 * len(texts))
        return super().embed_passages(texts, spans, batch_size, progress)


def main() -> None:
    op, index, *args = sys.argv[1:]
    if op == "index":
        build([Path(a) for a in args], index, model=SlowFake())
    elif op == "add":
        add([Path(a) for a in args], index, model=SlowFake())
    elif op == "remove":
        remove(args, index)
    else:
        raise SystemExit(f"unknown op {op}")


if __name__ == "__main__":
    main()
