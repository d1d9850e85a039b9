"""Reading a question that names an actor: "What did Putin say about …", "What is Japan's position on …".

Such questions want the actor's own words first. A query is read as naming an actor when it asks what
someone says or thinks (``CUE``: say, said, position, stance, view, think, propose, react, …) and names
one actor the index knows: a speaker (their full name, or a surname only one well-attested speaker
has, written with a capital) or a country of the index's ``country`` metadata (its name, or a common
short form: Russia, the US, Britain). Anything else is read literally; so is every query with
``literal=True``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CUE = re.compile(
    r"\b(say|says|said|saying|tell|told|position|positions|stance|view|views|viewed|think|thinks|thought|"
    r"propose|proposes|proposed|react|reacts|reacted|respond|responds|responded|stand|stands|believe|believes|"
    r"argue|argues|argued|claim|claims|claimed|want|wants|wanted|call for|calls for|called for|insist|insists|"
    r"insisted|warn|warns|warned|according to|statement|statements|comment|comments|commented|object|objected)\b",
    re.IGNORECASE,
)
# How many sentences a speaker needs before a surname alone is read as naming them.
MIN_SENTENCES = 20
# Short forms of country names, lower case, and the names the UN corpus gives those countries.
COUNTRY_NAMES = {
    "russia": ("Russian Federation", "Russia"),
    "soviet union": ("Union of Soviet Socialist Republics",),
    "ussr": ("Union of Soviet Socialist Republics",),
    "us": ("United States of America", "United States"),
    "u.s.": ("United States of America", "United States"),
    "usa": ("United States of America", "United States"),
    "america": ("United States of America", "United States"),
    "united states": ("United States of America", "United States"),
    "britain": ("United Kingdom of Great Britain and Northern Ireland", "United Kingdom", "UK"),
    "uk": ("United Kingdom of Great Britain and Northern Ireland", "United Kingdom", "UK"),
    "china": ("China", "People's Republic of China"),
    "iran": ("Iran (Islamic Republic of)", "Iran"),
    "syria": ("Syrian Arab Republic", "Syria"),
    "south korea": ("Republic of Korea",),
    "north korea": ("Democratic People's Republic of Korea",),
    "turkey": ("Turkey", "Türkiye"),
}
_POSSESSIVE = re.compile(r"['’]s\b")
_TOKEN = re.compile(r"[\w.\-]+")


@dataclass(frozen=True)
class Reading:
    """What the query was read as naming: a speaker (``field`` None) or a metadata value."""

    actor: str
    field: str | None = None

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
    folded = " " + " ".join(_TOKEN.findall(text.casefold())) + " "
    named = {a for a in speakers if f" {a.casefold()} " in folded}
    if not named:
        words = set(re.findall(r"\b[A-Z][\w\-]+", text))  # a surname, written with its capital
        by_surname: dict[str, list[str]] = {}
        for actor, count in speakers.items():
            parts = actor.split()
            if len(parts) >= 2 and count >= MIN_SENTENCES:
                by_surname.setdefault(parts[-1], []).append(actor)
        for word in words:
            if len(by_surname.get(word, ())) == 1:
                named.add(by_surname[word][0])
    if len(named) == 1:
        return Reading(named.pop())
    if named:
        return None  # two speakers named: the question is about both, read it as it stands
    known = set(countries)
    found = {c for c in known if f" {' '.join(_TOKEN.findall(c.casefold()))} " in folded}
    for short, names in COUNTRY_NAMES.items():
        if f" {short} " in folded:
            found |= {n for n in names if n in known}
    return Reading(found.pop(), "country") if len(found) == 1 else None
