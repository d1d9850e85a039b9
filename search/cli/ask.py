"""Asking an index: ``query``, ``speakers``, ``positions``, ``doc``."""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional

import typer

from .. import config
from .common import (
    FormatOpt,
    IndexOpt,
    JsonOpt,
    ModelOpt,
    SpeakerOpt,
    _count,
    _err,
    _filter,
    _output_format,
    _plain,
    _progress,
    _span,
    _write_csv,
    app,
    handle_errors,
)


def _open_engine(index: str | None, model: str | None, rerank: str | None = None):
    from ..indexing import build
    from ..retrieval import Engine
    from ..store import index_exists

    root = config.index_location(index)
    if config.is_default_index(root) and not index_exists(root):
        corpus = config.default_corpus()
        _err(f"no index yet at {root}: building it from {corpus} first (once)")
        with _progress() as bar:
            build([corpus], root, config.model_name(model), progress=bar)
    return Engine.open(root, config.model_name(model), rerank)


def _show_hit(console, hit) -> None:
    """One hit: rank, title, date; ``doc_id:start-end`` and scores; the passage with its best
    sentence highlighted (bold on a terminal, between ``**`` in plain output)."""
    import textwrap

    from rich.text import Text

    a, b = hit.sentence_start - hit.start, hit.sentence_end - hit.start
    meta = f"{hit.doc_id}:{hit.start}-{hit.end}  score {hit.score:.4f}"
    if hit.cosine is not None and hit.cosine != hit.score:
        meta += f"  cosine {hit.cosine:.3f}"
    if hit.match:
        meta += f"  {hit.match} match"
    head = f"{hit.rank:>2}. {hit.title or hit.doc_id}" + (f" ({hit.date})" if hit.date else "")
    said = f" — {hit.speaker}" if hit.speaker else ""
    if console.is_terminal:
        console.print(Text(head, style="bold"))
        console.print(Text("    " + meta, style="dim"))
        body = Text("    ")
        for start, end, style in ((0, a, ""), (a, b, "bold yellow")):
            body.append(hit.text[start:end].replace("\n", "\n    "), style=style)
        body.append(said, style="italic cyan")
        body.append(hit.text[b:].replace("\n", "\n    "))
        console.print(body)
        console.print()
        return
    marked = hit.text[:a] + "**" + hit.text[a:b] + "**" + said + hit.text[b:]
    width = max(60, min(console.width, 100))
    lines = [head, "    " + meta]
    for para in marked.splitlines():
        lines.append(textwrap.fill(para, width, initial_indent="    ", subsequent_indent="    ") or "    ")
    console.print("\n".join(lines) + "\n", markup=False, highlight=False, soft_wrap=True)


