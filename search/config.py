"""Settings in one place: every ``FPSEARCH_*`` variable and default path is read here.

Precedence: command-line option (or argument) > environment variable > default. Values are read when
asked for, not at import, and a malformed one is an ``InvalidInput`` that names the variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InvalidInput

ENV_INDEX = "FPSEARCH_INDEX"
ENV_STORE = "FPSEARCH_STORE"
ENV_MODEL = "FPSEARCH_MODEL"
DEFAULT_INDEX = "index"
DEFAULT_MODEL = "minilm"


@dataclass(frozen=True)
class Number:
    """A numeric variable: its kind, default and least allowed value."""

    name: str
    kind: type
    default: float
    minimum: float
    meaning: str

    def read(self) -> Any:
        raw = os.environ.get(self.name)
        if raw is None or not raw.strip():
            return self.default
        try:
            value = self.kind(raw.strip())
        except ValueError:
            value = None
        if value is None or value < self.minimum:
            kind = "a whole number" if self.kind is int else "a number"
            raise InvalidInput(f"{self.name} must be {kind} of at least {self.minimum:g} ({self.meaning}), not {raw!r}")
        return value


# Tuning knobs outside the server's own limits (those are ``search.server.ApiSettings``).
PART_SIZE = Number("FPSEARCH_PART_SIZE", int, 2048, 1, "passages per embedding checkpoint")
ANN_THRESHOLD = Number("FPSEARCH_ANN_THRESHOLD", int, 100_000, 1, "passages from which an index is approximate")
SEARCH_THREADS = Number("FPSEARCH_SEARCH_THREADS", int, 1, 1, "threads per vector search")
PROGRESS_SECONDS = Number("FPSEARCH_PROGRESS_SECONDS", float, 10.0, 0, "seconds between progress lines")
PG_READ_SECONDS = Number("FPSEARCH_PG_READ_SECONDS", float, 30.0, 0.001, "longest PostgreSQL search")
PG_WRITE_SECONDS = Number("FPSEARCH_PG_WRITE_SECONDS", float, 600.0, 0.001, "longest PostgreSQL write statement")
NUMBERS = (PART_SIZE, ANN_THRESHOLD, SEARCH_THREADS, PROGRESS_SECONDS, PG_READ_SECONDS, PG_WRITE_SECONDS)


def number(variable: Number) -> Any:
    """The variable's value, checked, or its default."""
    return variable.read()


def check_environment() -> None:
    """Read every numeric variable once, so that a bad one fails a command at its start."""
    for variable in NUMBERS:
        variable.read()
    runtime()
    passage_runtime()
    query_precision()


def server_limit(name: str, default: int | float) -> int | float:
    """``FPSEARCH_<NAME>`` for one of the server's limits (``max_k`` → ``FPSEARCH_MAX_K``), as the
    default's type, else the default."""
    variable = f"FPSEARCH_{name.upper()}"
    raw = os.environ.get(variable)
    if raw is None:
        return default
    try:
        return type(default)(raw)
    except ValueError:
        kind = "a whole number" if isinstance(default, int) else "a number"
        raise InvalidInput(f"{variable} must be {kind}, not {raw!r}") from None


def _choice(variable: str, option: str | None, default: str, allowed: tuple[str, ...], what: str) -> str:
    """``option``, else ``$variable``, else ``default``; one of ``allowed``, or an error naming both."""
    value = option if option is not None else os.environ.get(variable) or default
    if value not in allowed:
        raise InvalidInput(f"{what} ({variable}) must be {' or '.join(allowed)}, not {value!r}", what)
    return value


def runtime(option: str | None = None) -> str:
    """How the query encoder runs: ``auto`` (ONNX Runtime where it can), ``onnx`` or ``torch``."""
    return _choice("FPSEARCH_RUNTIME", option, "auto", ("auto", "onnx", "torch"), "runtime")


