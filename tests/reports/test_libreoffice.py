"""Each demo plan's report, for a period with activity, opens in LibreOffice: converted to PDF with
`soffice --headless --convert-to pdf`, its text holds the heading, the title, every unit of the plan, the
indicator table's targets and values and the overdue items; pictures of its pages go to artifacts/reports/.

Skipped where LibreOffice is not installed (.ci/run installs libreoffice-writer and poppler-utils).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from tracker.clock import status_clock
from tracker.extensions import db
from tracker.models import Occurrence, Person, Plan, Role, RoleAssignment, Task, TaskStatus
from tracker.reports import docx_bytes, draft
from tracker.reports.text import number

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "reports"
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) not installed: "
                                "apt-get install libreoffice-writer poppler-utils")


@pytest.fixture
def database_url(tmp_path, sqlite_template):
    """SQLite only: the demo and LibreOffice take long enough once."""
    path = tmp_path / "tracker.db"
    shutil.copy(sqlite_template, path)
    yield f"sqlite:///{path}"


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _busiest_year(plan: Plan) -> int:
    years = Counter(d.year for d in db.session.scalars(
        sa.select(Occurrence.due_on).join(Task, Task.id == Occurrence.task_id).where(Task.plan_id == plan.id)))
    return years.most_common(1)[0][0]


def _chair_of(plan: Plan) -> Person:
    return db.session.scalar(
        sa.select(Person).join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(RoleAssignment.unit_id == plan.issuing_unit_id, RoleAssignment.role == Role.CHAIR)
        .order_by(Person.id))


def _convert(docx_paths: list[Path], out: Path, profile: Path) -> None:
    """One LibreOffice run converts them all (its start is the slow part), with a profile of its own so a
    LibreOffice already open elsewhere is not disturbed."""
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                    "--convert-to", "pdf", "--outdir", str(out), *map(str, docx_paths)],
                   check=True, capture_output=True, timeout=300)


def _pictures(pdf: Path) -> list[Path]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if shutil.which("pdftoppm") is None:
        return []
    for old in ARTIFACTS.glob(f"{pdf.stem}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(ARTIFACTS / pdf.stem)], check=True, timeout=120)
    return sorted(ARTIFACTS.glob(f"{pdf.stem}-*.png"))


def test_every_demo_plans_report_opens_in_libreoffice_with_what_it_must_say(app, tmp_path):
    import pdfplumber

    from tracker.demo import build_demo

    build_demo("demo-pass-1234", as_issued=True)  # the documents' own years: a year of reports, figures, overdue
    db.session.commit()
    plans = db.session.scalars(sa.select(Plan).order_by(Plan.id)).all()
    assert len(plans) == 5
    drafts = {}
    for plan in plans:
        content = draft(_chair_of(plan), period=str(_busiest_year(plan)), clock=status_clock(), plan=plan)
        path = tmp_path / f"demo-plan-{plan.id}-{content.period.key}.docx"
        path.write_bytes(docx_bytes(content))
        drafts[path] = (plan, content)
    # The province's plan rolled up over its districts and departments, side by side.
    province_plan = next(p for p in plans if p.issuing_unit.code == "P33")
    viewer = db.session.scalar(sa.select(Person).where(Person.username == "tinh.hungyen"))
    rollup = draft(viewer, period=str(_busiest_year(province_plan)), clock=status_clock(), plan=province_plan,
                   rollup_unit=province_plan.issuing_unit)
    rollup_path = tmp_path / f"demo-rollup-{province_plan.id}-{rollup.period.key}.docx"
    rollup_path.write_bytes(docx_bytes(rollup))
    drafts[rollup_path] = (province_plan, rollup)

    _convert(list(drafts), tmp_path, tmp_path / "lo-profile")
    for path, (plan, content) in drafts.items():
        pdf = path.with_suffix(".pdf")
        assert pdf.is_file(), f"LibreOffice did not convert {path.name}"
        with pdfplumber.open(pdf) as document:
            text = _flat("\n".join(page.extract_text() or "" for page in document.pages))
        where = path.name
        # The heading's two columns come out line by line, interleaved: each line is looked for on its own.
        for heading in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Số:", "BÁO CÁO",
                        *content.heading.issuing_body.split("\n"), content.heading.place_and_date,
                        "I. KẾT QUẢ THỰC HIỆN", "II. TỒN TẠI, HẠN CHẾ", "IV. ĐỀ XUẤT, KIẾN NGHỊ", "Nơi nhận:",
                        content.heading.signer_name):
            assert heading in text, (where, heading)
        assert _flat(content.heading.subject.splitlines()[0])[:60] in text, where
        units = {t.lead_unit.name for t in plan.tasks if t.status == TaskStatus.ACTIVE and t.lead_unit is not None}
        if content.rollup is None:
            for unit in units:
                assert _flat(unit) in text, (where, unit)
        assert content.indicators, where
        for line in content.indicators:
            assert number(line.target) in text, (where, line.name, line.target)
            if line.actual is not None:
                assert number(line.actual) in text, (where, line.name, line.actual)
        assert any(line.actual is not None for line in content.indicators), where
        assert content.overdue, where
        for item in content.overdue:
            assert f"quá hạn {item.days} ngày" in text and _flat(item.unit_name) in text, (where, item.unit_name)
        if content.rollup is not None:
            assert "PHỤ LỤC" in text
            for row in content.rollup.rows:
                assert _flat(row.unit_name) in text, (where, row.unit_name)
        pages = _pictures(pdf)
        assert pages or shutil.which("pdftoppm") is None
