"""How many actors the three corpora's speakers make, and how many names join one person's actor.

    python scripts/count_actors.py [--no-write]

Reads every document of ``../shared/corpus`` (Kremlin, White House briefings, UN General Debate) as an
index reads it: its speaker turns (``speakers.document_turns``), each named as its label gives it. Then
counts, per corpus and for the three together, the person names the labels give and the actors they make
once the names of one person are joined (``speakers.one_person``: names spelt alike, variants of a full
name, titles before a full name), as a reader of an index of those corpora answers with them. Turns
count each name's weight (an index counts sentences; this needs no index). Also counts the person names
that start with the White House press marker "Q" (a question read as someone's label), which should be
none. Writes the table into BENCHMARKS.md ("Who said it").
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections import Counter

from harness import SHARED, stamp, write_section

from search.speakers import PERSON, document_turns, one_person, spelling

CORPORA = {
    "Kremlin": "kremlin_en.jsonl.gz",
    "White House": "whitehouse_briefings.jsonl.gz",
    "UN General Debate": "ungdc_1946_2024.jsonl.gz",
}


def person_turns(path) -> Counter:
    """Turns per person name in one corpus, as its labels (or ``speaker`` field) name them."""
    turns: Counter = Counter()
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            metadata = {k: v for k, v in doc.items() if k != "text"}
            for turn in document_turns(doc.get("text", ""), metadata):
                if turn.kind == PERSON:
                    turns[turn.actor] += 1
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
    each = {label: person_turns(SHARED / "corpus" / name) for label, name in CORPORA.items()}
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
    print("\n".join(rows))
    if not args.no_write:
        write_section("count_actors.py", rows)


if __name__ == "__main__":
    main()
