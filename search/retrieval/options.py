"""How to search: the options of a search, checked once where they come in, and the query's own limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import InvalidInput
from ..store import Filter

Mode = Literal["dense", "lexical", "hybrid"]
MODES: tuple[str, ...] = ("dense", "lexical", "hybrid")
MAX_QUERY_CHARS = 1000  # the library, the CLI and the server (which may lower it) alike


@dataclass(frozen=True)
class Preference:
    """Whose candidates come first for a query read as naming an actor: passages where one of
    ``speakers`` speaks, passages nobody speaks in that name ``mention`` (a report: "Mr Putin
    stressed …"), or passages whose document has ``field`` = one of ``values``; ``label`` says so on the
    hits."""

    label: str
    speakers: tuple[int, ...] = ()
    mention: str | None = None
    field: str | None = None
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchOptions:
    """How to search; the defaults are the ones that won on the evaluation sets (see BENCHMARKS.md).

    Checked when made (a bad value is an ``InvalidInput`` in library terms), so one that exists is valid:
    the CLI, HTTP and library build it once where options come in, and what is below trusts it."""

    k: int = 10
    mode: Mode = "hybrid"
    per_doc: int | None = 2  # most passages from one document; 0 or None: no limit
    where: Filter | None = None
    fusion: Literal["rrf", "weighted"] = "weighted"
    weight: float = 0.5
    depth: int = 100
    mmr: float | None = None
    rerank_depth: int = 30
    exact: bool = False
    sentence_weight: float = 0.5
    speaker: str | None = None  # only sentences spoken by this actor count (a name; see Engine.resolve_speaker)
    literal: bool = False  # never read the query as naming an actor (see search.reading)
    prefer: Preference | None = None  # set by the engine for a query read as naming an actor

    def __post_init__(self) -> None:
        if not isinstance(self.k, int) or self.k < 1:
            raise InvalidInput(f"k must be a whole number of at least 1, not {self.k!r}", "k")
        if self.mode not in MODES:
            raise InvalidInput(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}", "mode")
        if self.per_doc is not None and (not isinstance(self.per_doc, int) or self.per_doc < 0):
            raise InvalidInput(f"per_doc must be a whole number, 0 for no limit, not {self.per_doc!r}", "per_doc")
        if self.fusion not in ("rrf", "weighted"):
            raise InvalidInput(f"fusion must be rrf or weighted, not {self.fusion!r}", "fusion")
        if not 0.0 <= self.weight <= 1.0:
            raise InvalidInput("weight must be between 0 and 1", "weight")
        if self.mmr is not None and not 0.0 <= self.mmr <= 1.0:
            raise InvalidInput("mmr (relevance weight λ) must be between 0 and 1", "mmr")
        if not 0.0 <= self.sentence_weight <= 1.0:
            raise InvalidInput("sentence_weight must be between 0 and 1", "sentence_weight")
        if self.depth < 1 or self.rerank_depth < 1:
            raise InvalidInput("depth must be at least 1", "depth")
        if self.speaker is not None and (not isinstance(self.speaker, str) or not self.speaker.strip()):
            raise InvalidInput("speaker is empty: give an actor's name", "speaker")
        if self.per_doc == 0:
            object.__setattr__(self, "per_doc", None)  # 0 and None both mean no limit, as in the CLI and HTTP


def check_query(query: str, limit: int = MAX_QUERY_CHARS, what: str = "query") -> str:
    """``query``, if it can be searched: not empty, and at most ``limit`` characters (the caller's own
    limit: a server may set a lower one). ``what`` names it in the message (query, topic)."""
    if not isinstance(query, str) or not query.strip():
        raise InvalidInput(f"the {what} is empty: give words to search for")
    if len(query) > limit:
        raise InvalidInput(f"the {what} is {len(query)} characters long; the limit is {limit}")
    return query
