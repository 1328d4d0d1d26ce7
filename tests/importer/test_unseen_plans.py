"""Plans the importer was not developed on, scored with the shared scorer's own matching rules.

tests/fixtures/importer/unseen holds plans on other subjects, levels and layouts (post-2025 communes and
wards, a province, district-era plans), each with a gold extraction written by hand before the importer
was run on it. The thresholds are the extraction contract's (shared/plans/README.md).
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path

import pytest

from tracker.importer import extract_plan

from .builders import DEJAVU, UNSEEN, docx_from_lines, lines_of, pdf_from_lines, unseen_names

SCORER = Path("/work/shared/tools/score_import.py")
MIN_TASK_RECALL, MIN_TASK_PRECISION, MIN_TARGET_RECALL = 0.95, 0.85, 0.85

needs_scorer = pytest.mark.skipif(not SCORER.exists(), reason=f"{SCORER} is absent")
needs_font = pytest.mark.skipif(not DEJAVU.exists(), reason=f"{DEJAVU} is absent (apt: fonts-dejavu-core)")


@cache
def _scorer():
    spec = importlib.util.spec_from_file_location("score_import", SCORER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _gold(name: str) -> dict:
    return json.loads((UNSEEN / f"{name}.json").read_text(encoding="utf-8"))


@cache
def _extracted(name: str) -> dict:
    document = _gold(name)["document"]
    return extract_plan((UNSEEN / document).read_bytes(), document).to_dict()


def _score(gold: dict, got: dict) -> dict[str, int]:
    """Count what the scorer counts for one document: matched tasks, deadlines, recurrences, target values."""
    score = _scorer()
    gold_tasks, got_tasks = gold.get("tasks", []), got.get("tasks") or []
    matched = score.match_tasks(gold_tasks, got_tasks)
    counts = dict(tg=len(gold_tasks), tm=len(matched), te=len(got_tasks), dg=0, dm=0, rg=0, rm=0)
    for index, task in enumerate(gold_tasks):
        dates = {d["date"] for d in task.get("deadlines", []) if d.get("date") and d.get("kind") != "target"}
        recurrence = score.recur_set(task.get("recurrence"))
        counts["dg"] += len(dates)
        counts["rg"] += bool(recurrence)
        if index in matched:
            found = got_tasks[matched[index]]
            counts["dm"] += len(dates & score.dates_of(found))
            counts["rm"] += bool(recurrence & score.recur_set(found.get("recurrence")))
    counts["vm"], counts["vg"] = score.target_hits(gold.get("targets", []), got.get("targets") or [])
    return counts


def _ratio(hit: int, total: int) -> float:
    return hit / total if total else 1.0


@needs_scorer
def test_unseen_plans_meet_the_contract_thresholds() -> None:
    names = unseen_names()
    assert len(names) >= 5
    totals: dict[str, int] = {}
    rows = []
    for name in names:
        counts = _score(_gold(name), _extracted(name))
        rows.append(f"{name}: {counts}")
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    report = "\n".join(rows)
    assert _ratio(totals["tm"], totals["tg"]) >= MIN_TASK_RECALL, report
    assert _ratio(totals["tm"], totals["te"]) >= MIN_TASK_PRECISION, report
    assert _ratio(totals["dm"], totals["dg"]) == 1.0, report
    assert _ratio(totals["rm"], totals["rg"]) == 1.0, report
    assert _ratio(totals["vm"], totals["vg"]) >= MIN_TARGET_RECALL, report


@needs_scorer
@pytest.mark.parametrize("name", unseen_names())
def test_each_unseen_plan_keeps_every_deadline_and_recurrence(name: str) -> None:
    # Per document, so a regression names the plan (and layout) it broke.
    counts = _score(_gold(name), _extracted(name))
    assert counts["tm"] == counts["tg"], counts
    assert (counts["dm"], counts["rm"]) == (counts["dg"], counts["rg"]), counts


@pytest.mark.parametrize("name", unseen_names())
def test_unseen_plan_header_facts(name: str) -> None:
    gold, got = _gold(name), _extracted(name)
    assert (got["issuer"], got["plan_number"], got["issued"]) == (gold["issuer"], gold["plan_number"], gold["issued"])
    assert got["period_end"] == gold["period_end"]


def _task_keys(result: dict) -> set[tuple]:
    return {
        (t["section"], t["unit"], tuple(sorted(d["date"] for d in t["deadlines"])), json.dumps(t["recurrence"]))
        for t in result["tasks"]
    }


def _target_keys(result: dict) -> set[tuple]:
    return {(t["indicator"], t["responsible"], json.dumps(t["values"], sort_keys=True)) for t in result["targets"]}


def _text(name: str) -> str:
    return (UNSEEN / _gold(name)["document"]).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", unseen_names())
def test_unseen_plan_as_docx_gives_the_same_tasks(name: str) -> None:
    result = extract_plan(docx_from_lines(lines_of(_text(name))), f"{name}.docx").to_dict()
    assert _task_keys(result) == _task_keys(_extracted(name))
    assert _target_keys(result) == _target_keys(_extracted(name))


@needs_font
@pytest.mark.parametrize("name", unseen_names())
def test_unseen_plan_as_pdf_gives_the_same_tasks(name: str) -> None:
    result = extract_plan(pdf_from_lines(lines_of(_text(name))), f"{name}.pdf").to_dict()
    assert _task_keys(result) == _task_keys(_extracted(name))
    assert _target_keys(result) == _target_keys(_extracted(name))


@needs_font
@pytest.mark.parametrize("name", unseen_names())
def test_unseen_plan_rewrapped_in_a_narrower_pdf_keeps_the_tasks(name: str) -> None:
    result = extract_plan(pdf_from_lines(lines_of(_text(name)), font_size=10, wrap_mm=90), f"{name}.pdf").to_dict()
    assert _task_keys(result) == _task_keys(_extracted(name))
    assert _target_keys(result) == _target_keys(_extracted(name))


@needs_font
@pytest.mark.parametrize("name", unseen_names())
def test_unseen_plan_in_a_narrow_column_keeps_the_tasks(name: str) -> None:
    # About 35 characters a line: names break mid-way ("Hội Liên hiệp" / "Phụ nữ huyện"), dashes open lines.
    result = extract_plan(pdf_from_lines(lines_of(_text(name)), font_size=10, wrap_mm=70), f"{name}.pdf").to_dict()
    assert _task_keys(result) == _task_keys(_extracted(name))
