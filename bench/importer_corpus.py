"""Score and time the importer on every corpus with gold, and write the tables of docs/importer.md.

    .venv/bin/python bench/importer_corpus.py                 # print the tables
    .venv/bin/python bench/importer_corpus.py --write         # also rewrite them in docs/importer.md

Three corpora: the five shared plans (shared/plans, the ones the importer was first developed on), the 14
plans written here (tests/fixtures/importer/unseen) and the 19 real documents (tests/fixtures/importer/real).
Each document is extracted `--runs` times in this process; the table gives the time of the first extraction
(the importer's caches cold for that document's text) and the median of the runs, extraction alone (bytes
in, typed result out), and the scorer's counts (shared/tools/score_import.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.importer import extract_plan  # noqa: E402

SCORER = Path("/work/shared/tools/score_import.py")
CORPORA = [
    ("The five shared plans", Path("/work/shared/plans"), Path("/work/shared/plans/gold")),
    ("The 14 plans written here", ROOT / "tests/fixtures/importer/unseen", ROOT / "tests/fixtures/importer/unseen"),
    ("The 19 real documents", ROOT / "tests/fixtures/importer/real", ROOT / "tests/fixtures/importer/real"),
]
START, END = "<!-- corpus-tables:start -->", "<!-- corpus-tables:end -->"


def _scorer():
    spec = importlib.util.spec_from_file_location("score_import", SCORER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _score(s, gold: dict, got: dict) -> dict[str, int]:
    gold_tasks, got_tasks = gold.get("tasks", []), got.get("tasks") or []
    matched = s.match_tasks(gold_tasks, got_tasks)
    out = dict(tg=len(gold_tasks), tm=len(matched), te=len(got_tasks), dg=0, dm=0, rg=0, rm=0)
    for index, task in enumerate(gold_tasks):
        dates = {d["date"] for d in task.get("deadlines", []) if d.get("date") and d.get("kind") != "target"}
        recurrence = s.recur_set(task.get("recurrence"))
        out["dg"] += len(dates)
        out["rg"] += bool(recurrence)
        if index in matched:
            found = got_tasks[matched[index]]
            out["dm"] += len(dates & s.dates_of(found))
            out["rm"] += bool(recurrence & s.recur_set(found.get("recurrence")))
    out["vm"], out["vg"] = s.target_hits(gold.get("targets", []), got.get("targets") or [])
    return out


def _ratio(hit: int, total: int) -> str:
    return f"{hit / total:.2f}" if total else "–"


def _table(title: str, docs: Path, golds: Path, runs: int, s) -> tuple[str, dict[str, int], float]:
    rows = [
        "| document | tasks | extracted | deadlines | recurrence | target values | ms (first) | ms (median) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    totals: dict[str, int] = {}
    slowest = 0.0
    for gold_file in sorted(golds.glob("*.json")):
        gold = json.loads(gold_file.read_text(encoding="utf-8"))
        data = (docs / gold["document"]).read_bytes()
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            got = extract_plan(data, gold["document"]).to_dict()
            times.append(time.perf_counter() - started)
        median, first = statistics.median(times) * 1000, times[0] * 1000
        slowest = max(slowest, first)
        c = _score(s, gold, got)
        for key, value in c.items():
            totals[key] = totals.get(key, 0) + value
        rows.append(
            f"| {gold['document']} | {c['tm']}/{c['tg']} | {c['te']} | {c['dm']}/{c['dg']} | {c['rm']}/{c['rg']} "
            f"| {c['vm']}/{c['vg']} | {first:.0f} | {median:.0f} |"
        )
    t = totals
    summary = (
        f"tasks R={_ratio(t['tm'], t['tg'])} P={_ratio(t['tm'], t['te'])} deadlines R={_ratio(t['dm'], t['dg'])} "
        f"recurrence R={_ratio(t['rm'], t['rg'])} targets R={_ratio(t['vm'], t['vg'])}"
    )
    text = f"### {title}\n\n{summary}; slowest first extraction {slowest:.0f} ms\n\n" + "\n".join(rows) + "\n"
    return text, t, slowest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="rewrite the tables in docs/importer.md")
    args = parser.parse_args()
    s = _scorer()
    parts = [f"Measured on {date.today().isoformat()} with `bench/importer_corpus.py --runs {args.runs}` "
             f"(extraction only, one process, on a 2-core machine shared with other work).\n"]
    for title, docs, golds in CORPORA:
        text, _totals, _slowest = _table(title, docs, golds, args.runs, s)
        parts.append(text)
    output = "\n".join(parts)
    print(output)
    if args.write:
        path = ROOT / "docs/importer.md"
        page = path.read_text(encoding="utf-8")
        page = re.sub(re.escape(START) + r".*?" + re.escape(END), f"{START}\n{output}\n{END}", page, flags=re.S)
        path.write_text(page, encoding="utf-8")


if __name__ == "__main__":
    main()
