"""Connections to the database: timeouts, readable errors, and readers that outlive a restart."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ... import config
from ...errors import IndexMissing, InvalidInput, StoreUnavailable
from ..base import ConnectionPool


def mask(url: str) -> str:
    """The URL without its password, for messages and manifests."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


# Nothing waits on a database without end: a connection is refused after CONNECT_SECONDS, a
# statement cancelled by the server after ``config.PG_READ_SECONDS`` (a search) or
# ``config.PG_WRITE_SECONDS`` (one statement of a change), and a peer that stops answering at the TCP
# level is dropped after about 30 s.
CONNECT_SECONDS = 10
IDLE_SECONDS = 10  # a pooled reader unused this long is tried (one round trip) before it is lent
_TCP = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def connect(url: str, autocommit: bool = True):
    try:
        import psycopg
        from pgvector.psycopg import register_vector
    except ImportError as exc:
        raise InvalidInput("the PostgreSQL store needs: pip install 'fpsearch[postgres]'") from exc
    timeout = int(1000 * config.number(config.PG_READ_SECONDS if autocommit else config.PG_WRITE_SECONDS))
    try:
        conn = psycopg.connect(
            url,
            autocommit=autocommit,
            connect_timeout=CONNECT_SECONDS,
            options=f"-c statement_timeout={timeout}",
            **_TCP,
        )
    except psycopg.Error as exc:
        if "does not exist" in str(exc):
            raise IndexMissing(f"cannot connect to {mask(url)}: {first_line(exc)}") from exc
        raise StoreUnavailable(
            f"cannot reach the database at {mask(url)} ({first_line(exc)}): it is down or unreachable; "
            "reads can go to a replica, changes need the primary"
        ) from exc
    try:
        register_vector(conn)
    except psycopg.ProgrammingError:
        pass  # no vector type yet: a database that was never written to
    return conn


def as_array(value) -> np.ndarray:
    """A pgvector value as a float32 array (pgvector returns ``Vector`` objects or arrays)."""
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    return np.asarray(value, dtype=np.float32)


class Lost(StoreUnavailable):
    """A connection the database dropped: the read may be tried again on a fresh one."""


class Readers(ConnectionPool):
    """Reader connections to one database that outlive the database's restarts: a connection the
    server dropped (a restart, a failover) is opened again when it is next lent, and a read it broke
    is tried again on a fresh one. A database that cannot be reached is ``StoreUnavailable``."""

    def __init__(self, url: str, readers: int) -> None:
        super().__init__([connect(url) for _ in range(readers)])
        self._url = url
        # connections to try before lending: one of the others was lost, or they sat idle (the
        # database may have restarted meanwhile)
        self._suspect: set[int] = set()
        self._used: dict[int, float] = {id(c): time.monotonic() for c in self._all}

    @staticmethod
    def _alive(conn) -> bool:
        import psycopg

        try:
            conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    @contextmanager
    def lend(self) -> Iterator[Any]:
        import psycopg

        conn = self._free.get()
        try:
            unsure = id(conn) in self._suspect or time.monotonic() - self._used.get(id(conn), 0) > IDLE_SECONDS
            if conn.closed or conn.broken or (unsure and not self._alive(conn)):
                fresh = connect(self._url)  # StoreUnavailable while the database is down
                self._replace(conn, fresh)
                conn = fresh
            self._suspect.discard(id(conn))
            self._used[id(conn)] = time.monotonic()
            try:
                yield conn
            except psycopg.errors.QueryCanceled as exc:
                raise StoreUnavailable(
                    f"{mask(self._url)} did not answer within {config.number(config.PG_READ_SECONDS):g} s "
                    f"({first_line(exc)})"
                ) from exc
            except psycopg.OperationalError as exc:
                if not conn.broken:
                    raise
                self._suspect = {id(c) for c in self._all}  # the others were likely dropped with it
                raise Lost(f"lost the connection to {mask(self._url)} ({first_line(exc)})") from exc
        finally:
            self._free.put(conn)

    def rows(self, sql: str, args: Any = ()) -> list[tuple]:
        # A read changes nothing, so one that a dropped connection broke is tried again: as often as
        # there are connections, each of which may have been dropped, and fresh ones are opened.
        for attempt in range(len(self._all) + 1):
            try:
                return super().rows(sql, args)
            except Lost:
                if attempt == len(self._all):
                    raise
        raise AssertionError("unreachable")
