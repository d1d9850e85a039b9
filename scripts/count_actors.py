"""How many actors the three corpora's speakers make, and how many names join one person's actor.

    python scripts/count_actors.py [--no-write]

Reads every document of ``../shared/corpus`` (Kremlin, White House briefings, UN General Debate) as an
index reads it: its speaker turns (``speakers.document_turns``), each named as its label gives it. Then
counts, per corpus and for the three together, the person names the labels give and the actors they make
once the names of one person are joined (``speakers.one_person``: names spelt alike, variants of a full
name, titles before a full name), as a reader of an index of those corpora answers with them. Turns
count each name's weight (an index counts sentences; this needs no index). Also counts the person names
that start with the White House press marker "Q" (a question read as someone's label), which should be
none; and who the offices that transcripts label alone (``THE PRESIDENT``) are, by their documents'
titles, with the dates of those documents. Writes the tables into BENCHMARKS.md ("Who said it").
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections import Counter

from harness import SHARED, stamp, write_section

from search.speakers import PERSON, document_turns, is_office, normalise, one_person, spelling

CORPORA = {
    "Kremlin": "kremlin_en.jsonl.gz",
    "White House": "whitehouse_briefings.jsonl.gz",
    "UN General Debate": "ungdc_1946_2024.jsonl.gz",
}


def person_turns(path, offices: dict | None = None) -> Counter:
    """Turns per person name in one corpus, as its labels (or ``speaker`` field) name them. With
    ``offices``, also, per office label (``THE PRESIDENT``) and the holder the document's title makes it
    (``speakers.office_holder``; the office itself where the title names nobody): documents, turns and
    the first and last date."""
    turns: Counter = Counter()
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            metadata = {k: v for k, v in doc.items() if k != "text"}
            found = document_turns(doc.get("text", ""), metadata, doc.get("title", ""))
            held: Counter = Counter()
            for turn in found:
                if turn.kind == PERSON:
                    turns[turn.actor] += 1
                    office = (normalise(turn.label) or ("",))[0]
                    if is_office(office):
                        held[office, turn.actor] += 1
            for key, n in held.items():
                if offices is not None:
                    entry = offices.setdefault(key, [0, 0, "9999", "0000"])
                    date = str(doc.get("date", ""))[:10]
                    entry[0] += 1
                    entry[1] += n
                    entry[2], entry[3] = min(entry[2], date), max(entry[3], date)
    return turns


def census(turns: Counter) -> dict:
    named = one_person(dict(turns))
    people: dict[str, list[str]] = {}
    for name, lead in named.items():
        people.setdefault(lead, []).append(name)
    joined = {lead: names for lead, names in people.items() if len(names) > 1}
    by_spelling = sum(1 for names in joined.values() if len({spelling(n) for n in names}) == 1)
    return {
        "names": len(turns),
        "actors": len(people),
        "joined": len(joined),
        "by_spelling": by_spelling,
        "press_q": sum(1 for name in turns if name.split()[0] == "Q"),
        "largest": sorted(joined.items(), key=lambda item: -sum(turns[n] for n in item[1]))[:8],
        "turns": turns,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    missing = [name for name in CORPORA.values() if not (SHARED / "corpus" / name).exists()]
    if missing:
        raise SystemExit(f"the corpora are not there: {', '.join(missing)} (in {SHARED / 'corpus'})")
    offices: dict = {}
    each = {label: person_turns(SHARED / "corpus" / name, offices) for label, name in CORPORA.items()}
    together: Counter = Counter()
    for turns in each.values():
        together.update(turns)
    rows = [
        "",
        stamp("count_actors.py"),
        "",
        "Person names as the corpora's labels give them, and the actors an index answers with once the names",
        "of one person are joined (`speakers.one_person`). `python scripts/count_actors.py`.",
        "",
        '| corpus | person names | actors | joined groups | of them spelt alike | names that are a press "Q" |',
        "|---|---|---|---|---|---|",
    ]
    results = {**each, "all three": together}
    for label, turns in results.items():
        c = census(turns)
        rows.append(
            f"| {label} | {c['names']:,} | {c['actors']:,} | {c['joined']:,} | {c['by_spelling']:,} | {c['press_q']} |"
        )
    largest = census(together)["largest"]
    rows += [
        "",
        "The largest joined groups over the three corpora (turns in brackets; the name first is the one shown):",
        "",
    ]
    for lead, names in largest:
        others = sorted((n for n in names if n != lead), key=lambda n: -together[n])
        shown = ", ".join(f"{n} ({together[n]:,})" for n in others)
        rows.append(f"- **{lead}** ({together[lead]:,}) ← {shown}")
    rows += [
        "",
        "Offices alone (`THE PRESIDENT:`) and who they are, by the title of their document (`speakers.office_holder`;",
        "the office itself where the title names nobody); read the dates against the terms of office:",
        "",
        "| label | actor | documents | turns | first | last |",
        "|---|---|---|---|---|---|",
    ]
    for (office, holder), (docs, n, first, last) in sorted(offices.items(), key=lambda item: -item[1][1]):
        rows.append(f"| {office} | {holder} | {docs:,} | {n:,} | {first} | {last} |")
    print("\n".join(rows))
    if not args.no_write:
        write_section("count_actors.py", rows)


if __name__ == "__main__":
    main()
