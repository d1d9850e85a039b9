"""Who is speaking: speaker turns read from transcripts, normalised into actors.

A transcript line that opens with a speaker label starts a turn, and the turn runs until the next
label (or the end of the text). Two kinds of label are read:

- ``Name:`` in mixed case, as the Kremlin writes them: ``Vladimir Putin:``, ``President of Russia
  Vladimir Putin:``, ``Minister of Sport Pavel Kolobkov:``; ``Question:``, ``Remark:`` and the like
  are questions and remarks from the floor;
- ``MS. NAME:`` in capitals, as White House briefings write them (``MS. JEAN-PIERRE:``, ``THE
  PRESIDENT:``), and their ``Q`` turns from the press.

A wrong attribution is worse than none, so a label must look like a name: every word capitalised but
a few connectors ("of", "the", ...), no digits, at most 25 words. "Cooperatives are not alone in
selling their products:" is prose, and "Mr. President:" or "Dear Mr. Speaker:" is someone being
addressed. Each label becomes one actor, titles stripped (``President of Russia Vladimir Putin`` and
``Vladimir Putin`` are one actor; ``MS. JEAN-PIERRE`` is ``Ms. Jean-Pierre``).

A document without turns takes its speaker from its metadata where the corpus gives one (the UN
General Debate's ``speaker``), and otherwise has none: nothing is guessed from prose.

Modules: ``names`` (a label as an actor; matching a name to one), ``offices`` (an office labelled
alone as its holder) and ``turns`` (finding turns and attributing sentences).
"""

from __future__ import annotations

from .names import (
    FLOOR,
    KINDS,
    PERSON,
    best_heard,
    floor_actor,
    match_actor,
    normalise,
    one_person,
    spelling,
    strip_title,
)
from .offices import is_office, office_holder
from .turns import Turn, askers, attribute, document_turns, find_turns, label_at, metadata_speaker, unspoken

__all__ = [
    "FLOOR",
    "KINDS",
    "PERSON",
    "Turn",
    "askers",
    "attribute",
    "best_heard",
    "document_turns",
    "find_turns",
    "floor_actor",
    "is_office",
    "label_at",
    "match_actor",
    "metadata_speaker",
    "normalise",
    "office_holder",
    "one_person",
    "spelling",
    "strip_title",
    "unspoken",
]
