"""Plans the importer was not developed on, scored with the shared scorer's own matching rules.

tests/fixtures/importer/unseen holds plans on other subjects, levels and layouts (post-2025 communes and
wards, a province, district-era plans), each with a gold extraction written by hand before the importer
was run on it. The thresholds are the extraction contract's (shared/plans/README.md).
"""

from __future__ import annotations

import json
from functools import cache

import pytest

from tracker.importer import extract_plan

from .builders import DEJAVU, UNSEEN, docx_from_lines, lines_of, pdf_from_lines, unseen_names
from .scoring import needs_scorer, ratio, score

MIN_TASK_RECALL, MIN_TASK_PRECISION, MIN_TARGET_RECALL = 0.95, 0.85, 0.85

needs_font = pytest.mark.skipif(not DEJAVU.exists(), reason=f"{DEJAVU} is absent (apt: fonts-dejavu-core)")


def _gold(name: str) -> dict:
    return json.loads((UNSEEN / f"{name}.json").read_text(encoding="utf-8"))


@cache
def _extracted(name: str) -> dict:
    document = _gold(name)["document"]
    return extract_plan((UNSEEN / document).read_bytes(), document).to_dict()


@needs_scorer
def test_unseen_plans_meet_the_contract_thresholds() -> None:
    names = unseen_names()
    assert len(names) >= 5
    totals: dict[str, int] = {}
    rows = []
    for name in names:
        counts = score(_gold(name), _extracted(name))
        rows.append(f"{name}: {counts}")
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    report = "\n".join(rows)
    assert ratio(totals["tm"], totals["tg"]) >= MIN_TASK_RECALL, report
    assert ratio(totals["tm"], totals["te"]) >= MIN_TASK_PRECISION, report
    assert ratio(totals["dm"], totals["dg"]) == 1.0, report
    assert ratio(totals["rm"], totals["rg"]) == 1.0, report
    assert ratio(totals["vm"], totals["vg"]) >= MIN_TARGET_RECALL, report


@needs_scorer
@pytest.mark.parametrize("name", unseen_names())
def test_each_unseen_plan_keeps_every_deadline_and_recurrence(name: str) -> None:
    # Per document, so a regression names the plan (and layout) it broke.
    counts = score(_gold(name), _extracted(name))
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
