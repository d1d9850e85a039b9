"""Speaker turns in a transcript: which lines open a turn, where each ends, and who speaks each sentence."""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .names import (
    _CAPS_WORD,
    _HONORIFICS,
    _PARENS,
    _TITLE_WORDS,
    FLOOR,
    MAX_LABEL_WORDS,
    PERSON,
    _drop_honorific,
    _title_case,
    _words,
    normalise,
)
from .offices import is_office, office_holder

# A line that opens with a label: "Label: text" (mixed case or capitals), or White House "Q  text".
# A label may follow a heading glued to it ("Meeting with Government members. Vladimir Putin:").
_LINE = re.compile(r"[^\r\n]+")
_LABEL = re.compile(r"^[ \t\u00a0]*(?P<label>[^:\r\n]{1,240}?)[ \t]*:(?=[ \t\u00a0]|$)")
_PRESS_Q = re.compile(r"^[ \t\u00a0]*(?P<label>Q)(?:[ \t\u00a0]{2,}|\t|:[ \t]|\.[ \t]| (?=[A-Z“\"'—–(]))(?=\S)")
# A turn glued to the end of a sentence on one line, as White House transcripts sometimes run them: a press
# question ("MS. JEAN-PIERRE:  Yes. Q    Tomorrow is jobs day …": "Q" and two spaces, or a tab) or an
# answer's label in capitals ("… go back to the testing issue? MS. PSAKI:  Sure.").
_ZONE = r"(?:[ECMPA][SD]T|GMT|BST|UTC|CES?T)\b"  # the time zone of a time stamp
_GLUED_Q = re.compile(r"(?<=[.!?…])[ \t\u00a0]+(?P<label>Q)(?:[ \t\u00a0]{2,}|\t)(?=\S)")
_GLUED_LABEL = re.compile(
    rf"(?<=[.!?…])[ \t\u00a0]+(?:{_ZONE}[ \t]+)?(?!{_ZONE})"  # "7:06 P.M. EDT THE VICE PRESIDENT:  Thank you."
    r"(?P<label>(?:[A-Z][A-Z.’'-]*[ \t]+){0,3}[A-Z][A-Z’'-]+):(?:[ \t\u00a0]+|$)"
)
# Lines that end a turn without starting one: the Kremlin's "See also" list of links, a transcript's
# closing time stamp ("1:13 P.M. BST"), "END".
_TIME = r"\d{1,2}:\d{2} ?[AP]\.? ?M\.?(?: [A-Z]{2,5})?"
_BREAK = re.compile(rf"^\s*(?:END|To be continued\.?|{_TIME})\s*$")
_STAMP = re.compile(rf"\s*{_TIME}\s*$")  # a time stamp before a turn glued to it, on its line
_SEE_ALSO = re.compile(r"^\s*See also\s*$")
_MONTH = "January|February|March|April|May|June|July|August|September|October|November|December"
# The link under "See also": a title and a date ("Address to the Nation June 23, 2020"), text may follow.
_LINK = re.compile(rf"^.{{0,300}}?\b(?:{_MONTH}) \d{{1,2}}(?: ?[−–-] ?(?:(?:{_MONTH}) )?\d{{1,2}})?, \d{{4}}")
_CAPTION = re.compile(r"^\s*(?:With|At|During|Before|After|Following)\s+[^\s]")
_STAGE = re.compile(r"^\s*\([^()]*\)\.?\s*$")
_FIRST_PERSON = frozenset("i we our us my me you your i’m we’re i'm we're".split())
# How alike a label must be to a more frequent one of the same document to be taken as its misspelling.
TYPO_RATIO = 0.9
# Who asks rather than answers (``askers``): at least this share of their turns end in a question, or
# (once they have said ASKER_SENTENCES sentences) this share of their sentences are questions. On the
# Kremlin's transcripts interviewers and moderators ask in a third to two thirds of their turns and
# ask 15-35% of their sentences; Vladimir Putin, who chairs meetings and answers press conferences, ends
# 19% of his turns and 5% of his sentences with a question, and no minister or foreign leader more.
CAPTION_WORDS = 4  # a title this long, repeated as a sentence inside a turn, is a caption ("Interview." may be said)
ASKING_TURNS = 0.5
ASKING_SENTENCES = 1 / 7
ASKER_SENTENCES = 20
_SENTENCE_END = re.compile(r"[.!?…]+(?=[\"'”’)»]*(?:\s|$))")
_CLOSING = " \t\r\n\"'”’)»"


