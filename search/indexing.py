"""Building and changing an index: documents → passages → vectors → a new store generation.

Every operation holds the index's writer lock, embeds what is new, and publishes a new generation in
one step (see ``store.embedded``). Embeddings are checkpointed in ``INDEX/.build/`` every few thousand
passages, so an interrupted build or add picks up where it stopped when the same command runs again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .chunking import Chunker, Passage
from .documents import Document, LoadReport, Problem, corpus_files, load_documents
from .embedding import Embedder, make_embedder
from .errors import DiskFull, DocumentNotFound, InvalidInput, SourceError, is_disk_full
from .progress import Progress, ProgressArg, as_progress
from .store import Store, Target, target
from .store.vectors import ANN_THRESHOLD

PART_SIZE = int(os.environ.get("FPSEARCH_PART_SIZE", "2048"))  # passages per embedding checkpoint
DEFAULT_MAX_TOKENS = 200
DEFAULT_OVERLAP = 1


@dataclass(frozen=True)
class IndexSettings:
    """How documents become vectors. Recorded in the manifest; ``add`` reuses the index's own."""

    max_tokens: int | None = DEFAULT_MAX_TOKENS
    overlap: int = DEFAULT_OVERLAP
    embed_title: bool = False
    batch_size: int = 32
    exact: bool = False
    ann_threshold: int | None = None

    def manifest(self, embedder: Embedder) -> dict[str, Any]:
        import blingfire

        limit = embedder.max_tokens
        max_tokens = min(self.max_tokens or limit, limit)
        return {
            "model": {"name": embedder.name, "dimension": embedder.dimension, "max_tokens": limit},
            "chunking": {
                "splitter": f"blingfire {getattr(blingfire, '__version__', '0.1.8')}",
                "max_tokens": max_tokens,
                "overlap": self.overlap,
                "embed_title": self.embed_title,
            },
            "ann": {
                "exact": self.exact,
                "threshold": self.ann_threshold or int(os.environ.get("FPSEARCH_ANN_THRESHOLD", ANN_THRESHOLD)),
            },
        }

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> IndexSettings:
        chunking = manifest.get("chunking", {})
        ann = manifest.get("ann", {})
        return cls(
            max_tokens=chunking.get("max_tokens"),
            overlap=chunking.get("overlap", DEFAULT_OVERLAP),
            embed_title=chunking.get("embed_title", False),
            exact=ann.get("exact", False),
            ann_threshold=ann.get("threshold"),
        )


@dataclass
class Report:
    """What an indexing operation did."""

    index: str = ""
    documents: int = 0
    passages: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    embedded: int = 0
    resumed: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    published: bool = False
    problems: list[Problem] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def passages_per_second(self) -> float:
        return self.embedded / self.embed_seconds if self.embed_seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "problems"}
        out["problems"] = [str(p) for p in self.problems]
        out["passages_per_second"] = round(self.passages_per_second, 1)
        return out


def _load(paths: Sequence[Path | str], source: str | None, report: Report, progress: Progress) -> list[Document]:
    if not paths:
        raise SourceError("no input paths given")
    for path in paths:
        corpus_files(Path(path))  # fail on a missing or unreadable path before any work starts
    loaded = LoadReport()
    docs: dict[str, Document] = {}
    progress.stage("reading")
    for doc in load_documents(paths, loaded, source):
        if doc.doc_id in docs:
            loaded.skip(doc.source, None, f"duplicate document id {doc.doc_id!r}; kept the first")
            continue
        docs[doc.doc_id] = doc
        progress.advance(1)
    report.problems.extend(loaded.problems)
    for problem in loaded.problems[:20]:
        progress.note(f"skipped {problem}")
    if len(loaded.problems) > 20:
        progress.note(f"... and {len(loaded.problems) - 20} more problems")
    return list(docs.values())


