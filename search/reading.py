"""Reading a question that names an actor: "What did Putin say about …", "What is Japan's position on …".

Such questions want the actor's own words first. A query is read as naming an actor when it asks what
someone says or thinks (``CUE``: say, said, position, stance, view, think, propose, react, …) and names
one actor the index knows: a speaker (their full name, or a surname only one well-attested speaker
has, or one has ten times as often as each other, written with a capital) or a country of the index's
``country`` metadata (its name, or a common short form: Russia, the US, Britain). Anything else is read
literally; so is every query with ``literal=True``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .speakers import best_heard

CUE = re.compile(
    r"\b(say|says|said|saying|tell|told|position|positions|stance|view|views|viewed|think|thinks|thought|"
    r"propose|proposes|proposed|react|reacts|reacted|respond|responds|responded|stand|stands|believe|believes|"
    r"argue|argues|argued|claim|claims|claimed|want|wants|wanted|call for|calls for|called for|insist|insists|"
    r"insisted|warn|warns|warned|according to|statement|statements|comment|comments|commented|object|objected)\b",
    re.IGNORECASE,
)
# How many sentences a speaker needs before a surname alone is read as naming them.
MIN_SENTENCES = 20
# Short forms of country names, as they are written, and the names the UN corpus gives those countries.
COUNTRY_NAMES = {
    "Russia": ("Russian Federation", "Russia"),
    "Soviet Union": ("Union of Soviet Socialist Republics", "USSR"),
    "USSR": ("Union of Soviet Socialist Republics", "USSR"),
    "US": ("United States of America", "United States"),
    "U.S.": ("United States of America", "United States"),
    "USA": ("United States of America", "United States"),
    "America": ("United States of America", "United States"),
    "United States": ("United States of America", "United States"),
    "Britain": ("United Kingdom of Great Britain and Northern Ireland", "United Kingdom", "UK"),
    "UK": ("United Kingdom of Great Britain and Northern Ireland", "United Kingdom", "UK"),
    "China": ("China", "People's Republic of China"),
    "Iran": ("Iran (Islamic Republic of)", "Iran"),
    "Syria": ("Syrian Arab Republic", "Syria"),
    "South Korea": ("Republic of Korea",),
    "North Korea": ("Democratic People's Republic of Korea",),
    "Turkey": ("Turkey", "Türkiye"),
}
# A one-word name also names its country as an adjective ("Israeli", "Indian", "Ethiopian", "Iranian"),
# except where the adjective says something wider ("Latin American").
_DEMONYM = "n|an|ian|i|ese|ish"
_NO_DEMONYM = frozenset({"America"})
_POSSESSIVE = re.compile(r"['’]s\b")
_TOKEN = re.compile(r"[\w.\-]+")


@dataclass(frozen=True)
class Reading:
    """What the query was read as naming: a speaker (``field`` None) or a metadata value: ``actor``,
    and every value that names the same actor (``values``: "Russian Federation" and "Russia", as the UN
    corpus writes it in different years)."""

    actor: str
    field: str | None = None
    values: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"statements by {self.actor}" if self.field is None else f"statements from {self.actor} ({self.field})"


def read_query(query: str, speakers: Mapping[str, int], countries: Iterable[str] = ()) -> Reading | None:
    """The actor ``query`` asks about, if it asks what one actor says and names one the index knows.
    ``speakers``: person actors and their sentence counts; ``countries``: values of ``country``."""
    cue = CUE.search(query)
    if cue is None:
        return None
    # the actor is who asks or answers, named before the cue: "What is Russia's position on Iran's
    # nuclear programme?" asks Russia, not Iran
    text = _POSSESSIVE.sub("", query[: cue.start()])
    named = speaker_names(speakers).find(text)
    if len(named) == 1:
        return Reading(named.pop())
    if named:
        return None  # two speakers named: the question is about both, read it as it stands
    found = named_countries(text, countries, fold=True)
    if len(found) != 1:
        return None
    values = tuple(sorted(found.pop()))
    return Reading(max(values, key=lambda v: (len(v), v)), "country", values)


def speaker_names(speakers: Mapping[str, int]) -> SpeakerNames:
    """``SpeakerNames`` of ``speakers``, made once for the same actors and counts."""
    return _speaker_names(frozenset(speakers.items()))


@functools.lru_cache(maxsize=8)
def _speaker_names(items: frozenset[tuple[str, int]]) -> SpeakerNames:
    return SpeakerNames(dict(items))


class SpeakerNames:
    """The person actors of an index, ready to be found in texts: their full names as word sequences
    (looked up from each word that starts one), and the surnames only one speaker with
    ``MIN_SENTENCES`` sentences or more has, or the one of them ``best_heard`` (as ``match_actor`` reads
    a surname)."""

    def __init__(self, speakers: Mapping[str, int]) -> None:
        self._counts = dict(speakers)
        self._actors: dict[str, list[str]] = {}
        for actor in speakers:
            self._actors.setdefault(" ".join(_TOKEN.findall(actor.casefold())), []).append(actor)
        self._actors.pop("", None)
        self._first = {name.split(" ")[0] for name in self._actors}
        self._lengths = sorted({name.count(" ") + 1 for name in self._actors}, reverse=True)
        by_surname: dict[str, list[str]] = {}
        for actor, count in speakers.items():
            parts = actor.split()
            if len(parts) >= 2 and count >= MIN_SENTENCES:
                by_surname.setdefault(parts[-1], []).append(actor)
        self._surnames = {
            name: chosen for name, actors in by_surname.items() if (chosen := best_heard(actors, self._counts))
        }

    def find(self, text: str, least: int = 0, every: bool = False) -> set[str]:
        """The actors ``text`` names by full name (in any case; only those with ``least`` sentences or
        more), or, if none, by a surname written with its capital; with ``every``, by either (a passage
        names "Vladimir Putin" and "Prime Minister Abe" alike)."""
        tokens = _TOKEN.findall(text.casefold())
        named = {
            actor
            for i, token in enumerate(tokens)
            if token in self._first
            for length in self._lengths
            for actor in self._actors.get(" ".join(tokens[i : i + length]), ())
            if self._counts[actor] >= least
        }
        if named and not every:
            return named
        return named | {self._surnames[w] for w in re.findall(r"\b[A-Z][\w\-]+", text) if w in self._surnames}


def named_countries(text: str, countries: Iterable[str], fold: bool = False) -> set[frozenset[str]]:
    """The countries ``text`` names, each as the values of ``countries`` that one written name stands
    for (Russia: "Russian Federation" and "Russia", as the UN corpus writes it in different years). A
    country is named by one of its values, a common short form (Russia, the US, Britain) or, for a
    one-word name, its adjective (Israeli, Ethiopian). Names are matched as written, capitals
    included; ``fold`` matches a user's query in any case, except the short forms in capitals ("US"
    is not "us")."""
    known = frozenset(countries)
    if not known:
        return set()
    forms = _forms(known)
    found: set[frozenset[str]] = set()
    for match in _country_pattern(known, fold).finditer(text):
        form = next(f for f in forms if _same(f, match.group(1), fold))
        if match.group(2) and (" " in form or form.isupper() or form in _NO_DEMONYM):
            continue  # "USn", "Soviet Unionese": only a one-word name has an adjective
        found.add(forms[form])
    # a value named on its own and through a short form is one country ("Russia" is in both)
    return {group for group in found if not any(group < other for other in found)}


def short_forms(values: Iterable[str]) -> list[str]:
    """The short forms (``COUNTRY_NAMES``) that stand for any of a country's ``values``."""
    values = set(values)
    return [short for short, names in COUNTRY_NAMES.items() if values & set(names)]


@functools.lru_cache(maxsize=8)
def _forms(known: frozenset[str]) -> dict[str, frozenset[str]]:
    """Each way of writing a country of ``known``, and the values it names."""
    forms = {c: {c} for c in known if c[:1].isupper()}
    for short, names in COUNTRY_NAMES.items():
        values = {n for n in names if n in known}
        if values:
            forms.setdefault(short, set()).update(values)
    return {f: frozenset(v) for f, v in forms.items()}


@functools.lru_cache(maxsize=16)
def _country_pattern(known: frozenset[str], fold: bool) -> re.Pattern[str]:
    forms = sorted(_forms(known), key=len, reverse=True)
    alternatives = "|".join(f"(?-i:{re.escape(f)})" if fold and f.isupper() else re.escape(f) for f in forms)
    return re.compile(rf"(?<![\w.])({alternatives})({_DEMONYM})?(?!\w)", re.IGNORECASE if fold else 0)


def _same(form: str, written: str, fold: bool) -> bool:
    return form == written or (fold and not form.isupper() and form.casefold() == written.casefold())