@dataclass(frozen=True)
class Turn:
    """One speaker turn: ``text[start:end]``, its label at ``text[start:body]``, and who spoke it."""

    start: int
    body: int
    end: int
    label: str
    actor: str
    kind: str


def label_at(line: str) -> tuple[int, str] | None:
    """``(where the spoken text starts, the label)`` when ``line`` opens with a speaker label.

    A White House press question ("Q    Jen, on contingencies: If these …") is the press's, whatever
    colon follows: "Q Jen" is nobody's label."""
    m = _PRESS_Q.match(line)
    if m:
        return m.end(), "Q"
    m = _LABEL.match(line)
    if m and normalise(m.group("label")) is not None:
        body = m.end()
        while body < len(line) and line[body] in " \t\u00a0":
            body += 1
        return body, m.group("label").strip()
    return None


def find_turns(text: str) -> list[Turn]:
    """The speaker turns of a transcript, in order (none for prose). Within one document, a label
    that ends with another label's actor is that actor (``President of Russia Vladimir Putin`` and
    later ``Vladimir Putin``), and so is a misspelling of a more frequent one (``Vlaidmir Putin``).

    A turn runs until the next label, or until a line that ends it (``_BREAK``). The Kremlin's "See
    also" link inside a turn, with its title and date, is left out of it, and the turn goes on after
    it (a label may follow the date on the same line)."""
    events: list[tuple[int, int, str | None]] = []  # (start, body, label) of a turn, or (start, end, None) of a gap
    breaks: list[int] = []
    lines = list(_LINE.finditer(text))
    skip = -1
    for n, line in enumerate(lines):
        if n <= skip:
            continue
        piece, at = line.group(), line.start()
        if _BREAK.match(piece):
            breaks.append(at)
        elif _SEE_ALSO.match(piece):
            end = line.end()
            if n + 1 < len(lines) and (link := _LINK.match(lines[n + 1].group())):
                end, skip = lines[n + 1].start() + link.end(), n + 1
                rest = text[end : lines[n + 1].end()]
                if (after := label_at(rest)) is not None:
                    lead = len(rest) - len(rest.lstrip())
                    events.append((at, end, None))
                    events.append((end + lead, end + after[0], after[1]))
                    continue
            events.append((at, end, None))
        else:
            found = label_at(piece)
            if found is not None:
                lead = len(piece) - len(piece.lstrip(" \t\u00a0"))
                events.append((at + lead, at + found[0], found[1]))
            glued = _glued(piece, found[0] if found else 0)
            if glued and found is None and _STAMP.match(piece[: glued[0][0]]):
                breaks.append(at)  # "7:06 P.M. EDT THE VICE PRESIDENT:  Thank you.": the time is nobody's
            events.extend((at + s, at + b, label) for s, b, label in glued)
    events = _in_one_hand(events)
    labels = [(s, b, label, *(normalise(label) or ("", ""))) for s, b, label in events if label is not None]
    if not labels or all(kind == FLOOR for *_, kind in labels):
        return []  # no labels, or questions with nobody answering: a form, an FAQ, not a transcript
    if len(labels) == 1 and not _titled(labels[0][2]):
        return []  # one label alone is a heading more often than a speech, unless it names an office
    actors = _merged([(actor, kind) for *_, actor, kind in labels], [label for _, _, label, *_ in labels])
    turns: list[Turn] = []
    current: Turn | None = None
    names = iter(actors)
    for start, body, label in [*events, (len(text), len(text), "")]:
        if current is not None:
            stop = min([b for b in breaks if current.start <= b < start], default=start)
            turns.append(
                Turn(
                    current.start,
                    current.body,
                    _trim_end(text, current.body, stop),
                    current.label,
                    current.actor,
                    current.kind,
                )
            )
            if stop < start:
                current = None  # a break ended it: what follows until the next label is nobody's
        if label is None:  # a gap: the same turn goes on after it
            current = current and Turn(body, body, body, current.label, current.actor, current.kind)
        elif label:
            actor, kind = next(names)
            current = Turn(start, body, body, label, actor, kind)
    return [t for t in turns if t.end > t.start]