def _chunk(
    docs: Sequence[Document], chunker: Chunker, embed_title: bool, progress: Progress
) -> list[list[Passage]]:
    progress.stage("chunking", total=len(docs))
    out = []
    budget = chunker.max_tokens
    for doc in docs:
        if embed_title and doc.title:
            title_tokens = chunker.counter.count([doc.title])[0] + 1
            chunker.max_tokens = max(budget // 2, budget - title_tokens)
        out.append(chunker.chunk(doc))
        chunker.max_tokens = budget
        progress.advance(1)
    return out


def embed_text(doc: Document, passage: Passage, embed_title: bool) -> str:
    """The text the model sees for a passage (the stored span stays ``passage.text``)."""
    return f"{doc.title}\n{passage.text}" if embed_title and doc.title else passage.text


def _embed(
    root: Target,
    embedder: Embedder,
    settings: dict[str, Any],
    texts: list[str],
    spans: list[list[tuple[int, int]]],
    key_parts: Iterable[str],
    batch_size: int,
    progress: Progress,
    report: Report,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Embed ``texts`` (and their sentence spans), saving finished parts under the target's checkpoint
    folder (``INDEX/.build/KEY`` for a folder index)
    so that a rerun of the same operation resumes instead of starting over."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for part in key_parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    base = root.checkpoints()
    folder = base / digest.hexdigest()[:24]
    if base.exists():
        for old in base.iterdir():
            if old != folder:
                shutil.rmtree(old, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    dim = embedder.dimension
    vectors = np.zeros((len(texts), dim), dtype=np.float32)
    sentence_vectors: list[np.ndarray] = [np.zeros((0, dim), dtype=np.float32)] * len(texts)
    done, todo = 0, []
    for number, lo in enumerate(range(0, len(texts), PART_SIZE)):
        size = min(PART_SIZE, len(texts) - lo)
        saved = _read_part(folder / f"part-{number:06d}.npz", size, dim)
        if saved is None:
            todo.append((number, lo, size))
            continue
        vectors[lo : lo + size], flat, counts = saved
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
        for number in index // PART_SIZE:
            remaining[int(number)] -= 1
            if remaining[int(number)] == 0:
                _save_part(folder, int(number), vectors, sentence_vectors, len(texts), dim)
                report.embedded += min(PART_SIZE, len(texts) - int(number) * PART_SIZE)
    report.embed_seconds = time.perf_counter() - started
    return vectors, sentence_vectors


def _stream(embedder: Embedder, texts: list[str], spans: list, todo: list[tuple[int, int, int]], batch_size: int,
            advance: Callable[[int], None]):
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


def _save_part(folder: Path, number: int, vectors: np.ndarray, sentence_vectors: list, total: int, dim: int) -> None:
    lo, hi = number * PART_SIZE, min(total, (number + 1) * PART_SIZE)
    svecs = sentence_vectors[lo:hi]
    tmp = folder / f"part-{number:06d}.tmp.npz"
    try:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                vectors=vectors[lo:hi],
                sentences=np.concatenate(svecs) if svecs else np.zeros((0, dim), np.float32),
                counts=np.array([len(x) for x in svecs], dtype=np.int64),
            )
        os.replace(tmp, folder / f"part-{number:06d}.npz")
    finally:
        tmp.unlink(missing_ok=True)


def _read_part(path: Path, size: int, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    if not path.exists():
        return None
    try:
        with np.load(path) as data:
            vecs, flat, counts = data["vectors"], data["sentences"], data["counts"]
    except (OSError, ValueError, KeyError, EOFError):
        return None  # a part cut short by a crash: embed it again
    if vecs.shape != (size, dim) or len(counts) != size or flat.shape != (int(counts.sum()), dim):
        return None
    return vecs, flat, counts


def _finish_checkpoints(root: Target) -> None:
    shutil.rmtree(root.checkpoints(), ignore_errors=True)


@contextmanager
def _writing(root: Target) -> Iterator[None]:
    """Hold ``root``'s writer lock for one change. If the device fills up on the way, the change is
    not published (the store never publishes half a write), this run's checkpoints go too, so
    that nothing it wrote is left taking space, and the caller gets ``DiskFull``."""
    def full(exc: BaseException) -> DiskFull:
        return DiskFull(
            f"no space left on the device that holds {root.location}: the index is as it was before, and "
            "the partial files of this run were removed; free some space and run it again"
        )

    try:
        with root.lock():
            try:
                yield
            except Exception as exc:
                if not is_disk_full(exc):
                    raise
                _finish_checkpoints(root)
                raise full(exc) from exc
    except DiskFull:
        raise
    except Exception as exc:  # the lock itself (a fresh index folder on a full device)
        if not is_disk_full(exc):
            raise
        raise full(exc) from exc


def _write(
    root: Target,
    settings: dict[str, Any],
    base: Store | None,
    docs: Sequence[Document],
    passages: Sequence[Sequence[Passage]],
    vectors: np.ndarray,
    sentence_vectors: Sequence[np.ndarray],
    progress: Progress,
    report: Report,
    remove: Sequence[str] = (),
) -> None:
    progress.stage("writing", total=len(docs) + len(remove))
    with root.write(settings, base) as writer:
        for doc_id in remove:
            if writer.remove(doc_id):
                report.removed += 1
            progress.advance(1)
        offset = 0
        for doc, parts in zip(docs, passages):
            writer.add(
                doc,
                parts,
                vectors[offset : offset + len(parts)],
                sentence_vectors[offset : offset + len(parts)],
            )
            offset += len(parts)
            progress.advance(1)
    report.published = True


def _embedder_for(model: str | Embedder | None, default: str = "minilm") -> Embedder:
    if model is None or isinstance(model, str):
        return make_embedder(model or default)
    return model


def _prepare(
    root: Target,
    docs: list[Document],
    embedder: Embedder,
    settings: IndexSettings,
    manifest_settings: dict[str, Any],
    progress: Progress,
    report: Report,
) -> tuple[list[list[Passage]], np.ndarray, list[np.ndarray]]:
    chunking = manifest_settings["chunking"]
    chunker = Chunker(embedder.counter, max_tokens=chunking["max_tokens"], overlap=chunking["overlap"])
    passages = _chunk(docs, chunker, settings.embed_title, progress)
    texts, spans = [], []
    for doc, parts in zip(docs, passages):
        for p in parts:
            text = embed_text(doc, p, settings.embed_title)
            shift = len(text) - len(p.text) - p.start  # where the passage starts inside ``text``
            texts.append(text)
            spans.append([(a + shift, b + shift) for a, b in p.sentences])
    keys = (f"{d.doc_id}\0{d.hash}" for d in docs)
    vectors, svecs = _embed(
        root, embedder, manifest_settings, texts, spans, keys, settings.batch_size, progress, report
    )
    return passages, vectors, svecs


def build(
    paths: Sequence[Path | str],
    index: Path | str | Target,
    model: str | Embedder | None = None,
    settings: IndexSettings | None = None,
    source: str | None = None,
    progress: ProgressArg = None,
) -> Report:
    """Build a fresh index at ``index`` from ``paths``, replacing what was there only on success."""
    root = target(index)
    progress = as_progress(progress)
    settings = settings or IndexSettings()
    report = Report(index=root.location)
    started = time.perf_counter()
    if settings.max_tokens is not None and settings.max_tokens < 16:
        raise InvalidInput("--max-tokens must be at least 16")
    if settings.overlap < 0:
        raise InvalidInput("--overlap must be 0 or more")
    for path in paths:
        corpus_files(Path(path))  # a missing or unreadable input fails here, before the index is touched
    with _writing(root):
        docs = _load(paths, source, report, progress)
        if not docs:
            raise SourceError("no documents found in " + ", ".join(str(p) for p in paths))
        _build_locked(root, docs, model, settings, progress, report)
    report.seconds = time.perf_counter() - started
    return report


def _build_locked(
    root: Target,
    docs: list[Document],
    model: str | Embedder | None,
    settings: IndexSettings,
    progress: Progress,
    report: Report,
) -> None:
    embedder = _embedder_for(model)
    manifest_settings = settings.manifest(embedder)
    passages, vectors, svecs = _prepare(root, docs, embedder, settings, manifest_settings, progress, report)
    _write(root, manifest_settings, None, docs, passages, vectors, svecs, progress, report)
    _finish_checkpoints(root)
    report.documents = report.added = len(docs)
    report.passages = sum(len(p) for p in passages)


def _open_base(root: Target) -> Store:
    return root.open()


def _kept_settings(manifest: dict[str, Any]) -> dict[str, Any]:
    """The settings a change to an existing index keeps: its model, chunking and vector index."""
    return {k: manifest[k] for k in ("model", "chunking", "ann") if k in manifest}


def _add_locked(
    root: Target, docs: list[Document], model: Embedder | None, progress: Progress, report: Report
) -> None:
    if not root.exists():
        _build_locked(root, docs, model, IndexSettings(), progress, report)
        return
    base = _open_base(root)
    try:
        known = base.document_hashes()
        changed = []
        for doc in docs:
            old = known.get(doc.doc_id)
            if old == doc.hash:
                report.unchanged += 1
                continue
            changed.append(doc)
            if old is None:
                report.added += 1
            else:
                report.updated += 1
        if changed:
            manifest_settings = _kept_settings(base.manifest)
            embedder = model or make_embedder(base.manifest["model"]["name"])
            settings = IndexSettings.from_manifest(base.manifest)
            passages, vectors, svecs = _prepare(root, changed, embedder, settings, manifest_settings, progress, report)
            _write(root, manifest_settings, base, changed, passages, vectors, svecs, progress, report)
            _finish_checkpoints(root)
            report.passages = sum(len(p) for p in passages)
        report.documents = len(changed)
    finally:
        base.close()


def add(
    paths: Sequence[Path | str],
    index: Path | str | Target,
    model: Embedder | None = None,
    source: str | None = None,
    progress: ProgressArg = None,
) -> Report:
    """Add new documents and replace changed ones (same id, new content); unchanged ones are skipped.

    With no index at ``index`` yet, this is a build with default settings.
    """
    root = target(index)
    progress = as_progress(progress)
    report = Report(index=root.location)
    started = time.perf_counter()
    for path in paths:
        corpus_files(Path(path))
    with _writing(root):
        docs = _load(paths, source, report, progress)
        if not docs and not root.exists():
            raise SourceError("no documents found in " + ", ".join(str(p) for p in paths))
        _add_locked(root, docs, model, progress, report)
    report.seconds = time.perf_counter() - started
    return report


def add_documents(
    docs: Sequence[Document], index: Path | str | Target, model: Embedder | None = None,
    progress: ProgressArg = None,
) -> Report:
    """``add`` for documents already in memory (the HTTP API's write endpoint)."""
    root = target(index)
    report = Report(index=root.location)
    started = time.perf_counter()
    unique = list({d.doc_id: d for d in docs}.values())
    if not unique:
        raise InvalidInput("no documents given")
    with _writing(root):
        _add_locked(root, unique, model, as_progress(progress), report)
    report.seconds = time.perf_counter() - started
    return report


def remove(doc_ids: Sequence[str], index: Path | str | Target, progress: ProgressArg = None) -> Report:
    """Remove documents (and their passages, vectors and lexical entries) by id."""
    root = target(index)
    progress = as_progress(progress)
    report = Report(index=root.location)
    started = time.perf_counter()
    if not doc_ids:
        raise InvalidInput("no document ids given")
    with _writing(root):
        base = _open_base(root)
        try:
            known = base.document_hashes()
            present = [d for d in dict.fromkeys(doc_ids) if d in known]
            report.missing = [d for d in dict.fromkeys(doc_ids) if d not in known]
            if not present:
                raise DocumentNotFound("no such document in the index: " + ", ".join(report.missing))
            manifest_settings = _kept_settings(base.manifest)
            empty = np.zeros((0, int(base.manifest["model"]["dimension"])), dtype=np.float32)
            _write(root, manifest_settings, base, [], [], empty, [], progress, report, remove=present)
        finally:
            base.close()
    report.seconds = time.perf_counter() - started
    return report


def copy_index(source: Path | str | Target, dest: Path | str | Target, progress: ProgressArg = None) -> Report:
    """Copy an index to another location or kind of store (a folder into PostgreSQL, say) without
    embedding anything again: documents, passages, vectors and sentence vectors travel as they are."""
    src, dst = target(source), target(dest)
    progress = as_progress(progress)
    report = Report(index=dst.location)
    started = time.perf_counter()
    store = src.open()
    try:
        settings = _kept_settings(store.manifest)
        progress.stage("copying", total=store.document_count)
        with _writing(dst), dst.write(settings, None) as writer:
            for doc in store.iter_documents():
                rows = store.document_passages(doc.doc_id)
                ids = [r[0] for r in rows]
                sentences = store.sentences(ids)
                passages = []
                for n, (pid, start, end) in enumerate(rows):
                    spans = sentences.get(pid, (np.zeros((0, 2), np.int64), None))[0]
                    passages.append(Passage(doc.doc_id, n, start, end, doc.text[start:end],
                                            tuple((int(a), int(b)) for a, b in spans)))
                dim = int(settings["model"]["dimension"])
                svecs = [sentences[pid][1] if pid in sentences else np.zeros((0, dim), np.float32) for pid in ids]
                writer.add(doc, passages, store.vectors_of(ids), svecs)
                report.added += 1
                report.passages += len(passages)
                progress.advance(1)
        report.documents = report.added
        report.published = True
    finally:
        store.close()
    report.seconds = time.perf_counter() - started
    return report
