"""Errors the library raises for things a user can fix.

The CLI turns each into one line on stderr and a non-zero exit; the HTTP API into a 4xx with a JSON
``detail``. Anything else escaping the library is a bug.
"""

from __future__ import annotations


class FpsearchError(Exception):
    """Base class: the message is meant for the user, in plain words."""

    exit_code = 1
    http_status = 400


class InvalidInput(FpsearchError):
    """A query, k, filter or option value that cannot be used.

    The message speaks library terms (``max_tokens``, ``per_doc``: the names of the Python and HTTP
    parameters); ``option`` names the parameter it is about, so that the CLI can say ``--max-tokens``."""

    exit_code = 2
    http_status = 422

    def __init__(self, message: str, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option

    def for_cli(self) -> str:
        """The message with its parameter named as the command line's option."""
        text = str(self)
        if self.option and self.option in text:
            return text.replace(self.option, "--" + self.option.replace("_", "-"), 1)
        return text


class SourceError(FpsearchError):
    """A corpus path that does not exist or cannot be read."""

    exit_code = 2
    http_status = 422


class IndexMissing(FpsearchError):
    """No index at the given location."""

    exit_code = 3
    http_status = 503


class IndexIncompatible(FpsearchError):
    """An index built with another format version or model than the one asked for."""

    exit_code = 3
    http_status = 409


class IndexDamaged(FpsearchError):
    """An index whose files fail their checksums or disagree with each other."""

    exit_code = 4
    http_status = 503  # a server on a damaged index refuses until it is rebuilt or rolled back


class DocumentNotFound(FpsearchError):
    """A document id that the index does not hold."""

    exit_code = 5
    http_status = 404


class IndexBusy(FpsearchError):
    """Another process holds the index's writer lock."""

    exit_code = 6
    http_status = 409


class DiskFull(FpsearchError):
    """The device that holds the index filled up while a change was being written."""

    exit_code = 7
    http_status = 507


class StoreUnavailable(FpsearchError):
    """The database that holds the index cannot be reached, or the connection to it was lost (a
    PostgreSQL primary that is down or failing over)."""

    exit_code = 8
    http_status = 503


_SQLITE_FULL = 13
_PG_DISK_FULL = "53100"


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or an exception it was raised from) means that a device ran out of space, in
    any of the ways our dependencies say it: ``OSError`` ENOSPC or EDQUOT, SQLite's SQLITE_FULL,
    FAISS's RuntimeError text, PostgreSQL's disk_full."""
    import errno

    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if getattr(exc, "sqlite_errorcode", None) == _SQLITE_FULL or getattr(exc, "sqlstate", None) == _PG_DISK_FULL:
            return True
        if isinstance(exc, RuntimeError) and "No space left on device" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False
