"""What each side says about a topic: actors ranked by how strongly and how much they speak to it.

An actor is a key of the passages: their speaker (the attributed actor of each sentence), the year of
their document, or a metadata field of it (``country``, ``country_iso3``, ``source``).

How the ranking is made, and why:

1. **A pool of topic passages**: the top ``POOL`` passages of the dense search and the top ``POOL`` of
   the lexical search, with the same filters as a search.
2. **Relevance of a passage to an actor**: half the passage's cosine to the topic, half the cosine of
   the actor's best sentence in it (the mix a search ranks dense hits by). With ``by=speaker``, only
   the actor's own sentences count, and the passage's cosine only in proportion to the share of it
   the actor speaks (by characters), the rest being the actor's best sentence alone: a moderator's
   "go ahead, please" in a passage about the topic borrows nothing from the answer around it.
   Questions and remarks from the floor are nobody's position and are left out, and so are those who
   ask more than they answer (interviewers, moderators: ``speakers.askers``) unless they are chosen.
3. **Only what is on the topic counts**: a passage gains ``relevance − τ``, where τ is the relevance of
   the pool's ``ANCHOR``-th best passage; below τ it gains nothing. A speaker who says less than
   ``SAYS_ENOUGH`` characters of it gains in proportion to the square root of what they say. Like the fusion's anchor, this keeps
   the scale the same however large the corpus is.
4. **Strength and amount together**: an actor's score is the discounted sum of its gains, best first,
   ``Σ gainᵢ / log2(i + 1)`` (the discount of DCG), counting at most ``PER_DOCUMENT`` passages of one
   document. One passing mention, however close, gains once; an actor who argues the point over
   several passages and speeches gains each time, a little less for each — so breadth wins over a
   single hit, and volume alone (many barely relevant passages) does not, since those gain next to
   nothing.

5. **Only actors who take a position**: an actor whose best passage gains less than ``MIN_STRENGTH``
   of the strongest passage's gain is left out, so a topic few speak to lists few actors.
6. **Every side is heard**: the parties of a topic are the actors it names ("Israel's invasion of
   Lebanon") and those that ``PARTY_MENTIONS`` documents of others name in the pool's
   ``PARTY_PASSAGES`` strongest passages (Pakistan's and Turkey's passages on Kashmir name India).
   A side seldom frames a dispute in the words of those who accuse it, so its passages may not reach
   a pool made of the accusers' words: the own ``PARTY_POOL`` best passages of each party the pool
   does not already hear (no passage of it above τ) join it (τ stays the pool's). A party keeps a
   place among the first ``n`` if it gains at all (one the topic names, if its passages are as close
   as the pool's ``PARTY_ANCHOR``-th: it then scores 0), past ``MIN_STRENGTH``. A quote must be a
   statement on the topic, so a party short of that bar is quoted only from a sentence that names
   what the topic is about (a word of the topic other than the party's own names: Israel's "…
   Lebanon, a base for international terror"), or not at all. Parties are found for
   ``by="speaker"`` (person actors) and for metadata fields of an index with a ``country`` field
   (countries by their names, short forms and adjectives, under every name the corpus gives them),
   not for years or sources, nor when the speakers are chosen.

Each actor comes with its counts, first and last date, and its best quotes: among its best-gaining
passages (one per document), those whose best sentence (its own, for a speaker) is closest to the topic.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InvalidInput
from .speakers import FLOOR
from .store import Filter
from .store.base import date_range
from .store.lexical import query_words
from .store.sentences import NO_SENTENCES, Scored

if TYPE_CHECKING:
    from .retrieval import Engine

POOL = 200
NO_SCORES = Scored(np.zeros((0, 2), np.int64), np.zeros(0, np.float32), np.zeros(0, np.int64))
ANCHOR = 100
PER_DOCUMENT = 3
# Quotes are chosen among the actor's best-gaining passages of this many documents per quote asked.
QUOTE_CANDIDATES = 4
# An actor is listed only if its best passage gains at least this share of the best passage's gain of
# any actor: one that only brushes the topic is not taking a position on it.
MIN_STRENGTH = 0.3
# Characters an actor must say in a passage for its whole gain; less gains in proportion to the square
# root (a moderator's "go ahead, please" beside an answer on the topic gains a third of it).
SAYS_ENOUGH = 300
BUILTIN = ("speaker", "year", "source")
MAX_ACTORS = 1000
MAX_QUOTES = 20
# The parties of a topic (see the module's docstring): actors named by the topic, or by at least
# PARTY_MENTIONS of the pool's PARTY_PASSAGES strongest passages spoken by others; each party's own
# PARTY_POOL best passages, dense and lexical, join the pool.
PARTY_PASSAGES = 10
PARTY_MENTIONS = 2
PARTY_POOL = 20
PARTY_ANCHOR = 2 * ANCHOR
# Words of a topic that say what kind of matter it is, or how its parts relate, not which matter: a
# weak party's quote must name the matter ("Kashmir"), and "dispute" or "against" does not.
KIND_WORDS = frozenset(
    "about against among between concerning conflict conflicts crisis dispute disputes issue issues matter "
    "over position positions problem question regarding situation status toward towards under versus war "
    "wars with within without".split()
)
_YEAR = re.compile(r"^\d{4}")


@dataclass(frozen=True)
class Quote:
    """One quote of an actor: the passage's span and its best sentence by that actor."""

    doc_id: str
    title: str
    date: str | None
    start: int
    end: int
    sentence_start: int
    sentence_end: int
    sentence: str
    speaker: str | None
    speaker_kind: str | None
    score: float
    text: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Position:
    """An actor's stand on the topic: its score (see the module's docstring), how many matching
    documents and passages, the first and last date among them, and its best quotes."""

    actor: str
    score: float
    documents: int
    passages: int
    first_date: str | None
    last_date: str | None
    quotes: tuple[Quote, ...] = field(default_factory=tuple)
    kind: str | None = None
    party: bool = False

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "quotes"}
        out["quotes"] = [q.as_dict() for q in self.quotes]
        return out


