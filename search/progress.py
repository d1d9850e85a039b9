"""How long-running work (building, adding, copying an index) says how far it has got.

The work calls a ``Progress``: ``stage`` when a stage starts, ``advance`` as units finish, ``note`` for
what the user should know. ``Reporter`` turns those calls into ``Update`` values for a callback, at
most one per ``interval`` seconds; with no progress given, the library logs such lines through
``logging`` every ten seconds. The CLI draws a bar on a terminal and prints the same lines elsewhere.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

log = logging.getLogger("search.indexing")

UNITS = {
    "embedding": "passages",
    "reading": "documents",
    "chunking": "documents",
    "writing": "documents",
    "copying": "documents",
}
LOG_INTERVAL = 10.0


class Progress:
    """What indexing reports while it works; this one reports nothing."""

    def stage(self, name: str, total: int | None = None, done: int = 0) -> None:
        """A new stage starts (``total`` units, ``done`` of them already done, e.g. resumed)."""

    def advance(self, n: int) -> None:
        """``n`` more units of the current stage are done."""

    def note(self, message: str) -> None:
        """Something the user should know (resuming, skipped input)."""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@dataclass(frozen=True)
class Update:
    """Where a stage stands: ``done`` of ``total`` units (None: not known), at ``per_second`` over
    the ``seconds`` this run has spent on it (units done by an earlier, resumed run do not count)."""

    stage: str
    done: int
    total: int | None
    per_second: float
    seconds: float

    @property
    def unit(self) -> str:
        return UNITS.get(self.stage, "items")

    @property
    def eta_seconds(self) -> float | None:
        if self.total is None or self.per_second <= 0:
            return None
        return max(self.total - self.done, 0) / self.per_second

    def __str__(self) -> str:
        if self.total:
            text = f"{self.stage}: {self.done:,} of {self.total:,} {self.unit} ({100 * self.done / self.total:.0f}%)"
        else:
            text = f"{self.stage}: {self.done:,} {self.unit}"
        text += f", {self.per_second:,.1f}/s"
        eta = self.eta_seconds
        if eta is not None and self.done < (self.total or 0):
            text += f", about {_duration(eta)} left"
        return text


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Reporter(Progress):
    """Progress as ``Update`` values handed to ``callback``: at most one per ``interval`` seconds
    (0: after every batch), plus one when a stage it has reported on reaches its total, so the last
    line says 100%. Notes go to ``notes`` (by default the ``search.indexing`` logger)."""

    def __init__(
        self,
        callback: Callable[[Update], None],
        interval: float = 0.0,
        notes: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.callback = callback
        self.interval = interval
        self.notes = notes or log.info
        self.clock = clock
        self.name = ""
        self.total: int | None = None
        self.done = self.resumed = 0
        self.started = self.last = 0.0
        self.reported = False

    def stage(self, name: str, total: int | None = None, done: int = 0) -> None:
        self.name, self.total, self.done, self.resumed = name, total, done, done
        self.started = self.last = self.clock()
        self.reported = False

    def advance(self, n: int) -> None:
        self.done += n
        now = self.clock()
        finished = self.total is not None and self.done >= self.total
        if now - self.last >= self.interval or (finished and self.reported):
            self.last = now
            self.reported = not finished
            self.callback(self.update(now))

    def update(self, now: float | None = None) -> Update:
        seconds = (now if now is not None else self.clock()) - self.started
        fresh = self.done - self.resumed
        return Update(self.name, self.done, self.total, fresh / seconds if seconds > 0 else 0.0, seconds)

    def note(self, message: str) -> None:
        self.notes(message)


def logging_progress() -> Reporter:
    """What a library call reports with no progress given: a log line every ten seconds."""
    return Reporter(lambda u: log.info("%s", u), interval=LOG_INTERVAL)


ProgressArg = Union[Progress, Callable[[Update], None], None]


def as_progress(progress: ProgressArg) -> Progress:
    """A ``Progress`` for what the caller gave: itself, a callback (called after every batch), or
    nothing (log lines)."""
    if progress is None:
        return logging_progress()
    if isinstance(progress, Progress):
        return progress
    if callable(progress):
        return Reporter(progress)
    raise TypeError(f"progress must be a Progress or a callable taking an Update, not {type(progress).__name__}")
