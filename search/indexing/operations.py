"""The changes a user asks for: ``build``, ``add`` (and ``add_documents``), ``remove``, ``copy_index``."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..chunking import Passage
from ..documents import Document, LoadReport, corpus_files, load_documents
from ..embedding import Embedder, make_embedder
from ..errors import DocumentNotFound, InvalidInput, SourceError
from ..progress import Progress, ProgressArg, as_progress
from ..store import Target, target
from .change import Change, Prepared, writing
from .settings import IndexSettings, Report


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


def _embedder_for(model: str | Embedder | None, default: str = "minilm") -> Embedder:
    if model is None or isinstance(model, str):
        return make_embedder(model or default)
    return model


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
    settings = (settings or IndexSettings()).check()
    report = Report(index=root.location)
    started = time.perf_counter()
    for path in paths:
        corpus_files(Path(path))  # a missing or unreadable input fails here, before the index is touched
    with writing(root):
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
    change = Change(root, settings.recipe(embedder), embedder, progress, report, settings.batch_size)
    prepared = change.prepare(docs)
    change.write(None, prepared)
    report.documents = report.added = len(docs)
    report.passages = prepared.passage_count


def _add_locked(root: Target, docs: list[Document], model: Embedder | None, progress: Progress, report: Report) -> None:
    if not root.exists():
        _build_locked(root, docs, model, IndexSettings(), progress, report)
        return
    base = root.open()
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
            recipe = base.manifest.recipe  # a change keeps the index's model, chunking and vector index
            embedder = model or make_embedder(recipe.model.name, passages=recipe.model.runtime)
            change = Change(root, recipe, embedder, progress, report)
            prepared = change.prepare(changed)
            change.write(base, prepared)
            report.passages = prepared.passage_count
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
    with writing(root):
        docs = _load(paths, source, report, progress)
        if not docs and not root.exists():
            raise SourceError("no documents found in " + ", ".join(str(p) for p in paths))
        _add_locked(root, docs, model, progress, report)
    report.seconds = time.perf_counter() - started
    return report


def add_documents(
    docs: Sequence[Document],
    index: Path | str | Target,
    model: Embedder | None = None,
    progress: ProgressArg = None,
) -> Report:
    """``add`` for documents already in memory (the HTTP API's write endpoint)."""
    root = target(index)
    report = Report(index=root.location)
    started = time.perf_counter()
    unique = list({d.doc_id: d for d in docs}.values())
    if not unique:
        raise InvalidInput("no documents given")
    with writing(root):
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
    with writing(root):
        base = root.open()
        try:
            known = base.document_hashes()
            present = [d for d in dict.fromkeys(doc_ids) if d in known]
            report.missing = [d for d in dict.fromkeys(doc_ids) if d not in known]
            if not present:
                raise DocumentNotFound("no such document in the index: " + ", ".join(report.missing))
            change = Change(root, base.manifest.recipe, None, progress, report)  # embeds nothing
            change.write(base, remove=present)
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
        recipe = store.manifest.recipe
        dim = recipe.model.dimension
        progress.stage("copying", total=store.document_count)
        with writing(dst), dst.write(recipe, None) as writer:
            for doc in store.iter_documents():
                rows = store.document_passages(doc.doc_id)
                ids = [r[0] for r in rows]
                sentences = store.sentences(ids)
                passages = []
                for n, (pid, start, end) in enumerate(rows):
                    spans = sentences.get(pid, (np.zeros((0, 2), np.int64), None))[0]
                    passages.append(
                        Passage(
                            doc.doc_id, n, start, end, doc.text[start:end], tuple((int(a), int(b)) for a, b in spans)
                        )
                    )
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


__all__ = ["Prepared", "add", "add_documents", "build", "copy_index", "remove"]
