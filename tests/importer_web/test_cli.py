"""`tracker import-plan`: --dry-run --json prints the contract and writes nothing; without it, a draft."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.importer_web.conftest import DEMO_PLANS, PLAN_004, counts
from tracker.extensions import db
from tracker.models import Plan, PlanStatus

CONTRACT_KEYS = {"title", "issuer", "plan_number", "issued", "year", "period_end", "tasks", "targets", "warnings"}
TASK_KEYS = {"section", "unit", "title", "report_to", "coordinating_units", "deadlines", "recurrence", "source"}


def invoke(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def test_dry_run_prints_the_contract_and_writes_nothing(app, commune):
    before = counts()
    result = invoke(app, "import-plan", str(DEMO_PLANS / PLAN_004), "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= CONTRACT_KEYS and data["issuer"] == "UBND xã Cao Ngọc"
    assert data["tasks"] and all(set(t) >= TASK_KEYS for t in data["tasks"])
    health = next(t for t in data["tasks"] if t["section"] == "III.2.6")
    assert {"date": "2024-09-25", "text": "trước ngày 25/9/2024"}.items() <= health["deadlines"][1].items()
    assert counts() == before


def test_without_dry_run_it_creates_a_draft_for_the_unit_the_document_names(app, commune):
    before = counts()
    result = invoke(app, "import-plan", str(DEMO_PLANS / PLAN_004), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    plan = db.session.get(Plan, summary["plan_id"])
    assert plan.status == PlanStatus.DRAFT and plan.issuing_unit_id == commune.xa.id
    assert summary["status"] == "draft" and summary["tasks"] == len(plan.tasks) > 0
    assert counts()["plans"] == before["plans"] + 1

    again = invoke(app, "import-plan", str(DEMO_PLANS / PLAN_004), "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["duplicate_of"] == plan.id
    assert db.session.scalar(sa.select(sa.func.count(Plan.id))) == 1


def test_issuer_unit_picks_the_issuing_unit(app, commune, tmp_path: Path):
    text = (DEMO_PLANS / PLAN_004).read_text(encoding="utf-8").replace("UBND XÃ CAO NGỌC", "UBND XÃ")
    path = tmp_path / "kh.txt"
    path.write_text(text, encoding="utf-8")
    result = invoke(app, "import-plan", str(path), "--json", "--issuer-unit", str(commune.other_xa.id))
    assert result.exit_code == 0, result.output
    assert db.session.get(Plan, json.loads(result.stdout)["plan_id"]).issuing_unit_id == commune.other_xa.id


def test_a_bad_file_exits_with_a_message_and_writes_nothing(app, commune, tmp_path: Path):
    path = tmp_path / "rong.docx"
    path.write_bytes(b"")
    before = counts()
    for args in ((), ("--dry-run", "--json")):
        result = invoke(app, "import-plan", str(path), *args)
        assert result.exit_code == 2 and "Tệp rỗng" in result.output
    assert counts() == before
