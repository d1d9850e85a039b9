"""The one interface every index store implements, and the small types it speaks in."""

from __future__ import annotations

import json
import queue
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from ..chunking import Passage
from ..documents import Document
from ..errors import InvalidInput
from ..speakers import askers, one_person
from .manifest import Manifest, Recipe
from .sentences import Scored, Sentences

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_MONTH_END = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


def date_range(value: str | None) -> tuple[str | None, str | None]:
    """The first and last day a date string can mean: ``"1946"`` → ``("1946-01-01", "1946-12-31")``.

    Unparseable dates give ``(None, None)`` and never match a date filter.
    """
    if not value:
        return None, None
    m = _DATE.match(value.strip())
    if not m:
        return None, None
    year, month, day = m.group(1), m.group(2), m.group(3)
    if month is None:
        return f"{year}-01-01", f"{year}-12-31"
    if not 1 <= int(month) <= 12:
        return None, None
    if day is None:
        return f"{year}-{month}-01", f"{year}-{month}-{_MONTH_END[int(month)]:02d}"
    return f"{year}-{month}-{day}", f"{year}-{month}-{day}"


def document_row(doc: Document) -> list[Any]:
    """A document's row as both stores write it: doc_id, title, date, the first and last day the date
    can mean, source, hash, metadata (JSON) and text."""
    lo, hi = date_range(doc.date)
    metadata = json.dumps(doc.metadata, ensure_ascii=False, default=str)
    return [doc.doc_id, doc.title, doc.date, lo, hi, doc.source, doc.hash, metadata, doc.text]


def parse_bound(value: str | None, which: str) -> str | None:
    """A ``since``/``until`` value (CLI ``--since``, HTTP ``since``) as an ISO day: the start (since) or end (until) of what it names."""
    if value is None or value == "":
        return None
    lo, hi = date_range(value)
    if lo is None or not _DATE.fullmatch(value.strip()):
        raise InvalidInput(f"{which} {value!r}: use YYYY, YYYY-MM or YYYY-MM-DD")
    return lo if which == "since" else hi


@dataclass(frozen=True)
class Filter:
    """Which documents a query may return. Empty fields do not filter.

    ``since``/``until`` are ISO days; a document whose date is a year or a month matches when that
    period overlaps the range. ``sources`` are source names given at index time. ``where`` holds
    ``(field, values)`` pairs on metadata: the field equals one of the values, or, for a list field,
    contains one of them. ``speakers`` are actor ids: a passage passes when one of its sentences is
    spoken by one of them.
    """

    since: str | None = None
    until: str | None = None
    sources: tuple[str, ...] = ()
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    speakers: tuple[int, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.since or self.until or self.sources or self.where or self.speakers)

    @classmethod
    def build(
        cls,
        since: str | None = None,
        until: str | None = None,
        sources: Sequence[str] = (),
        where: Sequence[str] = (),
    ) -> Filter:
        """Parse user-facing filter values (``where`` items look like ``field=value`` or ``field=a|b``)."""
        lo, hi = parse_bound(since, "since"), parse_bound(until, "until")
        if lo and hi and lo > hi:
            raise InvalidInput(f"since {since} is after until {until}")
        pairs = []
        for item in where:
            name, sep, value = item.partition("=")
            name = name.strip()
            if not sep or not name:
                raise InvalidInput(f"where {item!r}: use FIELD=VALUE (or FIELD=A|B for any of several)")
            pairs.append((name, tuple(v.strip() for v in value.split("|"))))
        return cls(lo, hi, tuple(s.strip() for s in sources if s.strip()), tuple(pairs))


@dataclass(frozen=True)
class Actor:
    """Someone the index attributes sentences to, with how much they say in it."""

    id: int
    name: str
    kind: str  # "person" or "floor" (questions and remarks from the floor)
    documents: int = 0
    passages: int = 0
    sentences: int = 0
    asks: bool = False  # asks more than answers in transcripts (``speakers.askers``): no side in positions

    def as_dict(self) -> dict[str, Any]:
        """As the CLI's ``--json`` and ``GET /speakers`` give it."""
        return {
            "actor": self.name,
            "kind": self.kind,
            "documents": self.documents,
            "passages": self.passages,
            "sentences": self.sentences,
            "asks": self.asks,
        }


@dataclass(frozen=True)
class PassageRecord:
    """A stored passage with what a hit needs of its document."""

    passage_id: int
    doc_id: str
    title: str
    date: str | None
    source: str
    start: int
    end: int
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


