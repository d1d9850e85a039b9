"""Settings in one place. Precedence: command-line option > environment variable > default."""

from __future__ import annotations

import os
from pathlib import Path

ENV_INDEX = "FPSEARCH_INDEX"
ENV_STORE = "FPSEARCH_STORE"
ENV_MODEL = "FPSEARCH_MODEL"
DEFAULT_INDEX = "index"
DEFAULT_MODEL = "minilm"


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


def default_corpus() -> Path:
    """``./seeds`` if it exists, else the seeds folder of a source checkout of fpsearch."""
    here = Path("seeds")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parent.parent / "seeds"


def is_default_index(location: str | Path) -> bool:
    return isinstance(location, Path) and location.resolve() == Path(DEFAULT_INDEX).resolve()