def check(by: str, n: int, quotes: int, fields: set[str]) -> str:
    """Validate the options of ``positions`` against the index's metadata ``fields``."""
    if not isinstance(by, str) or not by.strip():
        raise InvalidInput("by is empty: use speaker, year, source or a metadata field")
    by = by.strip()
    if by not in BUILTIN and by not in fields:
        known = ", ".join([*BUILTIN, *sorted(fields - set(BUILTIN))])
        raise InvalidInput(f"cannot group by {by!r}: this index has no such field (fields: {known})")
    if not isinstance(n, int) or not 1 <= n <= MAX_ACTORS:
        raise InvalidInput(f"n must be a whole number from 1 to {MAX_ACTORS}, not {n!r}")
    if not isinstance(quotes, int) or not 0 <= quotes <= MAX_QUOTES:
        raise InvalidInput(f"quotes must be a whole number from 0 to {MAX_QUOTES}, not {quotes!r}")
    return by


def _key(by: str, record) -> str | None:
    if by == "year":
        m = _YEAR.match(record.date or "")
        return m.group() if m else None
    if by == "source":
        return record.source or None
    value = record.metadata.get(by)
    if isinstance(value, list):
        value = value[0] if value else None  # a list field groups by its first value
    if value is None or value == "":
        return None
    return str(value)