def passage_runtime(option: str | None = None) -> str:
    """How passages are embedded at index time (``FPSEARCH_PASSAGE_RUNTIME``): ``auto`` (the fused ONNX
    graph where it can be made and matches PyTorch, else PyTorch), ``onnx`` (that graph or an error) or
    ``torch`` (PyTorch float32 alone)."""
    return _choice("FPSEARCH_PASSAGE_RUNTIME", option, "auto", ("auto", "onnx", "torch"), "passage_runtime")


def cpu_threads() -> int:
    """The cores this process may run on (its affinity, where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def query_precision(option: str | None = None) -> str:
    """Precision of query vectors: ``int8`` (default, where it can be made) or ``float32``."""
    return _choice("FPSEARCH_QUERY_PRECISION", option, "int8", ("int8", "float32"), "query_precision")


def token() -> str | None:
    """The bearer token that enables writes over HTTP (``FPSEARCH_TOKEN``); None: writes are off."""
    return os.environ.get("FPSEARCH_TOKEN") or None


def mcp_hosts() -> str | None:
    """Host names ``/mcp`` answers besides localhost (``FPSEARCH_MCP_HOSTS``, comma-separated; ``*``: any)."""
    return os.environ.get("FPSEARCH_MCP_HOSTS") or None


def index_dir(option: str | Path | None = None) -> Path:
    """The index folder: ``--index``, else ``$FPSEARCH_INDEX``, else ``./index``."""
    return Path(option or os.environ.get(ENV_INDEX) or DEFAULT_INDEX).expanduser()


def is_database_url(location: str | Path) -> bool:
    """Whether an index location names a PostgreSQL database rather than a folder."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def cache_dir() -> Path:
    """fpsearch's cache: ``$FPSEARCH_CACHE``, else ``$XDG_CACHE_HOME/fpsearch``, else ``~/.cache/fpsearch``
    (models/, onnx/ exports, build/ checkpoints of database indexes)."""
    base = os.environ.get("FPSEARCH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "fpsearch"
    )
    return Path(base)


def index_location(option: str | Path | None = None) -> str | Path:
    """Where the index is: ``--index`` (a folder or a ``postgresql://`` URL), else ``$FPSEARCH_STORE``
    (a database URL), else ``$FPSEARCH_INDEX``, else ``./index``."""
    if option is not None and is_database_url(str(option)):
        return str(option)
    if option is None and os.environ.get(ENV_STORE):
        return os.environ[ENV_STORE]
    return index_dir(option)


def model_name(option: str | None = None) -> str | None:
    """The model asked for: ``--model``, else ``$FPSEARCH_MODEL``; None means "the index's own"."""
    return option or os.environ.get(ENV_MODEL) or None


def hand_to_workers(location: str | Path, model: str | None, limits: dict[str, Any]) -> None:
    """Pass ``serve``'s index, model and limits to worker processes, which read them back through
    ``index_location``, ``model_name`` and ``server_limit``: the environment is what a process that
    uvicorn starts inherits."""
    if is_database_url(location):
        os.environ[ENV_STORE] = str(location)
    else:
        os.environ.pop(ENV_STORE, None)
        os.environ[ENV_INDEX] = str(Path(location).resolve())
    if model:
        os.environ[ENV_MODEL] = model
    for name, value in limits.items():
        if value is not None:
            os.environ[f"FPSEARCH_{name.upper()}"] = str(value)


def quiet_tokenizers() -> None:
    """Keep the Hugging Face tokenizer's own thread pool off where threads already search side by side
    (it suits indexing's large batches, and contends with a server's search threads)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def offline_hub() -> None:
    """A model loaded from a folder must not reach for the Hugging Face hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def default_corpus() -> Path:
    """``./seeds`` if it exists, else the seeds folder of a source checkout of fpsearch."""
    here = Path("seeds")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parent.parent / "seeds"


def is_default_index(location: str | Path) -> bool:
    return isinstance(location, Path) and location.resolve() == Path(DEFAULT_INDEX).resolve()
