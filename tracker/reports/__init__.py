"""The periodic report upward ("Báo cáo kết quả thực hiện Kế hoạch ... 6 tháng đầu năm / năm"), drafted from
what was tracked: `content` gathers it (scope-checked, set-based), `document` lays it out as a .docx from the
template (`template`), `workbook` writes its Excel companion. The web page, the API and `tracker report` call
`draft` and one of the renderers; nothing here writes to the database.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from tracker.models import OrgUnit, Person, Plan, StatusClock
from tracker.operations.errors import ValidationFailed
from tracker.periods import Period, parse_period
from tracker.reports.content import plan_report, unit_report
from tracker.reports.document import DOCX_MIMETYPE, render_docx
from tracker.reports.docxml import TemplateError
from tracker.reports.heading import ReportOptions
from tracker.reports.model import ReportContent
from tracker.reports.template import BUNDLED_TEMPLATE
from tracker.reports.workbook import XLSX_MIMETYPE, render_xlsx

__all__ = ["DOCX_MIMETYPE", "XLSX_MIMETYPE", "ReportContent", "ReportOptions", "TemplateError", "docx_bytes",
           "draft", "template_path", "xlsx_bytes"]


def template_path() -> Path:
    """The .docx template in use: REPORT_TEMPLATE_PATH when an office set its own, else the bundled one."""
    configured = current_app.config.get("REPORT_TEMPLATE_PATH") if has_app_context() else None
    return Path(configured) if configured else BUNDLED_TEMPLATE


def draft(actor: Person, *, period: str | Period, clock: StatusClock, plan: Plan | None = None,
          unit: OrgUnit | None = None, rollup_unit: OrgUnit | None = None, issuer: OrgUnit | None = None,
          options: ReportOptions | None = None) -> ReportContent:
    """The draft report on `plan` (over `rollup_unit`'s units when given) or on every plan of `unit`, for a
    period ("2025", "2025-H1", "2025-Q3", "2025-01-01..2025-06-30"); what `actor` may not see is left out."""
    chosen = period if isinstance(period, Period) else parse_period(period)
    if plan is not None:
        return plan_report(actor, plan, chosen, clock=clock, rollup_unit=rollup_unit, issuer=issuer, options=options)
    if unit is not None:
        return unit_report(actor, unit, chosen, clock=clock, options=options)
    raise ValidationFailed(_l("Choose a plan or a unit."), field="plan_id")


def docx_bytes(content: ReportContent) -> bytes:
    return render_docx(content, template_path())


def xlsx_bytes(content: ReportContent) -> bytes:
    return render_xlsx(content)