class StoreWriter(Protocol):
    """Changes to an index, applied all at once when the ``with`` block ends without an error."""

    def add(
        self,
        doc: Document,
        passages: Sequence[Passage],
        vectors: np.ndarray,
        sentence_vectors: Sequence[np.ndarray] | None = None,
    ) -> None: ...

    def remove(self, doc_id: str) -> bool: ...


class Store(Protocol):
    """An open index: documents, passages with spans, their vectors and a lexical index, a manifest.

    ``version`` names what is being read (a generation, a change number); ``is_stale()`` says whether
    a newer version has been published since, so a long-running reader can reopen.
    """

    manifest: Manifest
    location: str
    version: str

    @property
    def passage_count(self) -> int: ...

    @property
    def document_count(self) -> int: ...

    def search_dense(
        self, vectors: np.ndarray, k: int, where: Filter | None = None, exact: bool = False
    ) -> list[list[tuple[int, float]]]: ...

    def search_lexical(self, query: str, k: int, where: Filter | None = None) -> list[tuple[int, float]]: ...

    def search_lexical_many(
        self, queries: Sequence[str], k: int, where: Filter | None = None
    ) -> list[list[tuple[int, float]]]: ...

    def passage_docs(self, ids: Sequence[int]) -> dict[int, str]: ...

    def vectors_of(self, ids: Sequence[int]) -> np.ndarray: ...

    def passages(self, ids: Sequence[int], text: bool = True, metadata: bool = True) -> dict[int, PassageRecord]: ...

    def sentences(self, ids: Sequence[int]) -> dict[int, Sentences]: ...

    def sentence_scores(self, ids: Sequence[int], query: np.ndarray) -> dict[int, Scored]:
        """Per passage id: its sentences' cosines with ``query`` (a unit vector), spans and speakers."""
        ...

    @property
    def actors(self) -> dict[int, Actor]:
        """Every actor the index attributes sentences to, by id, with their counts; ids whose labels spell
        one name differently carry one name (``one_name_each``)."""
        ...

    def askers(self) -> frozenset[int]:
        """The actors who ask more than they answer in the index's transcripts (``speakers.askers``)."""
        ...

    def metadata_fields(self) -> set[str]:
        """The metadata field names that any document has."""
        ...

    def metadata_values(self, field: str) -> dict[str, int]:
        """How many documents hold each (scalar) value of one metadata field."""
        ...

    def metadata_pairs(self, field: str, other: str) -> dict[str, set[str]]:
        """Each (scalar) value of ``field``, and the values of ``other`` that documents holding it hold
        (``country_iso3`` → the names ``country`` gives it over the years)."""
        ...

    def best_sentence_cosines(
        self, ids: Sequence[int], query: np.ndarray, speakers: Sequence[int] = ()
    ) -> dict[int, float]: ...

    def document(self, doc_id: str) -> Document: ...

    def document_passages(self, doc_id: str) -> list[tuple[int, int, int]]: ...

    def document_hashes(self) -> dict[str, str]: ...

    def iter_documents(self) -> Iterator[Document]: ...

    def describe(self) -> dict[str, Any]: ...

    def preload(self) -> bool:
        """Prepare for serving many queries (what a store keeps in memory is its own); True if it did."""
        ...

    @property
    def warming(self) -> bool:
        """Whether ``preload`` still prepares something in the background."""
        ...

    def stop_warming(self) -> None:
        """Stop any background preparation (a newer version replaces this one)."""
        ...

    def is_stale(self) -> bool: ...

    def damage(self, full: bool = False) -> list[str]:
        """What is wrong with the index's files since it was opened (``full``: at all), in plain
        words; ``[]`` if nothing."""
        ...

    def close(self) -> None: ...


class Target(Protocol):
    """Where an index lives (a folder, a database): how to open it, lock it, change it and check it."""

    location: str

    def exists(self) -> bool: ...

    def open(self, model: str | None = None) -> Store: ...

    def lock(self) -> AbstractContextManager[None]:
        """Exclusive writer access; a second writer fails at once with ``IndexBusy``."""

    def write(self, recipe: Recipe, base: Store | None) -> AbstractContextManager[StoreWriter]:
        """A change applied all at once when the block ends without an error (``base``: start from
        that store's content; ``None``: replace everything)."""

    def checkpoints(self) -> Path:
        """A local folder for resumable embedding checkpoints of this index."""

    def check(self, full: bool = True) -> tuple[list[str], list[str]]:
        """``(facts, problems)`` in plain words."""

    def repair(self) -> str:
        """What to do about the problems ``check`` found, in one phrase."""
        ...

    def rollback(self) -> tuple[str, str]:
        """Make the previous version live again: ``(replaced, live)``; an error where none is kept."""
        ...


