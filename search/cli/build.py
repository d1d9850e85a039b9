"""Building and changing an index: ``index``, ``add``, ``remove``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import config
from .common import (
    IndexOpt,
    JsonOpt,
    ModelOpt,
    _err,
    _print_report,
    _progress,
    app,
    handle_errors,
)


def _resolve_paths(paths: list[Path] | None) -> list[Path]:
    return list(paths) if paths else [config.default_corpus()]


@app.command()
@handle_errors
def index(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Files or folders to index [default: seeds/].")] = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    source: Annotated[Optional[str], typer.Option(help="Source name for these documents [default: file name].")] = None,
    max_tokens: Annotated[int, typer.Option(help="Largest passage, in model tokens.")] = 200,
    overlap: Annotated[int, typer.Option(help="Whole sentences shared by neighbouring passages.")] = 1,
    batch_size: Annotated[int, typer.Option(help="Passages per model batch.")] = 32,
    exact: Annotated[bool, typer.Option("--exact", help="Keep exact vector search at any size (no ANN).")] = False,
    embed_title: Annotated[
        bool, typer.Option("--embed-title", help="Embed each passage with its document title.")
    ] = False,
    ray: Annotated[
        Optional[str], typer.Option(help="Embed on a Ray cluster: its address, or 'local' to start one.")
    ] = None,
    ray_actors: Annotated[Optional[int], typer.Option(help="Model replicas on the Ray cluster [one per CPU].")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Build a fresh index from ..txt/.md files, folders and .jsonl(.gz) files (replaces the old one on success)."""
    from ..indexing import IndexSettings, build

    settings = IndexSettings(
        max_tokens=max_tokens, overlap=overlap, batch_size=batch_size, exact=exact, embed_title=embed_title
    )
    embedder = config.model_name(model)
    if ray is not None:
        from ..distributed import RayEmbedder

        embedder = RayEmbedder(embedder or config.DEFAULT_MODEL, ray, ray_actors)
    with _progress(quiet) as bar:
        report = build(
            _resolve_paths(paths),
            config.index_location(index),
            embedder,
            settings,
            source=source,
            progress=bar,
        )
    _print_report(report, as_json, "built")


@app.command()
@handle_errors
def add(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders with documents to add or update.")],
    index: IndexOpt = None,
    source: Annotated[Optional[str], typer.Option(help="Source name for these documents [default: file name].")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add new documents and replace changed ones (same id, new content); unchanged ones are skipped."""
    from ..indexing import add as add_docs

    with _progress(quiet) as bar:
        report = add_docs(paths, config.index_location(index), source=source, progress=bar)
    _print_report(report, as_json, "updated")


@app.command()
@handle_errors
def remove(
    doc_ids: Annotated[list[str], typer.Argument(help="Ids of the documents to remove.")],
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove documents by id, from the vectors, the passages and the lexical index alike."""
    from ..indexing import remove as remove_docs

    report = remove_docs(doc_ids, config.index_location(index))
    for missing in report.missing:
        _err(f"no document {missing!r} (skipped)")
    _print_report(report, as_json, "updated")
