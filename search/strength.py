"""How well a hit matches its query, in words an analyst can act on: ``strong``, ``weak`` or ``none``.

A ranked list always has a first hit, and the fused hybrid score says only how a passage compares with
the other candidates of the same query (each list is scaled so that its best is 1), so it cannot tell a
good answer from the least bad one: a query of nonsense gets a top score of 0.5 like many real ones.
Match strength is absolute instead. It reads two pieces of evidence of one hit:

- ``cosine``: the query's vector against the passage's (-1..1, on its model's scale);
- ``coverage``: the share of the query's content words that occur in the passage (a crude stem
  match: "Kuril Islands" finds "Kurils", "island"; "extension" finds "extend").

A hit is ``strong`` when its cosine is at least the model's ``strong`` threshold; or at least its
``most_words`` threshold with two thirds of the query's content words in it; or at least its ``weak``
threshold with every one of them (both with ``MIN_WORDS_FOR_COVERAGE`` or more words: a name a small
model embeds poorly, such as "Kudankulam", is still found word for word). It is ``weak`` when its cosine
is at least ``weak`` or it holds at least half of those words, else ``none``. In lexical mode, with no
cosine, a hit is ``strong`` when it holds more than two thirds of the words (``LEXICAL_SHARE``).

Each model's thresholds (``Thresholds``) were chosen on the Kremlin dev queries against off-topic and
nonsense queries, with no false alarm on a dev query as the first aim (``scripts/calibrate_match.py``;
figures in docs/calibration.md, "Match strength"). On an index of a model without them a hit's strength
is not known (None), and nothing is flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .store.lexical import query_words

STRONG = "strong"
WEAK = "weak"
NONE = "none"
LEVELS = (NONE, WEAK, STRONG)

MOST_WORDS = 0.66  # two thirds (2 of 3 words) or more
MIN_WORDS_FOR_COVERAGE = 2


@dataclass(frozen=True)
class Thresholds:
    """The cosines of one model that make a hit strong or weak (see the module's docstring)."""

    strong: float  # strong alone
    most_words: float  # strong with two thirds of the query's words in the passage
    weak: float  # strong with every word of the query in it; weak alone


MINILM_THRESHOLDS = Thresholds(strong=0.45, most_words=0.40, weak=0.30)
LEXICAL_SHARE = 0.67  # with no cosine (lexical mode): strong when more than two thirds of the words are there

_WORD = re.compile(r"\w+", re.UNICODE)
STEM = 5


def _stem(word: str) -> str:
    """A word's first ``STEM`` letters ("extension" and "extend" share "exten"); a shorter word loses
    a plural "s" ("talks": "talk"). Crude, but the same for every language of Latin script, and only
    evidence beside the cosine."""
    word = word.lower()
    if len(word) > STEM:
        return word[:STEM]
    return word[:-1] if len(word) == STEM and word.endswith("s") else word


def coverage(query: str, text: str) -> tuple[float, int]:
    """``(share, n)``: the share of the query's ``n`` distinct content words that ``text`` holds,
    each matched by its stem at the start of a word of ``text``."""
    wanted = {_stem(w) for w in query_words(query) if len(w) > 1 or w.isdigit()}
    if not wanted:
        return 0.0, 0
    words = {w.lower() for w in _WORD.findall(text)}
    found = sum(1 for stem in wanted if any(w.startswith(stem) for w in words))
    return found / len(wanted), len(wanted)


def strength(cosine: float | None, share: float, words: int, at: Thresholds = MINILM_THRESHOLDS) -> str:
    """``strong``, ``weak`` or ``none`` for one hit by the cosines ``at`` of its index's model (see the
    module's docstring). ``cosine`` is None in lexical mode, where the words decide alone."""
    enough = words >= MIN_WORDS_FOR_COVERAGE
    if cosine is not None:
        if (
            cosine >= at.strong
            or (cosine >= at.weak and enough and share >= 1.0)
            or (cosine >= at.most_words and enough and share >= MOST_WORDS)
        ):
            return STRONG
        if cosine >= at.weak:
            return WEAK
    elif words and share >= LEXICAL_SHARE:
        return STRONG
    return WEAK if words and share >= 0.5 else NONE


def best(levels: Iterable[str | None]) -> str | None:
    """The strongest of ``levels``: ``none`` for no hits, None when no hit's strength is known (an
    index of a model the thresholds were not calibrated for)."""
    levels = list(levels)
    known = [lv for lv in levels if lv]
    if not known:
        return None if levels else NONE
    return max(known, key=LEVELS.index)


def thresholds_for(model: str) -> Thresholds | None:
    """The thresholds of ``model`` (an index's model name), or None where match strength is not
    calibrated for it. Cosines are on another scale for each model: multilingual-e5 gives nonsense
    0.79 and a good match 0.86."""
    from .models import MINILM, canonical_name

    return {MINILM: MINILM_THRESHOLDS}.get(canonical_name(model))


def no_strong_match(level: str, hits: int) -> str:
    """The warning of an answer whose strongest hit is ``level`` (weak or none)."""
    if not hits:
        return "no match: nothing in the index matches the query"
    return (
        f"no strong match (the best is {level}): nothing in the index answers the query well; these "
        "are only the closest passages"
    )
