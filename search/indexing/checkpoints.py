"""Resumable embedding: a change's vectors are saved in parts of ``config.PART_SIZE`` passages (2,048) as they are
made, in the target's checkpoint folder (``INDEX/.build/KEY`` for a folder index), so that a rerun of
the same change (same recipe, same documents) embeds only what the interrupted run had not."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from .. import config
from ..embedding import Embedder
from ..progress import Progress
from ..store import Recipe, Target
from .settings import Report


class Checkpoints:
    """The saved parts of one change's embeddings; parts of any other change are deleted."""

    def __init__(self, root: Target, recipe: Recipe, keys: Iterable[str], dim: int) -> None:
        digest = hashlib.sha256(json.dumps(recipe.as_dict(), sort_keys=True).encode())
        for key in keys:
            digest.update(key.encode("utf-8", "surrogatepass"))
            digest.update(b"\0")
        base = root.checkpoints()
        self.folder = base / digest.hexdigest()[:24]
        if base.exists():
            for old in base.iterdir():
                if old != self.folder:
                    shutil.rmtree(old, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.dim = dim

    def _path(self, number: int, tmp: bool = False) -> Path:
        return self.folder / f"part-{number:06d}{'.tmp' if tmp else ''}.npz"

    def load(self, number: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``(vectors, sentence vectors, sentences per passage)`` of a saved part, or None if it is
        missing or was cut short by a crash (it is embedded again)."""
        path = self._path(number)
        if not path.exists():
            return None
        try:
            with np.load(path) as data:
                vecs, flat, counts = data["vectors"], data["sentences"], data["counts"]
        except (OSError, ValueError, KeyError, EOFError):
            return None
        if vecs.shape != (size, self.dim) or len(counts) != size or flat.shape != (int(counts.sum()), self.dim):
            return None
        return vecs, flat, counts

    def save(self, number: int, vectors: np.ndarray, sentence_vectors: list[np.ndarray]) -> None:
        """Save one finished part (written aside, then renamed: a part is whole or absent)."""
        tmp = self._path(number, tmp=True)
        try:
            with open(tmp, "wb") as fh:
                np.savez(
                    fh,
                    vectors=vectors,
                    sentences=np.concatenate(sentence_vectors)
                    if sentence_vectors
                    else np.zeros((0, self.dim), np.float32),
                    counts=np.array([len(x) for x in sentence_vectors], dtype=np.int64),
                )
            os.replace(tmp, self._path(number))
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def discard(root: Target) -> None:
        """Delete every checkpoint of ``root`` (its change was published, or failed for good)."""
        shutil.rmtree(root.checkpoints(), ignore_errors=True)


def embed_resumably(
    root: Target,
    recipe: Recipe,
    embedder: Embedder,
    texts: list[str],
    spans: list[list[tuple[int, int]]],
    keys: Iterable[str],
    batch_size: int,
    progress: Progress,
    report: Report,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Passage vectors of ``texts`` and sentence vectors of their ``spans``: the saved parts read
    back, the others embedded and saved as each part is finished."""
    dim = embedder.dimension
    saved = Checkpoints(root, recipe, keys, dim)
    vectors = np.zeros((len(texts), dim), dtype=np.float32)
    sentence_vectors: list[np.ndarray] = [np.zeros((0, dim), dtype=np.float32)] * len(texts)
    done, todo = 0, []
    part_size = config.number(config.PART_SIZE)
    for number, lo in enumerate(range(0, len(texts), part_size)):
        size = min(part_size, len(texts) - lo)
        part = saved.load(number, size)
        if part is None:
            todo.append((number, lo, size))
            continue
        vectors[lo : lo + size], flat, counts = part
        sentence_vectors[lo : lo + size] = np.split(flat, np.cumsum(counts)[:-1])
        done += size
    if done:
        progress.note(f"resuming: {done:,} of {len(texts):,} passages were embedded by an earlier run")
        report.resumed = done
    progress.stage("embedding", total=len(texts), done=done)
    started = time.perf_counter()
    remaining = {number: size for number, _, size in todo}
    for index, vecs, svecs in _stream(embedder, texts, spans, todo, batch_size, progress.advance):
        vectors[index] = vecs
        for i, sv in zip(index, svecs):
            sentence_vectors[i] = sv
        for number in index // part_size:
            number = int(number)
            remaining[number] -= 1
            if remaining[number] == 0:
                lo, hi = number * part_size, min(len(texts), (number + 1) * part_size)
                saved.save(number, vectors[lo:hi], sentence_vectors[lo:hi])
                report.embedded += hi - lo
    report.embed_seconds = time.perf_counter() - started
    return vectors, sentence_vectors


def _stream(
    embedder: Embedder,
    texts: list[str],
    spans: list,
    todo: list[tuple[int, int, int]],
    batch_size: int,
    advance: Callable[[int], None],
):
    """``(indices, vectors, sentence vectors)`` for the passages of the parts still to do, as they are
    embedded (``advance`` hears of every finished batch). An embedder with ``embed_stream`` (Ray) gets
    them all at once, so one pool of model replicas serves the whole build; others one part at a time."""
    indices = np.concatenate([np.arange(lo, lo + size) for _, lo, size in todo]) if todo else np.zeros(0, np.int64)
    stream = getattr(embedder, "embed_stream", None)
    if stream is not None:
        for local, vecs, svecs in stream([texts[i] for i in indices], [spans[i] for i in indices], batch_size):
            advance(len(local))
            yield indices[local], vecs, svecs
        return
    for _, lo, size in todo:
        vecs, svecs = embedder.embed_passages(
            texts[lo : lo + size], spans[lo : lo + size], batch_size=batch_size, progress=advance
        )
        yield np.arange(lo, lo + size), vecs, svecs
