"""Loading a corpus into ``Document`` objects.

Supported inputs: folders (walked recursively, sorted), ``.txt`` / ``.md`` files (with their title,
date and metadata in ``NAME.txt.json`` beside them, when there is one), and ``.jsonl`` /
``.jsonl.gz`` files with one document per line (``_id``, ``title``, ``date``, ``text``; every other
field is kept as metadata; a BEIR ``corpus.jsonl`` is the same shape with a nested ``metadata``).
Anything that cannot be used — a malformed line, an undecodable file, an empty document — is recorded
in a ``LoadReport`` with its file and line and skipped; loading never stops on it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import SourceError

TEXT_SUFFIXES = (".txt", ".md")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")
SIDECAR_SUFFIX = ".json"  # NAME.txt.json holds the title, date and metadata of NAME.txt
_TITLE_MAX = 120
_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Document:
    """One source document, kept whole so that passage offsets can be checked against ``text``."""

    doc_id: str
    text: str
    title: str = ""
    date: str | None = None
    source: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    hash: str = ""

    def __post_init__(self) -> None:
        if not self.hash:
            object.__setattr__(self, "hash", content_hash(self))


def content_hash(doc: Document) -> str:
    """SHA-256 over everything stored for a document except its id and source name."""
    payload = json.dumps([doc.title, doc.date, doc.text, doc.metadata], ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass
class LoadReport:
    """What was loaded and what was skipped, with reasons."""

    documents: int = 0
    problems: list[Problem] = field(default_factory=list)

    def skip(self, path: Path | str, line: int | None, message: str) -> None:
        self.problems.append(Problem(str(path), line, message))


def clean_text(text: str) -> str:
    """Replace lone surrogates (possible in JSON escapes) so the text can be stored and encoded.

    One character becomes one character, so nothing else moves.
    """
    return _SURROGATES.sub("\ufffd", text) if _SURROGATES.search(text) else text


def source_name(path: Path) -> str:
    """The default short source name of a corpus path: the file name without its suffixes."""
    name = path.name
    for suffix in (".jsonl.gz", ".jsonl", ".txt", ".md"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def is_corpus_file(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(TEXT_SUFFIXES) or name.endswith(JSONL_SUFFIXES)


def corpus_files(path: Path) -> list[tuple[Path, Path]]:
    """The files below ``path`` to load, each with the root its ids are relative to."""
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder")
    if path.is_file():
        if not is_corpus_file(path):
            raise SourceError(f"{path}: not a .txt, .md, .jsonl or .jsonl.gz file")
        return [(path, path.parent)]
    if not os.access(path, os.R_OK | os.X_OK):
        raise SourceError(f"{path}: folder cannot be read")
    found = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            file = Path(dirpath) / name
            if not name.startswith(".") and is_corpus_file(file) and name.lower() != "readme.md":
                found.append((file, path))
    return found


def load_documents(
    paths: Iterable[Path | str], report: LoadReport | None = None, source: str | None = None
) -> Iterator[Document]:
    """Yield the documents under ``paths`` in a stable order, recording skipped input in ``report``.

    ``source`` names the collection the documents belong to; by default each input path's name.
    """
    report = report if report is not None else LoadReport()
    for raw in paths:
        path = Path(raw)
        name = source or source_name(path)
        for file, root in corpus_files(path):
            if file.name.lower().endswith(JSONL_SUFFIXES):
                docs = _load_jsonl(file, name, report)
            else:
                docs = _load_text(file, root, name, report)
            for doc in docs:
                report.documents += 1
                yield doc


def _load_text(file: Path, root: Path, source: str, report: LoadReport) -> Iterator[Document]:
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        report.skip(file, None, f"not UTF-8 text ({exc.reason} at byte {exc.start}); skipped")
        return
    except OSError as exc:
        report.skip(file, None, f"cannot be read ({exc.strerror}); skipped")
        return
    if not text.strip():
        report.skip(file, None, "empty document; skipped")
        return
    doc_id = file.relative_to(root).as_posix()
    meta = _sidecar(file, report)
    title = meta.pop("title", None)
    date = meta.pop("date", None)
    yield Document(
        doc_id=doc_id,
        text=clean_text(text),
        title=clean_text(str(title)) if title else _title_of(text, file),
        date=str(date) if date not in (None, "") else None,
        source=source,
        metadata=_clean_meta(meta),
    )


def _sidecar(file: Path, report: LoadReport) -> dict[str, Any]:
    """What ``NAME.txt.json`` beside ``NAME.txt`` says about it: ``title``, ``date`` and any other
    fields (kept as metadata), as a JSONL record would. A text file carries no title or date of its
    own, and its first line is often the lead, not the headline."""
    path = file.with_name(file.name + SIDECAR_SUFFIX)
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.skip(path, None, f"metadata not used ({exc}); the file's text is indexed without it")
        return {}
    if not isinstance(meta, dict):
        report.skip(path, None, "metadata not used (not a JSON object); the file's text is indexed without it")
        return {}
    return meta


def _title_of(text: str, file: Path) -> str:
    """A Markdown heading or a short first line; a first line that is a whole paragraph is not a
    title, so the file name stands in for it."""
    fallback = re.sub(r"[-_]+", " ", file.stem).strip().capitalize() or file.name
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            line = line.lstrip("#").strip()
        elif len(line) > _TITLE_MAX:
            return fallback
        return line[:_TITLE_MAX] or fallback
    return fallback


def _open_lines(file: Path):
    if file.name.lower().endswith(".gz"):
        return gzip.open(file, "rb")
    return open(file, "rb")


def _load_jsonl(file: Path, source: str, report: LoadReport) -> Iterator[Document]:
    try:
        handle = _open_lines(file)
    except OSError as exc:
        report.skip(file, None, f"cannot be read ({exc.strerror}); skipped")
        return
    lineno = 0
    try:
        with handle:
            for lineno, raw in enumerate(handle, 1):
                if not raw.strip():
                    continue
                doc = _parse_record(raw, file, lineno, source, report)
                if doc is not None:
                    yield doc
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        report.skip(file, lineno + 1, f"file is damaged after this line ({exc}); rest skipped")


def _parse_record(raw: bytes, file: Path, lineno: int, source: str, report: LoadReport) -> Document | None:
    try:
        record = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        report.skip(file, lineno, "line is not UTF-8; skipped")
        return None
    except json.JSONDecodeError as exc:
        report.skip(file, lineno, f"malformed JSON ({exc.msg}); skipped")
        return None
    if not isinstance(record, dict):
        report.skip(file, lineno, "line is not a JSON object; skipped")
        return None
    doc_id = record.pop("_id", None)
    if doc_id is None:
        doc_id = record.pop("id", None)
    if not isinstance(doc_id, (str, int)) or isinstance(doc_id, bool) or str(doc_id).strip() == "":
        report.skip(file, lineno, "no usable _id; skipped")
        return None
    text = record.pop("text", None)
    if not isinstance(text, str) or not text.strip():
        report.skip(file, lineno, f"document {doc_id!s}: empty or missing text; skipped")
        return None
    title = record.pop("title", None)
    date = record.pop("date", None)
    metadata = record.pop("metadata", None)
    metadata = dict(metadata) if isinstance(metadata, dict) else ({} if metadata is None else {"metadata": metadata})
    metadata.update(record)
    return Document(
        doc_id=clean_text(str(doc_id)),
        text=clean_text(text),
        title=clean_text(str(title)) if title is not None else "",
        date=str(date) if date not in (None, "") else None,
        source=source,
        metadata=_clean_meta(metadata),
    )


def _clean_meta(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): _clean_meta(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_meta(v) for v in value]
    return value