def positions(
    engine: Engine,
    topic: str,
    by: str = "speaker",
    n: int = 10,
    quotes: int = 2,
    where: Filter | None = None,
) -> list[Position]:
    """The ``n`` actors (grouped ``by``) who speak most strongly and most to ``topic``, best first."""
    store = engine.store
    by = check(by, n, quotes, store.metadata_fields())
    qvec = engine.embed([topic])[0]
    dense = store.search_dense(qvec[None, :], POOL, where)[0]
    lexical = store.search_lexical(topic, POOL, where)
    ids = sorted({pid for pid, _ in dense} | {pid for pid, _ in lexical})
    if not ids:
        return []
    # each passage's own relevance, whoever speaks it (what τ is read from): half its cosine, half its
    # best sentence's
    cosines: dict[int, float] = {}
    scored_sentences: dict = {}
    top_sim: dict[int, float] = {}
    pool: dict[int, float] = {}

    def relevance(more: list[int]) -> None:
        cosines.update(zip(more, (store.vectors_of(more) @ qvec).tolist()))
        scored_sentences.update(store.sentence_scores(more, qvec))
        for pid in more:
            held = scored_sentences.get(pid, NO_SCORES)
            if len(held.scores):
                top_sim[pid] = float(held.scores.max())
            pool[pid] = 0.5 * cosines[pid] + 0.5 * top_sim.get(pid, cosines[pid])

    relevance(ids)
    actors = store.actors
    wanted = set(where.speakers) if where is not None and where.speakers else None
    # who can hold a position: people (the floor asks, it does not answer, and so do interviewers), or
    # the wanted ones if given
    asking = store.askers()
    speaking = {i for i, a in actors.items() if a.kind != FLOOR and (i in wanted if wanted else i not in asking)}

    ranked = sorted(pool.values(), reverse=True)
    tau = ranked[min(ANCHOR, len(ranked)) - 1] if len(ranked) > 1 else ranked[0] - 1e-6
    # a party is heard where its words are as close to the topic as the pool's PARTY_ANCHOR-th passage
    heard_from = ranked[min(PARTY_ANCHOR, len(ranked)) - 1] if len(ranked) > 1 else tau

    # only a passage that can gain is read further (a speaker's relevance is at most their best sentence's);
    # the quotes' own texts are read at the end, metadata only when it is what actors are
    able = [pid for pid in ids if max(pool[pid], top_sim.get(pid, -1.0)) > tau]
    records = store.passages(able, text=False, metadata=by not in BUILTIN)

    # the parties: those the pool does not already hear have their own passages join it (τ stays the
    # pool's), so that each is heard
    parties: set[str] = set()
    named: set[str] = set()
    own_words: dict[str, set[str]] = {}  # each party's own names, as words
    if wanted is None:
        heard = _heard(by, able, records, scored_sentences, actors, speaking, tau)
        strongest_first = sorted(ids, key=lambda pid: (-pool[pid], pid))
        searched: set[int] = set()
        lower: set[int] = set()  # passages of a party the topic names: heard from a lower bar
        for name, narrowed, in_topic, words in _parties(engine, topic, by, where, strongest_first, scored_sentences):
            own_words[name] = words
            parties.add(name)
            if in_topic:
                named.add(name)
            if name in heard:
                continue
            own = {pid for pid, _ in store.search_dense(qvec[None, :], PARTY_POOL, narrowed)[0]}
            own.update(pid for pid, _ in store.search_lexical(topic, PARTY_POOL, narrowed))
            searched |= own
            if in_topic:
                lower |= own
        relevance(sorted(searched - set(ids)))
        more = [
            pid
            for pid in sorted(searched - set(able))
            if max(pool[pid], top_sim.get(pid, -1.0)) > (heard_from if pid in lower else tau)
        ]
        records.update(store.passages(more, text=False, metadata=by not in BUILTIN))
        able += more

    # relevance of each (passage, actor key), and the sentences that earned it
    # (relevance, passage, key, speaker id, how much of it the actor says)
    scored: list[tuple[float, int, str, int | None, float]] = []
    for pid in able:
        rec = records.get(pid)
        if rec is None:
            continue
        found = scored_sentences.get(pid, NO_SCORES)
        if by == "speaker":
            best: dict[int, float] = {}
            share: dict[int, int] = defaultdict(int)
            lengths = (found.spans[:, 1] - found.spans[:, 0]).tolist()
            for sid, sim, length in zip(found.speakers.tolist(), found.scores.tolist(), lengths):
                if sid in speaking:
                    best[sid] = max(best.get(sid, -1.0), sim)
                    share[sid] += length
            total = max(sum(lengths), 1)
            for sid, sim in best.items():
                part = share[sid] / total  # the passage's words lend relevance only as far as they are the actor's
                rel = part * (0.5 * cosines[pid] + 0.5 * sim) + (1 - part) * sim
                scored.append((rel, pid, actors[sid].name, sid, min(1.0, share[sid] / SAYS_ENOUGH) ** 0.5))
        else:
            key = _key(by, rec)
            if key is not None:
                scored.append((pool[pid], pid, key, None, 1.0))
    if not scored:
        return []

    gains: dict[str, list[tuple[float, int, int | None]]] = defaultdict(list)
    for rel, pid, key, sid, amount in scored:
        if rel > tau or (key in named and rel > heard_from):
            gains[key].append(((rel - tau) * amount, pid, sid))  # a party's may be below zero
    table = []
    for key, items in gains.items():
        items.sort(key=lambda item: (-item[0], item[1]))
        per_doc: dict[str, int] = defaultdict(int)
        score, counted = 0.0, []
        for gain, pid, sid in items:
            doc = records[pid].doc_id
            if per_doc[doc] >= PER_DOCUMENT:
                continue
            per_doc[doc] += 1
            score += max(gain, 0.0) / math.log2(len(counted) + 2)
            counted.append((gain, pid, sid))
        table.append((score, key, items))
    if not table:  # nobody's words pass τ (a pool of fewer passages than the anchor)
        return []
    table.sort(key=lambda row: (-row[0], row[1]))
    strongest = max(items[0][0] for _, _, items in table)
    # a party that speaks to the topic at all is listed, and keeps its place among the first n
    party_rows = [row for row in table if row[1] in parties][:n]
    others = [row for row in table if row[1] not in parties and row[2][0][0] >= MIN_STRENGTH * strongest]
    listed = sorted(party_rows + others[: n - len(party_rows)], key=lambda row: (-row[0], row[1]))

    floor = frozenset(i for i, a in actors.items() if a.kind == FLOOR) | asking
    # a quote is a statement on the topic: a party whose words fall short of the bar every other actor
    # must pass is quoted only from a sentence that names what the topic is about in words (a word of
    # the topic other than the party's own names: "Lebanon" for Israel on its invasion of Lebanon);
    # without one it is listed, so the reader knows that side was looked for, but not quoted
    picked = [_candidates(items, records, QUOTE_CANDIDATES * quotes) for _, _, items in listed]
    topic_words = _words(topic)
    needs = [
        None if items[0][0] >= MIN_STRENGTH * strongest else _others(topic_words, own_words.get(key, set()))
        for _, key, items in listed
    ]
    quoted = sorted({pid for some in picked for _, pid, _ in some})
    texts, held = store.passages(quoted), store.sentences(quoted)  # one read for every actor's quotes
    out = []
    for n_, (score, key, items) in enumerate(listed):
        docs = {records[pid].doc_id for _, pid, _ in items}
        dates = sorted(
            (date_range(records[pid].date)[0] or "", records[pid].date) for _, pid, _ in items if records[pid].date
        )
        chosen = (
            _quotes(picked[n_], quotes, texts, held, actors, qvec, topic, wanted, floor, needs[n_]) if quotes else ()
        )
        kind = actors[items[0][2]].kind if by == "speaker" else None
        out.append(
            Position(
                key,
                round(score, 6),
                len(docs),
                len(items),
                dates[0][1] if dates else None,
                dates[-1][1] if dates else None,
                tuple(chosen),
                kind,
                key in parties,
            )
        )
    return out


