"""Speakers in retrieval on the Kremlin index: the dev figures with questions read for the actor they
name (the default) and read literally, the speaker filter, and questions of our own that name a speaker.

    python scripts/evaluate_actors.py [--index build/kremlin] [--no-write]

- Kremlin dev (``../shared/eval/kremlin-dev``): nDCG@10 (documents by best passage), evidence hit@5
  (a quote inside one of the first 5 passages) and how often the hit's highlighted sentence overlaps
  the quote, for all 30 queries and for the 4 that name Putin (d11, d18, d19, d20); default against
  ``literal=True``.
- ``--speaker Putin`` on "What did Putin say about a peace treaty with Japan?": every hit's speaker,
  and whether its best sentence lies in a Putin turn.
- Our own questions naming a speaker (``OWN`` below, written before they were run): the share of the
  first 5 hits whose best sentence that speaker says, default against literal.
"""

from __future__ import annotations

import argparse

from harness import ROOT, SHARED, stamp, write_section

from search import Engine
from search.evaluation import evaluate, load_qrels, load_queries
from search.evidence import evidence_hits, load_evidence
from search.speakers import document_turns

DEV = SHARED / "eval" / "kremlin-dev"
NAMED = ("d11", "d18", "d19", "d20")  # the dev questions that name a speaker (Putin)
OWN = [
    ("What did Putin say about the Kuril Islands?", "Vladimir Putin"),
    ("What does Putin think about NATO expansion?", "Vladimir Putin"),
    ("What did Peskov say about the Skripal case?", "Dmitry Peskov"),
    ("What did Medvedev say about joining the WTO?", "Dmitry Medvedev"),
    ("How does Xi Jinping view cooperation with Russia?", "Xi Jinping"),
    ("What did Shinzo Abe say about the peace treaty?", "Shinzo Abe"),
    ("What did Erdogan say about the TurkStream pipeline?", "Recep Tayyip Erdogan"),
    ("What did Angela Merkel say about Ukraine?", "Angela Merkel"),
    ("What does Nazarbayev think about the Eurasian Economic Union?", "Nursultan Nazarbayev"),
    ("What did Sechin say about oil production cuts?", "Igor Sechin"),
    ("What did Alexei Miller say about gas supplies to Europe?", "Alexei Miller"),
    ("What did Andrei Vandenko ask about the Constitution?", "Andrei Vandenko"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=str(ROOT / "build" / "kremlin"))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    engine = Engine.open(args.index)
    queries = load_queries(DEV / "queries.jsonl")
    qrels = load_qrels(DEV / "qrels" / "test.tsv")
    evidence = load_evidence(DEV / "evidence.jsonl")
    rows = [
        "",
        stamp("evaluate_actors.py"),
        "",
        f"Kremlin index ({engine.store.passage_count:,} passages), hybrid, defaults.",
        "",
        "| queries | reading | nDCG@10 | evidence hit@5 | best sentence on the quote |",
        "|---|---|---|---|---|",
    ]
    for label, subset in (("all 30", None), ("4 naming Putin", NAMED)):
        asked = {q: t for q, t in queries.items() if subset is None or q in subset}
        for reading, literal in (("actor first (default)", False), ("literal", True)):
            nd = evaluate(engine, asked, qrels, literal=literal).metrics["ndcg@10"]
            ev = evidence_hits(engine, asked, evidence, literal=literal)
            rows.append(f"| {label} | {reading} | {nd:.4f} | {ev.hit_at[5]:.2f} | {ev.sentence_overlap:.2f} |")
            print(rows[-1], flush=True)

    question = "What did Putin say about a peace treaty with Japan?"
    hits = engine.search(question, k=10, speaker="Putin")
    in_turn = 0
    for h in hits:
        doc = engine.document(h.doc_id)
        turns = [t for t in document_turns(doc.text, doc.metadata, doc.title) if t.actor == "Vladimir Putin"]
        in_turn += any(t.start <= h.sentence_start < t.end for t in turns)
    rows += [
        "",
        f'`fpsearch query "{question}" --speaker Putin`: {len(hits)} hits, '
        f'{sum(h.speaker == "Vladimir Putin" for h in hits)} with speaker "Vladimir Putin", '
        f"{in_turn} with the best sentence inside a Putin turn.",
    ]
    print("| question | speaker | read as | spoken, actor first | theirs, actor first | spoken, literal |")
    spoken = {False: [], True: []}
    theirs = []
    for q, actor in OWN:
        reading = engine.read(q)
        cells = []
        for literal in (False, True):
            top = engine.search(q, k=5, literal=literal)
            spoken[literal].append(sum(h.speaker == actor for h in top))
            cells.append(str(spoken[literal][-1]))
            if not literal:
                theirs.append(sum(bool(h.reading) for h in top) if reading else spoken[False][-1])
                cells.append(str(theirs[-1]))
        print(f"| {q} | {actor} | {reading.actor if reading else '—'} | {' | '.join(cells)} |", flush=True)
    total = 5 * len(OWN)
    rows += [
        "",
        f"{len(OWN)} questions of our own that name a speaker (`OWN` in the script; each one's counts go to "
        f"stdout): of their {total} first-5 hits, **{sum(spoken[False])}** have the speaker's own sentence as "
        f"their best sentence with the actor first (default), {sum(spoken[True])} literally; {sum(theirs)} are "
        "theirs (spoken, or a report naming them where nobody's turn is given).",
        "",
    ]
    print("\n".join(rows[-2:]))
    if not args.no_write:
        write_section("evaluate_actors.py", rows, "### Speakers in retrieval")


if __name__ == "__main__":
    main()
