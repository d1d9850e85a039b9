"""Checking an index without trusting it, and going back to the generation kept before the live one."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np

from ...errors import IndexDamaged, IndexMissing
from ..manifest import FORMAT_VERSION
from ..vectors import VectorIndex
from .layout import (
    CURRENT,
    DB,
    VECTORS,
    _fsync_dir,
    _point,
    current_generation,
    previous_generation,
    read_manifest,
    sha256_file,
    writer_lock,
)


def check_index(root: Path | str, full: bool = True) -> tuple[list[str], list[str]]:
    """Check an index without trusting it: ``(facts, problems)`` in plain words; no problems = healthy.

    Verifies the manifest, file sizes and SHA-256 checksums, SQLite's own integrity check, the FTS5
    index against its content, and that the same passage ids are in SQLite and FAISS with spans that lie
    inside their documents. ``full=False`` skips the checksums and the FTS5 check (the slow parts).
    """
    root = Path(root)
    facts: list[str] = []
    try:
        gen = current_generation(root)
    except IndexDamaged as exc:
        return facts, [str(exc)]
    if gen is None:
        return facts, [f"no index at {root} ({CURRENT} is missing)"]
    if not gen.is_dir():
        return facts, [f"{CURRENT} names {gen.name}, which does not exist"]
    facts.append(f"live generation {gen.name}")
    return check_generation(root, gen, full, facts)


def check_generation(
    root: Path, gen: Path, full: bool = True, facts: list[str] | None = None
) -> tuple[list[str], list[str]]:
    """``check_index`` of one generation folder of ``root``, live or not."""
    facts = [] if facts is None else facts
    problems: list[str] = []
    try:
        manifest = read_manifest(gen)
    except IndexDamaged as exc:
        return facts, [str(exc)]
    if manifest.format_version != FORMAT_VERSION:
        problems.append(f"format version {manifest.format_version} is not {FORMAT_VERSION}")
    for name in (DB, VECTORS):
        path = gen / name
        want = manifest.file(name)
        if not path.is_file():
            problems.append(f"{path} is missing")
            continue
        size = path.stat().st_size
        if size != want.get("bytes"):
            problems.append(f"{path} is {size} bytes; the manifest says {want.get('bytes')}")
        elif full and sha256_file(path) != want.get("sha256"):
            problems.append(f"{path} does not match its checksum in the manifest (the file was changed or damaged)")
        else:
            facts.append(f"{name}: {size:,} bytes" + (", checksum ok" if full else ""))
    if problems:
        return facts, problems
    try:
        vectors = VectorIndex.read(gen / VECTORS, manifest.get("vectors"))
        faiss_ids = np.sort(vectors.ids())
    except IndexDamaged as exc:
        return facts, [str(exc)]
    counts = manifest.get("counts", {})
    try:
        conn = sqlite3.connect(f"file:{(gen / DB).as_posix()}?mode=ro&immutable=1", uri=True)
        with closing(conn):
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                problems.append(f"SQLite reports damage: {result}")
            db_ids = np.array([r[0] for r in conn.execute("SELECT id FROM passages ORDER BY id")], dtype=np.int64)
            docs = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
            bad_spans = conn.execute(
                "SELECT count(*) FROM passages p LEFT JOIN documents d ON d.id = p.doc "
                "WHERE d.id IS NULL OR p.start < 0 OR p.end <= p.start OR p.end > length(d.text)"
            ).fetchone()[0]
            orphans = conn.execute(
                "SELECT count(*) FROM sentences s LEFT JOIN passages p ON p.id = s.passage WHERE p.id IS NULL"
            ).fetchone()[0]
    except sqlite3.DatabaseError as exc:
        return facts, [*problems, f"{DB} cannot be read as SQLite ({exc})"]
    if bad_spans:
        problems.append(f"{bad_spans} passages point outside their document or to no document")
    if orphans:
        problems.append(f"{orphans} sentence rows belong to no passage")
    if docs != counts.get("documents"):
        problems.append(f"{docs} documents in SQLite; the manifest says {counts.get('documents')}")
    if len(db_ids) != counts.get("passages"):
        problems.append(f"{len(db_ids)} passages in SQLite; the manifest says {counts.get('passages')}")
    if not np.array_equal(db_ids, faiss_ids):
        only_db = len(np.setdiff1d(db_ids, faiss_ids))
        only_faiss = len(np.setdiff1d(faiss_ids, db_ids))
        problems.append(
            f"FAISS and SQLite disagree: {only_db} passages have no vector, {only_faiss} vectors have no passage"
        )
    else:
        facts.append(f"{docs:,} documents, {len(db_ids):,} passages, the same ids in SQLite and FAISS")
    if full and not problems:
        problems.extend(_check_fts(root, gen))
        if not problems:
            facts.append("FTS5 index matches the passages")
    leftovers = [e.name for e in root.iterdir() if e.name.startswith(".tmp-")]
    if leftovers:
        facts.append(f"unfinished writes to clean up at the next change: {', '.join(leftovers)}")
    if (root / ".build").exists():
        facts.append("an interrupted build or add left embedding checkpoints in .build (run it again to resume)")
    return facts, problems


def _check_fts(root: Path, gen: Path) -> list[str]:
    # FTS5's integrity check is a write statement: run it on a private copy, in memory, so that a
    # check never needs free space on the index's device (a full disk is when one checks).
    source = sqlite3.connect(f"file:{(gen / DB).as_posix()}?mode=ro&immutable=1", uri=True)
    conn = sqlite3.connect(":memory:")
    try:
        source.backup(conn)
        conn.execute("INSERT INTO passages_fts (passages_fts, rank) VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError as exc:
        return [f"the FTS5 lexical index does not match the passages ({exc})"]
    finally:
        conn.close()
        source.close()
    return []


def rollback(root: Path | str) -> tuple[str, str]:
    """Make the kept previous generation live again, after checking it in full; the generation it
    replaces is deleted. Returns ``(replaced, live)`` generation names. Readers (a running server)
    move to it as to any newly published generation."""
    root = Path(root)
    with writer_lock(root):
        live = current_generation(root)
        if live is None:
            raise IndexMissing(f"no index at {root}")
        previous = previous_generation(root)
        if previous is None:
            raise IndexMissing(
                f"{root} keeps no generation before {live.name} to go back to; rebuild it with "
                f"`fpsearch index PATH --index {root}`"
            )
        _, problems = check_generation(root, previous)
        if problems:
            raise IndexDamaged(f"{previous} fails its check too ({'; '.join(problems)}); rebuild the index")
        _point(root, previous)
        _fsync_dir(root)
        shutil.rmtree(live, ignore_errors=True)
        return live.name, previous.name
