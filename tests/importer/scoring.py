"""Score extractions against hand-written gold with the shared scorer's own matching rules.

The scorer (shared/tools/score_import.py) is the one that judges the importer; the tests import its
functions rather than copy them, and are skipped where the file is absent.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

SCORER = Path("/work/shared/tools/score_import.py")
needs_scorer = pytest.mark.skipif(not SCORER.exists(), reason=f"{SCORER} is absent")


@cache
def scorer() -> ModuleType:
    """Load the shared scorer as a module."""
    spec = importlib.util.spec_from_file_location("score_import", SCORER)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def score(gold: dict, got: dict) -> dict[str, int]:
    """Count what the scorer counts for one document: matched tasks, deadlines, recurrences, target values."""
    s = scorer()
    gold_tasks, got_tasks = gold.get("tasks", []), got.get("tasks") or []
    matched = s.match_tasks(gold_tasks, got_tasks)
    counts = dict(tg=len(gold_tasks), tm=len(matched), te=len(got_tasks), dg=0, dm=0, rg=0, rm=0)
    for index, task in enumerate(gold_tasks):
        dates = {d["date"] for d in task.get("deadlines", []) if d.get("date") and d.get("kind") != "target"}
        recurrence = s.recur_set(task.get("recurrence"))
        counts["dg"] += len(dates)
        counts["rg"] += bool(recurrence)
        if index in matched:
            found = got_tasks[matched[index]]
            counts["dm"] += len(dates & s.dates_of(found))
            counts["rm"] += bool(recurrence & s.recur_set(found.get("recurrence")))
    counts["vm"], counts["vg"] = s.target_hits(gold.get("targets", []), got.get("targets") or [])
    return counts


def ratio(hit: int, total: int) -> float:
    """hit / total, 1.0 when there is nothing to find."""
    return hit / total if total else 1.0


def totals(counts: list[dict[str, int]]) -> dict[str, int]:
    """Add up the counts of several documents."""
    out: dict[str, int] = {}
    for row in counts:
        for key, value in row.items():
            out[key] = out.get(key, 0) + value
    return out