def _parties(engine: Engine, topic: str, by: str, where: Filter | None, strongest: list[int], scored_sentences):
    """The parties of ``topic``, each with the filter that narrows ``where`` to its passages: the
    person actors (``by="speaker"``) or the countries (``by`` a metadata field, where the index has a
    ``country`` field) that the topic names, or that PARTY_MENTIONS of the ``strongest`` passages
    name when someone else speaks them (Pakistan's passages on Kashmir name India)."""
    from .reading import MIN_SENTENCES, named_countries, short_forms, speaker_names

    store = engine.store
    base = where or Filter()
    if by == "speaker":
        asking = {store.actors[i].name for i in store.askers() if i in store.actors}
        finder = speaker_names({k: v for k, v in engine.speaker_counts().items() if k not in asking})
        in_topic = finder.find(topic)

        def names(text: str) -> set:
            # in a passage, only a speaker of some standing: a heading read as a label is not a party
            return finder.find(text, MIN_SENTENCES, every=True)

        def speaks(name, pid: int, rec) -> bool:
            said = scored_sentences.get(pid, NO_SCORES).speakers.tolist()
            return any(store.actors[i].name == name for i in said if i in store.actors)

        def narrowed(name) -> Filter:
            return replace(base, speakers=tuple(sorted(i for i, a in store.actors.items() if a.name == name)))

        def own_words(name) -> set[str]:
            return _words(name)

    elif by not in BUILTIN and "country" in store.metadata_fields():
        # a party is a value of ``by``, named by any name of a country its documents carry ("USA":
        # "United States of America", "United States" and "USA", as the corpus gives it over the years)
        if by == "country":
            names_of = {value: {value} for value in store.metadata_values("country")}
        else:
            names_of = store.metadata_pairs(by, "country")
        countries = set().union(*names_of.values())

        def keys(groups) -> set:
            return {key for group in groups for key, known in names_of.items() if known & group}

        def names(text: str) -> set:
            return keys(named_countries(text, countries))

        in_topic = keys(named_countries(topic, countries, fold=True))

        def speaks(key, pid: int, rec) -> bool:
            return _key(by, rec) == key

        def narrowed(key) -> Filter:
            return replace(base, where=(*base.where, (by, (key,))))

        def own_words(key) -> set[str]:
            return _words(" ".join([key, *names_of.get(key, ()), *short_forms(names_of.get(key, set()))]))

    else:
        return []
    found = set(in_topic)
    mentions: dict = defaultdict(set)
    for pid, rec in store.passages(strongest[:PARTY_PASSAGES], metadata=by != "speaker").items():
        for name in names(rec.text):
            if not speaks(name, pid, rec):
                mentions[name].add(rec.doc_id)
    named = {name for name, docs in mentions.items() if len(docs) >= PARTY_MENTIONS}
    return [(name, narrowed(name), name in found, own_words(name)) for name in sorted(found | named)]


