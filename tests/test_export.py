"""--format csv: one row per hit (or quote) with span, speaker and score, as a spreadsheet reads it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from search.cli import app
from search.export import HIT_COLUMNS, POSITION_COLUMNS

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_query_csv_has_a_row_per_hit_with_the_json_fields(real_index: Path) -> None:
    args = ("query", 'peace treaty, "Kuril" islands', "--index", str(real_index), "-k", "4")
    got = run(*args, "--format", "csv")
    assert got.exit_code == 0, got.output
    rows = list(csv.DictReader(io.StringIO(got.stdout, newline="")))
    hits = [json.loads(line) for line in run(*args, "--json").stdout.splitlines()]
    assert tuple(csv.reader(io.StringIO(got.stdout)).__next__()) == HIT_COLUMNS
    assert len(rows) == len(hits) == 4
    for row, hit in zip(rows, hits):
        assert row["query"] == 'peace treaty, "Kuril" islands'
        assert (row["doc_id"], int(row["start"]), int(row["end"])) == (hit["doc_id"], hit["start"], hit["end"])
        assert row["text"] == hit["text"], "line breaks and quotes survive the round trip"
        assert abs(float(row["score"]) - hit["score"]) < 1e-5
        assert row["speaker"] == (hit["speaker"] or "")
        s, e = int(row["sentence_start"]) - hit["start"], int(row["sentence_end"]) - hit["start"]
        assert row["sentence"] == hit["text"][s:e]


def test_positions_csv_has_a_row_per_quote(real_index: Path) -> None:
    args = ("positions", "Kuril Islands", "--index", str(real_index), "-n", "3", "--quotes", "2")
    rows = list(csv.DictReader(io.StringIO(run(*args, "--format", "csv").stdout, newline="")))
    found = [json.loads(line) for line in run(*args, "--json").stdout.splitlines()]
    assert list(rows[0]) == list(POSITION_COLUMNS)
    assert len(rows) == sum(max(len(p["quotes"]), 1) for p in found) > 0
    assert [r["actor"] for r in rows] == [p["actor"] for p in found for _ in (p["quotes"] or [None])]
    first = found[0]["quotes"][0]
    assert rows[0]["sentence"] == first["sentence"] and int(rows[0]["sentence_start"]) == first["sentence_start"]


def test_csv_and_json_together_or_an_unknown_format_is_one_line_error(real_index: Path) -> None:
    for extra in (["--json", "--format", "csv"], ["--format", "xlsx"]):
        result = run("query", "Kuril", "--index", str(real_index), *extra)
        assert result.exit_code == 2 and result.stderr.startswith("fpsearch: "), result.output