def _in_one_hand(events: list[tuple[int, int, str | None]]) -> list[tuple[int, int, str | None]]:
    """The events of a transcript whose labels are in capitals as often as not (``MS. PSAKI:``, ``THE PRESIDENT:``,
    ``Q``), without its labels in mixed case: there they are a quote or a phrase that a speaker reads out
    ("Goldman Sachs: “Vaccinations will …”", "Bipartisan Infrastructure Law: 37,000 projects already
    approved."), and the speaker goes on. A label whose last word is in capitals stays ("Mr. KIRBY")."""
    said = [label for _, _, label in events if label]
    capitals = sum(1 for label in said if label.upper() == label)
    if not capitals or capitals < len(said) - capitals:
        return events
    return [e for e in events if e[2] is None or e[2].upper() == e[2] or _CAPS_WORD.match(_words(e[2])[-1]) is not None]


def _glued(line: str, start: int) -> list[tuple[int, int, str]]:
    """``(start, body, label)`` of the turns glued to the end of a sentence inside ``line`` from ``start``
    (``_GLUED_Q``, and ``_GLUED_LABEL`` where the label is a person's), in order."""
    found = [(m.start("label"), m.end(), "Q") for m in _GLUED_Q.finditer(line, start)]
    for m in _GLUED_LABEL.finditer(line, start):
        if (normalise(m.group("label")) or ("", ""))[1] == PERSON:
            found.append((m.start("label"), m.end(), m.group("label")))
    return sorted(found)


def unspoken(sentence: str) -> bool:
    """Whether a sentence inside a turn is nobody's words: a stage direction ("(Laughter.)"), or a
    photo caption ("With President of Finland Sauli Niinisto.") — short, no comma, nobody speaking
    in the first person."""
    if _STAGE.match(sentence):
        return True
    words = sentence.split()
    return (
        bool(_CAPTION.match(sentence))
        and len(words) <= 16
        and "," not in sentence
        and not any(w.lower().strip(".’'") in _FIRST_PERSON for w in words)
    )


def _plain(sentence: str) -> str:
    """A sentence or title as a caption repeats it: spaces, final stops and case aside."""
    return " ".join(sentence.split()).rstrip(".").casefold()


def _merged(found: list[tuple[str, str]], labels: list[str]) -> list[tuple[str, str]]:
    """The actors of a document's labels, each titled label that ends with another actor's name
    taken as that actor, and each misspelling of a more frequent actor (same number of words, nearly
    the same letters) taken as it."""
    counts: dict[str, int] = {}
    for actor, kind in found:
        if kind == PERSON:
            counts[actor] = counts.get(actor, 0) + 1
    people = {a for a in counts if len(a.split()) >= 2}
    out = []
    surnames: dict[str, list[str]] = {}
    for p in people:
        if p.split()[0].lower().rstrip(".") not in _HONORIFICS:
            surnames.setdefault(p.split()[-1], []).append(p)
    for (actor, kind), label in zip(found, labels):
        if kind == PERSON:
            actor = _named_in(label, people) or actor
            parts = actor.split()
            if len(parts) == 2 and parts[0].lower().rstrip(".") in _HONORIFICS and len(surnames.get(parts[1], ())) == 1:
                actor = surnames[parts[1]][0]  # "Mr Putin" where "Vladimir Putin" speaks too
            for other in sorted(people, key=lambda p: (-counts[p], p)):  # the most frequent first, in any run
                if (
                    counts[other] > counts.get(actor, 0)
                    and len(other.split()) == len(actor.split())
                    and difflib.SequenceMatcher(None, actor, other).ratio() >= TYPO_RATIO
                ):
                    actor = other
                    break
        out.append((actor, kind))
    return out


def _titled(label: str) -> bool:
    """Whether a label names an office (``President of Russia Vladimir Putin``, ``THE PRESIDENT``)."""
    words = _words(label)
    return any(w.lower().rstrip(".,") in _TITLE_WORDS for w in words[:-1]) or is_office(" ".join(words).title())


def _named_in(label: str, people: set[str]) -> str | None:
    """The longest actor of the document that a titled label ends with, as whole words
    (``Governor of the Central Bank Elvira Nabiullina`` → ``Elvira Nabiullina``)."""
    raw = " " + " ".join(_words(_PARENS.sub("", label)))
    found = [p for p in people if raw.endswith(" " + p)]
    return max(found, key=lambda p: (len(p), p)) if found else None