def _heard(by: str, able: list[int], records, scored_sentences, actors, speaking: set[int], tau: float) -> set[str]:
    """The actor keys the pool already hears: those of its passages above τ (``able``); for speakers,
    those ``speaking`` with a sentence of their own above τ in one (a greeting beside the answer is not
    enough)."""
    if by != "speaker":
        return {key for pid in able if pid in records and (key := _key(by, records[pid])) is not None}
    heard = set()
    for pid in able:
        found = scored_sentences.get(pid, NO_SCORES)
        for i, sim in zip(found.speakers.tolist(), found.scores.tolist()):
            if sim > tau and i in speaking:
                heard.add(actors[i].name)
    return heard


def _candidates(items, records, most: int) -> list[tuple[float, int, int | None]]:
    """An actor's best-gaining passages, ``most`` of them and ``PER_DOCUMENT`` of one document at most,
    each gaining at least ``MIN_STRENGTH`` of its best (a passage that only brushes the topic is not
    quoted)."""
    picked: list[tuple[float, int, int | None]] = []
    docs: dict[str, int] = defaultdict(int)
    for gain, pid, sid in items:  # best gain first
        if 0 < items[0][0] and gain < MIN_STRENGTH * items[0][0]:
            break
        doc = records[pid].doc_id
        if docs[doc] < PER_DOCUMENT:
            docs[doc] += 1
            picked.append((gain, pid, sid))
            if len(picked) == most:
                break
    return picked