C = TypeVar("C")


def actor_counts_sql(prefix: str = "") -> str:
    """Every actor with its documents, passages and sentences, from tables named ``{prefix}actors`` etc."""
    return (
        "SELECT a.id, a.name, a.kind, count(DISTINCT p.doc), count(DISTINCT s.passage), count(*) "
        f"FROM {prefix}sentences s JOIN {prefix}actors a ON a.id = s.speaker "
        f"JOIN {prefix}passages p ON p.id = s.passage GROUP BY a.id, a.name, a.kind"
    )


def one_name_each(actors: Iterable[Actor]) -> dict[int, Actor]:
    """Each actor by id, under the name its person goes by (``speakers.one_person``): the names spelt
    alike ("Ban Ki-moon", "Ban Ki Moon"; the typo "Dmitry Pesko V") and the variants of one full name
    ("Sergei Lavrov", "Sergey Lavrov", "Vladimir V. Putin") under the one most of their sentences carry.

    A label gets its own actor id as written, and the store keeps it so; readers answer with one actor
    for them all. Each id keeps its own counts."""
    actors = list(actors)
    out: dict[int, Actor] = {}
    for kind in {a.kind for a in actors}:
        said: dict[str, int] = {}
        for a in actors:
            if a.kind == kind:
                said[a.name] = said.get(a.name, 0) + a.sentences
        named = one_person(said)
        out.update((a.id, replace(a, name=named[a.name])) for a in actors if a.kind == kind)
    return out


def askers_among(actors: dict[int, Actor], turns: Iterable[tuple[int, str]]) -> frozenset[int]:
    """``speakers.askers`` of ``turns`` (``(actor id, text)``), an actor's turns counted together under
    all the spellings of its name (``one_name_each``): every id of an actor who asks."""
    lead: dict[tuple[str, str], int] = {}
    for i, a in actors.items():
        lead.setdefault((a.kind, a.name), i)

    def one(i: int) -> int:
        a = actors.get(i)
        return i if a is None else lead[(a.kind, a.name)]

    asking = askers((one(int(i)), text) for i, text in turns)
    return frozenset(i for i in actors if one(i) in asking) | (asking - actors.keys())


def turn_texts_sql(prefix: str = "", body: str = "body", end: str = "end") -> str:
    """Each person's turn in a document of more than one turn, as ``(actor id, text)``: the exchanges of
    a transcript. A document that is one turn (a speech) asks nobody anything. ``body``/``end``: the
    turns table's columns for where a turn's words start and where it ends."""
    return (
        f"SELECT t.actor, substr(d.text, t.{body} + 1, t.{end} - t.{body}) FROM {prefix}turns t "
        f"JOIN {prefix}documents d ON d.id = t.doc JOIN {prefix}actors a ON a.id = t.actor "
        f"WHERE a.kind = 'person' AND t.doc IN (SELECT doc FROM {prefix}turns GROUP BY doc HAVING count(*) > 1)"
    )


class ConnectionPool(Generic[C]):
    """A fixed set of open database connections, each lent to one thread at a time (both stores' readers)."""

    def __init__(self, connections: Sequence[C]) -> None:
        self._all = list(connections)
        self._free: queue.SimpleQueue[C] = queue.SimpleQueue()
        for conn in self._all:
            self._free.put(conn)

    @contextmanager
    def lend(self) -> Iterator[C]:
        conn = self._free.get()
        try:
            yield conn
        finally:
            self._free.put(conn)

    def rows(self, sql: str, args: Any = ()) -> list[tuple]:
        with self.lend() as conn:
            return conn.execute(sql, args).fetchall()

    def _replace(self, old: C, new: C) -> None:
        """Put ``new`` in the place of ``old`` (a lent connection that was opened again)."""
        old_close = getattr(old, "close", None)
        if old_close is not None:
            old_close()
        self._all[self._all.index(old)] = new

    def __iter__(self) -> Iterator[C]:
        return iter(self._all)

    def close(self) -> None:
        for conn in self._all:
            conn.close()
        self._all.clear()


def pairs_of(rows) -> dict[str, set[str]]:
    """``metadata_pairs`` from rows of (value, other value)."""
    out: dict[str, set[str]] = {}
    for value, other in rows:
        out.setdefault(value, set()).add(other)
    return out
