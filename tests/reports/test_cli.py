"""`tracker report PLAN_ID --period P --out FILE.docx`: the same draft from the command line."""

from __future__ import annotations

from docx import Document
from openpyxl import load_workbook


def test_the_command_writes_the_report_and_its_appendix(app, report_data, tmp_path):
    runner = app.test_cli_runner()
    out, xlsx = tmp_path / "bao-cao.docx", tmp_path / "phu-luc.xlsx"
    result = runner.invoke(args=["report", str(report_data.plan.id), "--period", "2024-H1", "--out", str(out),
                                 "--xlsx", str(xlsx), "--number", "7/BC-UBND"])
    assert result.exit_code == 0, result.output
    assert "6 tháng đầu năm 2024" in result.output and f"wrote {out}" in result.output
    document = Document(str(out))
    assert "Số: 7/BC-UBND" in document.tables[0].rows[0].cells[0].text
    assert any(p.text == "I. KẾT QUẢ THỰC HIỆN" for p in document.paragraphs)
    assert "Phụ lục 01" in load_workbook(str(xlsx)).sheetnames


def test_the_command_drafts_as_a_person_a_unit_or_a_roll_up(app, report_data, tmp_path):
    c = report_data.commune
    runner = app.test_cli_runner()
    officer = tmp_path / "yte.docx"
    result = runner.invoke(args=["report", str(report_data.plan.id), "--period", "2024", "--as", "yte",
                                 "--out", str(officer)])
    assert result.exit_code == 0, result.output
    text = "\n".join(p.text for p in Document(str(officer)).paragraphs)
    assert "Trạm Y tế" in text and "Thôn 3" not in text
    unit = runner.invoke(args=["report", "--unit", "Xã Cao Ngọc", "--period", "2024", "--out",
                               str(tmp_path / "xa.xlsx")])
    assert unit.exit_code == 0, unit.output
    rollup = runner.invoke(args=["report", str(report_data.plan.id), "--period", "2024", "--rollup",
                                 str(c.district.id), "--out", str(tmp_path / "huyen.docx")])
    assert rollup.exit_code == 0 and "Tổng hợp kết quả" in rollup.output


def test_the_command_refuses_bad_input_and_changes_nothing(app, report_data, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "x.docx"
    bad = runner.invoke(args=["report", str(report_data.plan.id), "--period", "2024-H3", "--out", str(out)])
    assert bad.exit_code == 1 and "không phải là kỳ báo cáo" in bad.output and not out.exists()
    refused = runner.invoke(args=["report", str(report_data.plan.id), "--period", "2024", "--as", "ytekhac",
                                  "--out", str(out)])
    assert refused.exit_code == 1 and "không có quyền" in refused.output
    assert runner.invoke(args=["report", "--period", "2024", "--out", str(out)]).exit_code == 2
    assert runner.invoke(args=["report", "1", "--period", "2024", "--out", str(tmp_path / "x.pdf")]).exit_code == 2
    assert runner.invoke(args=["report", "999999", "--period", "2024", "--out", str(out)]).exit_code == 1