def _quotes(
    picked, quotes, texts, sentences, actors, qvec, topic, wanted, floor, needs: set[str] | None = None
) -> tuple[Quote, ...]:
    """An actor's best ``quotes``: among its best-gaining passages (``picked``), those whose best
    sentence (its own, for a speaker) is closest to the topic — the quote is the sentence, so it is the
    sentence that must be on the topic, not only the passage around it. With ``needs`` (words), only a
    sentence that holds one of them is a quote (a weak party's; ``_named_in``)."""
    from .retrieval import best_sentence

    found = []
    for gain, pid, sid in picked:
        rec = texts[pid]
        held = sentences.get(pid, NO_SENTENCES)
        only = frozenset([sid]) if sid is not None else frozenset(wanted or ())
        if needs is None:
            a, b, i = best_sentence(held, qvec, rec, topic, only, floor)
        else:
            a, b, i = _named_in(held, qvec, rec, only, needs)
            if i < 0:
                continue
        closeness = float(held.vectors[i] @ qvec) if i >= 0 and held.vectors.size else gain
        found.append((closeness, gain, rec, a, b, held.speakers[i] if i >= 0 else -1))
    found.sort(key=lambda f: (-f[0], -f[1], f[2].doc_id, f[3]))
    # the closest sentences, from as many documents as there are quotes, then from any
    seen: set[str] = set()
    first, rest = [], []
    for f in found:
        (rest if f[2].doc_id in seen else first).append(f)
        seen.add(f[2].doc_id)
    ordered = first + rest
    chosen = []
    for _, gain, rec, a, b, sid in ordered[:quotes]:
        said = actors.get(int(sid))
        chosen.append(
            Quote(
                rec.doc_id,
                rec.title,
                rec.date,
                rec.start,
                rec.end,
                a,
                b,
                rec.text[a - rec.start : b - rec.start],
                said.name if said else None,
                said.kind if said else None,
                round(gain, 6),
                rec.text,
            )
        )
    return tuple(chosen)


def _named_in(held, qvec, rec, only: frozenset[int], needs: set[str]) -> tuple[int, int, int]:
    """The sentence of a passage closest to the topic among those (the actor's, if ``only``) that hold
    a word of ``needs`` (or a word it begins: "Cuba" in "Cuban"); ``(-1, -1, -1)`` if none does."""
    best, found = -2.0, (-1, -1, -1)
    for i, (a, b) in enumerate(held.spans.tolist()):
        if only and int(held.speakers[i]) not in only:
            continue
        words = _words(rec.text[a - rec.start : b - rec.start])
        if not any(w.startswith(n) for w in words for n in needs):
            continue
        closeness = float(held.vectors[i] @ qvec)
        if closeness > best:
            best, found = closeness, (a, b, i)
    return found


def _words(text: str) -> set[str]:
    """The words of ``text`` a lexical search would look for, lower case, of three letters or more."""
    return {w for w in query_words(text) if len(w) >= 3}


def _others(topic_words: set[str], own: set[str]) -> set[str]:
    """The topic's words that say which matter it is: not a party's own names (nor their adjectives:
    "Russian"), nor the words that only say what kind of matter or how it relates (``KIND_WORDS``)."""
    return {
        w for w in topic_words - KIND_WORDS if w not in own and not any(w.startswith(o) for o in own if len(o) >= 4)
    }
