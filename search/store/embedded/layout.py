"""An index folder's layout: generations, the ``CURRENT`` pointer, the writer lock and publishing.

    INDEX/
      CURRENT            name of the live generation, replaced atomically (write + fsync + rename)
      gen-000007/        one immutable generation
        manifest.json    format version, model, settings, counts, sha256 of the two files below
        store.sqlite     documents, passages (spans), FTS5 lexical index
        vectors.faiss    FAISS index whose ids are the passage ids of store.sqlite
      .lock              writer lock (flock): one writer at a time
      .tmp-*/            a generation being written; removed if a writer dies

A generation is never modified once published. Every change writes a new generation beside the live
one and then swaps ``CURRENT``; the generation just before the live one is kept (for readers that have
not reloaded yet, and for ``rollback``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ...errors import IndexBusy, IndexDamaged
from ..manifest import Manifest

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
DB = "store.sqlite"
VECTORS = "vectors.faiss"
LOCK = ".lock"
_GEN = re.compile(r"^gen-(\d{6,})$")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def current_generation(root: Path) -> Path | None:
    """The live generation folder of ``root``, or None if no index was ever published there."""
    try:
        name = (root / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexDamaged(f"{root}: cannot read {CURRENT} ({exc.strerror})") from exc
    if not _GEN.match(name):
        raise IndexDamaged(f"{root}/{CURRENT} names {name!r}, which is not a generation folder")
    return root / name


def index_exists(root: Path) -> bool:
    return (root / CURRENT).is_file()


@contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """Hold the index's writer lock; a second writer fails at once with ``IndexBusy``.

    A writer that publishes nothing into a folder that held nothing (a build whose input was bad)
    leaves no trace: the lock file goes, and so does the folder if the lock made it."""
    made = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    held = False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise IndexBusy(f"{root} is being changed by {holder}; try again when it finishes") from None
        held = True
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()}".encode(), 0)
        _remove_leftovers(root)
        yield
    finally:
        if held and [p.name for p in root.iterdir()] == [LOCK]:
            (root / LOCK).unlink(missing_ok=True)  # still locked by us, so no other writer is inside
            if made:
                with contextlib.suppress(OSError):
                    root.rmdir()
        os.close(fd)


def previous_generation(root: Path) -> Path | None:
    """The generation published just before the live one, if it is still kept (see ``_remove_leftovers``)."""
    try:
        live = current_generation(root)
    except IndexDamaged:
        return None
    if live is None:
        return None
    previous = root / f"gen-{_gen_number(live) - 1:06d}"
    return previous if (previous / MANIFEST).is_file() else None


def damage_fix(root: Path, check: bool = True) -> str:
    """What to do about a damaged live generation: go back to the kept previous one, or rebuild
    (after ``fpsearch check``, unless ``check`` is false: it was just run)."""
    previous = previous_generation(root)
    back = f"`fpsearch rollback --index {root}` goes back to {previous.name}, or " if previous else ""
    first = f"run `fpsearch check --index {root}`; " if check else ""
    return f"{first}{back}rebuild it with `fpsearch index PATH --index {root}`"


def _gen_number(path: Path) -> int:
    return int(_GEN.match(path.name).group(1))


def _remove_leftovers(root: Path, keep_previous: bool = True) -> None:
    """Delete what is no longer needed: unfinished generations of dead writers, generations that were
    never published, and retired ones — except the one just before the live generation, which readers
    that have not reloaded yet may still be opening."""
    live = current_generation(root)
    live_n = _gen_number(live) if live else 0
    for entry in root.iterdir():
        m = _GEN.match(entry.name)
        stale = m is not None and (int(m.group(1)) > live_n or int(m.group(1)) < live_n - int(keep_previous))
        if entry.name.startswith((".tmp-", ".check-")) or stale:
            shutil.rmtree(entry, ignore_errors=True)
    (root / (CURRENT + ".tmp")).unlink(missing_ok=True)


def read_manifest(gen: Path) -> Manifest:
    try:
        raw = json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexDamaged(f"{gen}: {MANIFEST} is missing; rebuild the index with `fpsearch index`") from None
    except (OSError, ValueError) as exc:
        raise IndexDamaged(f"{gen}/{MANIFEST} cannot be read ({exc}); rebuild the index") from exc
    return Manifest.parse(raw, f"{gen}/{MANIFEST}")


def publish(root: Path, tmp: Path) -> Path:
    live = current_generation(root)
    number = _gen_number(live) + 1 if live else 1
    gen = root / f"gen-{number:06d}"
    if gen.exists():
        shutil.rmtree(gen)
    os.rename(tmp, gen)
    try:
        _fsync_dir(root)
        _point(root, gen)
    except BaseException:
        shutil.rmtree(gen, ignore_errors=True)  # not published (CURRENT still names the live one)
        raise
    _fsync_dir(root)
    _remove_leftovers(root)
    return gen


def _point(root: Path, gen: Path) -> None:
    """Make ``gen`` the live generation: one atomic rename of ``CURRENT`` (fsync ``root`` after it)."""
    pointer = root / (CURRENT + ".tmp")
    try:
        with open(pointer, "w", encoding="utf-8") as fh:
            fh.write(gen.name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(pointer, root / CURRENT)
    finally:
        pointer.unlink(missing_ok=True)
