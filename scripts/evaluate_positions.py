"""Positions on a UN General Debate index: are the principal parties of a topic among its top actors,
and is each actor's first quote on the topic?

    python scripts/evaluate_positions.py [--index build/ungd] [--build] [--no-write]

The index holds three whole sessions of the UN General Debate (``../shared/corpus/ungdc_1946_2024.jsonl.gz``):
1982 (37th), 2015 (70th) and 2022 (77th), every speech, as the corpus gives it; ``--build`` builds it
(about 12,000 passages, ~10 minutes on 2 cores). Topics are disputes and crises whose principal parties
any analyst would name — written down before the index was first queried, and not changed after.
For each topic, ``positions(topic, by="country_iso3", n=10)`` is asked for the top 10 countries:

- **parties**: whether every principal party that speaks in that session is among them (a party with
  no speech in the corpus that year is reported, and not counted against the topic);
- **first quotes on topic**: the share of the listed countries whose first quote is on the topic, as
  judged by reading it (``scripts/data/positions_quotes.jsonl``: the 120 first quotes of the first
  run, before actors that only brush a topic were left out, and 8 more read when the parties came in,
  2026-12-07); a quote not judged there is counted by whether its sentence names the topic (its
  pattern below), and the table says how many were. A party listed without a quote (``positions``
  quotes a party short of the bar every actor must pass only from a sentence that names what the topic
  is about) has no first quote to count; the report names them.

It also prints the attribution figures of ``scripts/evaluate_speakers.py``'s samples, which this
report is the other half of.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

from harness import ROOT, SHARED, stamp, write_section

from search import Engine, build
from search.store import index_exists

HERE = Path(__file__).resolve().parent

SESSIONS = (37, 70, 77)
# (topic, session year, principal parties by ISO3, what a quote on the topic names)
TOPICS = [
    ("sovereignty over the Falkland Islands (Malvinas)", "1982", ("ARG", "GBR"), r"Malvinas|Falkland"),
    (
        "self-determination of the people of Western Sahara",
        "1982",
        ("MAR", "DZA"),
        r"Sahara|Saharan|POLISARIO|Polisario|Saharawi|Sahraoui",
    ),
    ("the war between Iran and Iraq", "1982", ("IRN", "IRQ"), r"Iran|Iraq|Gulf war"),
    ("Israel's invasion of Lebanon", "1982", ("LBN", "ISR"), r"Lebanon|Lebanese|Beirut"),
    ("hosting millions of Syrian refugees", "2015", ("TUR", "LBN", "JOR"), r"refugee|displaced|migra|asylum"),
    (
        "sea-level rise threatens the survival of small island states",
        "2015",
        ("TUV", "KIR", "MDV"),
        r"sea[- ]level|climate|rising (sea|ocean)|island|ocean",
    ),
    ("Crimea and the conflict in eastern Ukraine", "2015", ("UKR", "RUS"), r"Crimea|Ukrain|Donbas|Donbass|Minsk"),
    ("the reunification of Cyprus", "2015", ("CYP", "TUR", "GRC"), r"Cyprus|Cypriot"),
    ("the United States embargo against Cuba", "2022", ("CUB",), r"embargo|blockade|Cuba"),
    ("the Kashmir dispute", "2022", ("PAK", "IND"), r"Kashmir|Jammu"),
    (
        "the conflict between Armenia and Azerbaijan over Nagorno-Karabakh",
        "2022",
        ("ARM", "AZE"),
        r"Karabakh|Armenia|Azerbaijan|Lachin",
    ),
    (
        "the Grand Ethiopian Renaissance Dam and the waters of the Nile",
        "2022",
        ("EGY", "ETH"),
        r"Nile|Renaissance Dam|GERD|dam\b|water",
    ),
]


def build_index(index: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        part = Path(tmp) / "ungd_sessions.jsonl"
        with (
            gzip.open(SHARED / "corpus" / "ungdc_1946_2024.jsonl.gz", "rt", encoding="utf-8") as src,
            open(part, "w", encoding="utf-8") as out,
        ):
            for line in src:
                if json.loads(line)["session"] in SESSIONS:
                    out.write(line)
        build([part], index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "build" / "ungd")
    parser.add_argument("--build", action="store_true", help="build the index first if it is missing")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    if not index_exists(args.index):
        if not args.build:
            raise SystemExit(f"no index at {args.index}: run with --build")
        started = time.perf_counter()
        build_index(args.index)
        print(f"built {args.index} in {time.perf_counter() - started:.0f} s", flush=True)
    engine = Engine.open(args.index)
    engine.store.preload(warm=False)
    judged = {
        (r["topic"], r["actor"], r["doc_id"], r["sentence_start"]): r["on_topic"]
        for r in map(json.loads, (HERE / "data" / "positions_quotes.jsonl").read_text().splitlines())
    }
    speaking = {(d.metadata.get("country_iso3"), (d.date or "")[:4]) for d in engine.store.iter_documents()}
    rows = [
        "",
        stamp("evaluate_positions.py"),
        "",
        f"UN General Debate sessions {', '.join(map(str, SESSIONS))} (1982, 2015, 2022; {engine.store.document_count:,} "
        f'speeches, {engine.store.passage_count:,} passages). `positions(topic, by="country_iso3", n=10, '
        "since=year, until=year)` per topic; topics and parties were written down before the index was first "
        "queried (`scripts/evaluate_positions.py`).",
        "",
        "| topic | year | principal parties | their ranks | all in top 10 | first quotes on topic | ms |",
        "|---|---|---|---|---|---|---|",
    ]
    hits, on_topic, total, times, unjudged, unquoted = 0, 0, 0, [], 0, []
    for topic, year, parties, pattern in TOPICS:
        started = time.perf_counter()
        found = engine.positions(topic, by="country_iso3", n=10, quotes=1, where=_year(year))
        times.append((time.perf_counter() - started) * 1000)
        ranks = {p.actor: n for n, p in enumerate(found, 1)}
        ok = all(party in ranks for party in parties if (party, year) in speaking)
        hits += ok
        named = re.compile(pattern, re.I)
        good = quoted = 0
        for p in found:
            if not p.quotes:
                unquoted.append(f"{p.actor} ({topic})")
                continue
            quoted += 1
            q = p.quotes[0]
            verdict = judged.get((topic, p.actor, q.doc_id, q.sentence_start))
            if verdict is None:
                unjudged += 1
                verdict = bool(named.search(q.sentence) or (len(q.sentence) < 60 and named.search(q.text)))
            good += verdict
        on_topic += good
        total += quoted
        shown = ", ".join(
            f"{party} {ranks.get(party, '—') if (party, year) in speaking else 'no speech'}" for party in parties
        )
        rows.append(
            f"| {topic} | {year} | {' '.join(parties)} | {shown} | {'yes' if ok else 'no'} | "
            f"{good}/{quoted} | {times[-1]:.0f} |"
        )
        print(rows[-1], flush=True)
        for p in found[:3]:
            print(f"    {p.actor:<4} {p.score:6.3f}  “{p.quotes[0].sentence[:110]}”" if p.quotes else f"    {p.actor}")
    rows += [
        "",
        f"Principal parties all in the top 10 for **{hits} of {len(TOPICS)}** topics "
        f"({hits / len(TOPICS):.0%}); first quotes on topic: **{on_topic} of {total}** ({on_topic / total:.0%}; "
        f"{total - unjudged} judged by reading, {unjudged} by pattern); median {statistics.median(times):.0f} ms "
        "a topic (the index in memory, one thread).",
        "",
        f"Listed as parties without a quote (nothing they say close to the topic names what it is about): "
        f"{', '.join(unquoted) if unquoted else 'none'}.",
        "",
    ]
    print("\n".join(rows[-4:]))
    if not args.no_write:
        write_section("evaluate_positions.py", rows, "### Positions")


def _year(year: str):
    from search.store import Filter

    return Filter.build(since=year, until=year)


if __name__ == "__main__":
    main()