@app.command()
@handle_errors
def query(
    text: Annotated[str, typer.Argument(help="What to search for.")],
    k: Annotated[int, typer.Option("-k", "--k", help="Number of hits.")] = 10,
    index: IndexOpt = None,
    model: ModelOpt = None,
    mode: Annotated[str, typer.Option(help="dense, lexical or hybrid.")] = "hybrid",
    per_doc: Annotated[int, typer.Option(help="Most passages from one document (0: no limit).")] = 2,
    since: Annotated[Optional[str], typer.Option(help="Only documents dated on/after (YYYY[-MM[-DD]]).")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only documents dated on/before (YYYY[-MM[-DD]]).")] = None,
    source: Annotated[Optional[list[str]], typer.Option(help="Only this source (repeatable).")] = None,
    where: Annotated[
        Optional[list[str]], typer.Option(help="Metadata filter FIELD=VALUE or FIELD=A|B (repeatable).")
    ] = None,
    fusion: Annotated[str, typer.Option(help="Hybrid fusion: weighted (scores) or rrf (ranks).")] = "weighted",
    weight: Annotated[float, typer.Option(help="Dense weight of --fusion weighted (0..1).")] = 0.5,
    mmr: Annotated[Optional[float], typer.Option(help="Diversify with MMR; relevance weight λ in 0..1.")] = None,
    rerank: Annotated[
        Optional[str], typer.Option(help="Cross-encoder (folder or name) to rerank the top hits.")
    ] = None,
    exact: Annotated[bool, typer.Option("--exact", help="Exact vector search on an ANN index.")] = False,
    speaker: SpeakerOpt = None,
    literal: Annotated[
        bool,
        typer.Option(
            "--literal", help="Search the words as given: never read the query as asking what one actor says."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per hit and line.")] = False,
    fmt: FormatOpt = None,
) -> None:
    """Search the index and print ranked passages with their source spans."""
    from ..retrieval import SearchOptions, check_query

    out = _output_format(fmt, as_json)
    text = check_query(text)
    options = SearchOptions(  # the one check of the options, before the model loads
        k=k,
        mode=mode,
        per_doc=per_doc,
        where=_filter(since, until, source, where),
        mmr=mmr,
        exact=exact,
        fusion=fusion,
        weight=weight,
        speaker=speaker,
        literal=literal,
    )
    import threading

    from .. import language
    from ..strength import STRONG, best

    detector = threading.Thread(target=language.warm, daemon=True)  # its model loads beside the embedder
    detector.start()
    engine = _open_engine(index, model, rerank)
    hits = engine.answer([text], options)[0]
    detector.join()
    for warning in engine.warnings(text):
        _err(f"note: {warning}")
    strong = best(hit.match for hit in hits) in (STRONG, None)  # None: not known for this model
    if 0 < len(hits) < k:
        cap = f" (at most {per_doc} per document; --per-doc 0 lifts that)" if per_doc else ""
        _err(f"{_count(len(hits), 'hit')}, fewer than the {k:,} asked for: no more passages match{cap}")
    if out == "json":
        for hit in hits:
            typer.echo(json.dumps({"query": text, **hit.as_dict()}, ensure_ascii=False))
        return
    if out == "csv":
        from ..export import HIT_COLUMNS, hit_rows

        _write_csv(HIT_COLUMNS, hit_rows(text, hits))
        return
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=False)
    if not hits:
        typer.echo("no hits")
    elif hits[0].reading:
        typer.echo(f"answering with {hits[0].reading} first (--literal searches the words as given)\n")
    if hits and not strong:
        typer.echo("no strong match; the closest passages:\n")
    for hit in hits:
        _show_hit(console, hit)


@app.command()
@handle_errors
def speakers(
    index: IndexOpt = None,
    kind: Annotated[Optional[str], typer.Option(help="Only this kind: person or floor.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per actor and line.")] = False,
) -> None:
    """List the actors the index attributes sentences to, with their counts, most sentences first."""
    actors = _open_engine(index, None).speakers(kind)
    if as_json:
        for a in actors:
            typer.echo(json.dumps(a.as_dict(), ensure_ascii=False))
        return
    if not actors:
        typer.echo("no speakers: this index holds no transcripts with speaker turns, nor speakers in metadata")
    for a in actors:
        typer.echo(
            f"{a.sentences:>8,} sentences {a.passages:>7,} passages {a.documents:>6,} documents  "
            f"{a.name}" + (" (floor)" if a.kind == "floor" else " (asks: no side in positions)" if a.asks else "")
        )


@app.command()
@handle_errors
def positions(
    topic: Annotated[str, typer.Argument(help="The topic, as you would search for it.")],
    by: Annotated[
        str, typer.Option(help="Group by speaker, year, source or a metadata field (country, ...).")
    ] = "speaker",
    n: Annotated[int, typer.Option("-n", help="Number of actors.")] = 10,
    quotes: Annotated[int, typer.Option(help="Quotes per actor.")] = 2,
    index: IndexOpt = None,
    model: ModelOpt = None,
    since: Annotated[Optional[str], typer.Option(help="Only documents dated on/after (YYYY[-MM[-DD]]).")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only documents dated on/before (YYYY[-MM[-DD]]).")] = None,
    source: Annotated[Optional[list[str]], typer.Option(help="Only this source (repeatable).")] = None,
    where: Annotated[
        Optional[list[str]], typer.Option(help="Metadata filter FIELD=VALUE or FIELD=A|B (repeatable).")
    ] = None,
    speaker: SpeakerOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per actor and line.")] = False,
    fmt: FormatOpt = None,
) -> None:
    """What each actor says about a topic: actors ranked by how strongly and how much they speak to
    it, each with its counts, first and last date, and best quotes. The parties of the topic (the
    actors it names, or that others' passages on it name) are searched in their own words and marked."""
    from ..retrieval import check_query

    out = _output_format(fmt, as_json)
    check_query(topic, what="topic")  # before a first query builds the default index
    filt = _filter(since, until, source, where)
    engine = _open_engine(index, model)
    found = engine.positions(topic, by=by, n=n, quotes=quotes, where=filt, speaker=speaker)
    if out == "json":
        for p in found:
            typer.echo(json.dumps({"topic": topic, "by": by, **p.as_dict()}, ensure_ascii=False))
        return
    if out == "csv":
        from ..export import POSITION_COLUMNS, position_rows

        _write_csv(POSITION_COLUMNS, position_rows(topic, by, found))
        return
    if not found:
        typer.echo(f"no {by} speaks to this topic in the index")
    import textwrap

    for rank, p in enumerate(found, 1):
        span = p.first_date if p.first_date == p.last_date else f"{p.first_date} – {p.last_date}"
        typer.echo(
            f"{rank:>2}. {p.actor}  score {p.score:.3f}  {p.documents} documents, {p.passages} passages"
            + (f"  ({span})" if span else "")
            + ("  · a party to the topic" if p.party else "")
        )
        if p.party and not p.quotes and quotes:
            typer.echo("      (named by the topic or by others on it; nothing it says names what the topic is about)")
        for q in p.quotes:
            said = f" — {q.speaker}" if q.speaker and q.speaker != p.actor else ""
            typer.echo(
                textwrap.fill(f"“{q.sentence}”{said}", 100, initial_indent="      ", subsequent_indent="       ")
            )
            typer.echo(f"       {q.title} ({q.date})  {q.doc_id}:{q.sentence_start}-{q.sentence_end}")
        typer.echo("")


@app.command()
@handle_errors
def doc(
    doc_id: Annotated[str, typer.Argument(help="Document id, as shown in hits.")],
    index: IndexOpt = None,
    start: Annotated[
        Optional[int], typer.Option(help="First character to show: text[start:end], offsets as in hits [0].")
    ] = None,
    end: Annotated[
        Optional[int], typer.Option(help="Character after the last one to show: text[start:end] [end of the text].")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print a stored document: id, title, date, metadata and full text."""
    from ..store import open_store

    store = open_store(config.index_location(index))
    d = store.document(doc_id)
    span = _span(d.text, start, end)
    if as_json:
        out: dict[str, Any] = {
            "doc_id": d.doc_id,
            "title": d.title,
            "date": d.date,
            "source": d.source,
            "hash": d.hash,
            "metadata": d.metadata,
            "text": d.text,
        }
        if span is not None:
            out.update(start=span[0], end=span[1], span=d.text[span[0] : span[1]])
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    typer.echo(f"{d.doc_id}  {d.title}" + (f"  ({d.date})" if d.date else ""))
    typer.echo(f"source: {d.source}  ({len(d.text):,} characters)")
    if d.metadata:
        typer.echo("metadata:")
        width = min(14, max(len(key) for key in d.metadata) + 1)
        for key, value in d.metadata.items():
            typer.echo(f"  {key + ':':<{width}} {_plain(value)}")
    if span is not None:
        typer.echo(f"characters {span[0]:,}-{span[1]:,}:")
    typer.echo("")
    typer.echo(d.text if span is None else d.text[span[0] : span[1]])
