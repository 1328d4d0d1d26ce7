"""The shared scorer over the five plans meets the quality bar; the CLI prints the contract."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tracker.importer import extract_plan
from tracker.importer.__main__ import main

from .builders import GOLD, PLANS

SCORER = Path("/work/shared/tools/score_import.py")
CONTRACT_KEYS = {"title", "issuer", "plan_number", "issued", "year", "period_end", "tasks", "targets", "warnings"}
TASK_KEYS = {"section", "unit", "title", "report_to", "coordinating_units", "deadlines", "recurrence", "source"}


def test_scorer_thresholds_hold_on_the_five_plans() -> None:
    command = f"{sys.executable} -m tracker.importer {{path}}"
    run = subprocess.run(
        [sys.executable, str(SCORER), "--docs", str(PLANS), "--gold", str(GOLD), "--cmd", command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    summary = run.stdout.strip().splitlines()[-1]
    scores = dict(re.findall(r"(tasks R|P|deadlines R|recurrence R|targets R)=([\d.]+)", summary))
    assert float(scores["tasks R"]) >= 0.95, summary
    assert float(scores["P"]) >= 0.85, summary
    assert float(scores["deadlines R"]) == 1.0, summary
    assert float(scores["recurrence R"]) == 1.0, summary
    assert float(scores["targets R"]) >= 0.85, summary
    assert "importer failed" not in run.stdout


def test_output_has_exactly_the_contract_keys_and_types() -> None:
    result = extract_plan((PLANS / "004_c8b79a7600a1cc52.txt").read_bytes(), "kh.txt").to_dict()
    assert set(result) >= CONTRACT_KEYS
    for task in result["tasks"]:
        assert set(task) >= TASK_KEYS
        assert all(set(d) >= {"date", "text"} for d in task["deadlines"])
        assert isinstance(task["report_to"], list) and isinstance(task["coordinating_units"], list)
    for target in result["targets"]:
        assert {"indicator", "unit_of_measure", "values", "responsible"} <= set(target)
        assert all(isinstance(y, str) and isinstance(v, float) for y, v in target["values"].items())
    json.dumps(result, ensure_ascii=False)


def test_cli_prints_one_json_object(capsys) -> None:
    assert main([str(PLANS / "002_b4b79a351991533e.txt")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["issuer"] == "UBND phường Dị Sử"
    assert "Ban Chỉ đạo" in result["tasks"][0]["unit"]


def test_cli_exits_2_with_a_vietnamese_error(tmp_path, capsys) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    assert main([str(empty)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Tệp rỗng" in captured.err
    assert main([str(tmp_path / "missing.txt")]) == 2


def test_cli_issuer_unit_option(tmp_path, capsys) -> None:
    plan = tmp_path / "kh.txt"
    plan.write_text("KẾ HOẠCH\nTrồng cây năm 2025\nI. TỔ CHỨC THỰC HIỆN\n1. Các thôn: Trồng cây.\n", encoding="utf-8")
    assert main([str(plan), "--issuer-unit", "UBND xã Hòa Phú"]) == 0
    assert json.loads(capsys.readouterr().out)["issuer"] == "UBND xã Hòa Phú"