def _trim_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def metadata_speaker(metadata: Mapping[str, Any]) -> str | None:
    """A document's speaker as its corpus records it (``speaker``), normalised, or None."""
    raw = metadata.get("speaker")
    if not isinstance(raw, str) or not raw.strip():
        return None
    words = _words(_PARENS.sub("", raw).strip().rstrip(",."))
    if not words or len(words) > MAX_LABEL_WORDS:
        return None
    words = [_title_case(w) if _CAPS_WORD.match(w) and len(w.rstrip(".")) > 1 else w for w in words]
    return " ".join(_drop_honorific(words))


def document_turns(text: str, metadata: Mapping[str, Any] | None = None, title: str = "") -> list[Turn]:
    """The turns of a document: one turn over all of it by the speaker its metadata names (the
    corpus says who spoke: title-case phrases opening its lines are then not read as labels), or
    those of its text, or none. An office alone (``THE PRESIDENT:``) is the holder the document's
    ``title`` names (``offices.office_holder``: "Remarks by President Biden …" → ``President Biden``),
    so that one person is one actor whether a transcript names them or their office, and two
    presidents are two."""
    speaker = metadata_speaker(metadata or {})
    if speaker:
        return [Turn(0, 0, len(text), str((metadata or {}).get("speaker")).strip(), speaker, PERSON)]
    turns = find_turns(text)
    if not title:
        return turns
    named = {t.actor for t in turns}
    holders = {actor: office_holder(actor, title, named) for actor in named if is_office(actor)}
    return [replace(t, actor=holders.get(t.actor) or t.actor) for t in turns]


def attribute(
    turns: Sequence[Turn], spans: Sequence[tuple[int, int]], text: str = "", title: str = ""
) -> list[int | None]:
    """For each sentence span, the index of the turn it lies in, or None; with the document's
    ``text``, None too for what nobody says in a turn (``unspoken``), and with its ``title``, for the
    title repeated as a photo caption inside a speech (the Kremlin's "Statements for the press following
    talks with Federal President of Austria Heinz Fischer." between two of Putin's sentences: 272 such
    lines in 54 documents; a title of four words or more). A sentence lies where its middle
    does: one that runs from a "See also" link into the speech after it is the speaker's. One that
    starts in a turn's words and runs into the next turn (a label glued mid-line that the sentence
    splitter did not part: "… outreach too. DR. DASKALAKIS:  Sure, I'll start") is the first speaker's."""
    out: list[int | None] = []
    starts = [turn.start for turn in turns]
    caption = _plain(title) if len(title.split()) >= CAPTION_WORDS else None
    for s, e in spans:
        middle = (s + e) // 2
        t = bisect.bisect_right(starts, middle) - 1
        first = bisect.bisect_right(starts, s) - 1
        if 0 <= first < t and s < turns[first].end:
            t, middle = first, s
        inside = (
            t >= 0
            and middle < turns[t].end
            and not (text and (unspoken(text[s:e]) or (caption is not None and _plain(text[s:e]) == caption)))
        )
        out.append(t if inside else None)
    return out


def askers(turns: Iterable[tuple[int, str]]) -> frozenset[int]:
    """The actors who ask more than they answer, from their turns as ``(actor id, text)``: interviewers,
    moderators, a journalist called on at a press conference. Their questions frame a topic in the
    words of those who answer, and are no side's position. One asks when at least ``ASKING_TURNS`` of
    their turns end in a question, or, over ``ASKER_SENTENCES`` sentences or more, at least
    ``ASKING_SENTENCES`` of their sentences do."""
    counts: dict[int, list[int]] = {}
    for actor, text in turns:
        c = counts.setdefault(actor, [0, 0, 0, 0])  # turns, asking turns, sentences, questions
        ends = _SENTENCE_END.findall(text)
        c[0] += 1
        c[1] += text.rstrip(_CLOSING).endswith("?")
        c[2] += max(1, len(ends))
        c[3] += sum("?" in end for end in ends)
    return frozenset(
        actor
        for actor, (n, asking, sentences, questions) in counts.items()
        if asking >= ASKING_TURNS * n or (sentences >= ASKER_SENTENCES and questions >= ASKING_SENTENCES * sentences)
    )
