"""An office labelled alone (``THE PRESIDENT:``) as the person who holds it, named by the document's title."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .names import _CONSORTS, _LINKS, _TITLE_WORDS, _title_case, normalise

# Words of a Title Case headline that end the name after an office ("President Biden Before Marine One
# Departure", "Prime Minister Kishida of Japan"), beside any word in lower case, a participle
# ("President Biden Honoring …") and punctuation ("President Biden, Vice President Harris, and …").
_HEADLINE_STOPS = frozenset(
    """a an the and or but nor of in on at to for from by with about as into upon over under after before during
    while aboard ahead amid among following prior via between through toward across""".split()
)
_HEADLINE_TOKEN = re.compile(r"[\w’'.\-]+|[^\w\s]")
_POSSESSIVE = re.compile(r"[’']s$", re.IGNORECASE)


def is_office(actor: str) -> bool:
    """Whether an actor is an office alone, as a transcript labels its holder: ``The President``, ``The
    First Lady`` (not ``The Executive Order``, a heading)."""
    words = actor.split()
    return (
        len(words) >= 2
        and words[0] == "The"
        and words[1].lower() in _TITLE_WORDS
        and all(w.lower() in _TITLE_WORDS | _CONSORTS | _LINKS for w in words[1:])
    )


def office_holder(actor: str, title: str, labelled: Iterable[str] = ()) -> str | None:
    """Who an office alone (``The President``, ``The Vice President``, ``The First Lady``) is in a
    document whose title names its holder: the office and the surname that follows it there, as a
    label of both would be read (``Remarks by President Biden Before Marine One Departure`` →
    ``President Biden``; ``REMARKS BY VICE PRESIDENT HARRIS AT …`` → ``Vice President Harris``). The
    first holder the title names who is not a speaker of the document already (``labelled``: "Remarks
    by President Biden and President Chaves" where ``PRESIDENT CHAVES:`` speaks too), or, where all
    of them speak under their names too, the first it names: the host, whose transcript slips from
    ``PRESIDENT BIDEN:`` to ``THE PRESIDENT:`` (in every such White House document we read). A title
    that names the office under a longer one only (``Vice President Harris`` for ``The President``)
    or nobody gives None, and the actor stays the office."""
    if not is_office(actor):
        return None
    office = actor.split()[1:]
    words = _HEADLINE_TOKEN.findall(title)
    want = [w.lower() for w in office]
    taken = set(labelled)
    first = None
    for i in range(len(words) - len(want)):
        if [w.lower() for w in words[i : i + len(want)]] != want:
            continue
        if i and words[i - 1].lower().rstrip(".") in _TITLE_WORDS | {"former"}:
            continue  # "Vice President …" is not "The President"
        run: list[str] = []
        for word in words[i + len(want) :]:
            bare = _POSSESSIVE.sub("", word)
            if not bare[:1].isupper() or bare.lower() in _HEADLINE_STOPS or (run and bare.lower().endswith("ing")):
                break
            run.append(bare)
            if bare != word:
                break  # "President Biden’s Call With …"
        names = [normalise(" ".join([*office, _title_case(w) if w.isupper() else w])) for w in run]
        holders = [n[0] for n in names if n is not None]
        if not holders or run[-1].endswith("."):
            continue
        if not any(h in taken for h in holders):
            return holders[-1]
        first = first or holders[-1]
    return first
