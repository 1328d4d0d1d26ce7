"""Upper levels: roll-up of the units below (completion, timeliness, overdue), indicator progress, Excel."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from tracker.blueprints.args import id_arg
from tracker.blueprints.dashboard import chosen_year
from tracker.blueprints.main import format_pct
from tracker.blueprints.xlsx import append_row, style_header, write_title, xlsx_response
from tracker.clock import status_clock
from tracker.extensions import db
from tracker.models import OrgUnit, Plan
from tracker.operations.authz import Permission, can, scope_paths
from tracker.periods import Period, parse_period, suggested_periods, year_period
from tracker.queries import dashboard as q
from tracker.queries.reports import plan_choices

bp = Blueprint("rollup", __name__)


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page here needs a signed-in person."""


def _scope_roots() -> list[OrgUnit]:
    paths = scope_paths(current_user)
    if not paths:
        return []
    return list(db.session.scalars(sa.select(OrgUnit).where(OrgUnit.path.in_(paths)).order_by(OrgUnit.path)))


def _chosen_parent() -> OrgUnit | None:
    unit_id = id_arg("unit")
    if unit_id is not None:
        unit = db.session.get(OrgUnit, unit_id)
        if unit is None:
            abort(404)
        if not can(current_user, Permission.VIEW, unit):
            abort(403)
        return unit
    roots = _scope_roots()
    if not roots:
        abort(403)
    return roots[0] if len(roots) == 1 else None


def _breadcrumbs(unit: OrgUnit) -> list[OrgUnit]:
    """The ancestors of `unit` the person may see, root first (one statement)."""
    ids = unit.ancestor_ids
    units = {u.id: u for u in db.session.scalars(sa.select(OrgUnit).where(OrgUnit.id.in_(ids)))}
    return [units[i] for i in ids if i in units and can(current_user, Permission.VIEW, units[i])]


def _chosen_period() -> Period | None:
    """?period=2025-H1 (any form `parse_period` reads), else ?year=2025, else None: every year."""
    raw = request.args.get("period", "").strip()
    if raw:
        return parse_period(raw)
    year = chosen_year()
    return year_period(year) if year is not None else None


def _chosen_plan() -> Plan | None:
    plan_id = id_arg("plan")
    if plan_id is None:
        return None
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        abort(404)
    if not q.plan_is_visible(current_user, plan.id):
        abort(403)
    return plan


@bp.get("/rollup")
def index() -> str | Response:
    parent = _chosen_parent()
    if parent is None:
        return render_template("rollup/roots.html", roots=_scope_roots())
    clock = status_clock()
    period, plan = _chosen_period(), _chosen_plan()
    plan_id = plan.id if plan is not None else None
    rows = q.rollup(current_user, clock, parent, period=period, plan_id=plan_id)
    progress = q.indicator_progress(current_user, parent, period=period,
                                    plan_ids=[plan_id] if plan_id is not None else None)
    args = {"period": period.key if period else None, "plan": plan_id}
    return render_template(
        "rollup/index.html", parent=parent, rows=rows, clock=clock, period=period, plan=plan, args=args,
        periods=suggested_periods(clock.today, years=6), plans=plan_choices(current_user, within=parent),
        crumbs=_breadcrumbs(parent),
        counts=q.status_counts(current_user, clock, unit=parent, period=period, plan_id=plan_id),
        chart=timeliness_chart(rows), progress=progress, progress_chart=indicator_chart(progress),
    )


@bp.get("/rollup/indicators")
def indicators() -> Response:
    return redirect(url_for("rollup.index", **request.args) + "#indicators")


# --- Charts: inline SVG rendered on the server (no script, no CDN) --------------------------------------

def _bar_chart(items: list[tuple[str, float | None, str]], *, title: str) -> Markup:
    """Horizontal bars (label above its bar, share 0..1+, css class), as accessible inline SVG.

    Narrow on purpose (360 units wide), so labels stay readable on a phone screen.
    """
    if not items:
        return Markup("")
    width, bar_w, row_h = 360, 286, 44
    height = row_h * len(items) + 4
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for i, (label, share, css) in enumerate(items):
        y = i * row_h
        short = label if len(label) <= 58 else label[:57] + "…"
        parts.append(f'<text x="0" y="{y + 15}">{escape(short)}</text>')
        parts.append(f'<rect x="0" y="{y + 22}" width="{bar_w}" height="14" fill="#eef2f7"/>')
        if share is not None:
            w = max(0.0, min(1.0, share)) * bar_w
            parts.append(f'<rect class="{css}" x="0" y="{y + 22}" width="{w:.1f}" height="14"/>')
        parts.append(f'<text x="{bar_w + 5}" y="{y + 34}">{escape(format_pct(share, 1))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def timeliness_chart(rows: list[q.RollupRow]) -> Markup:
    items = [(r.unit_name, r.stats.timeliness, "bar-ontime") for r in rows if r.stats.expected]
    return _bar_chart(items, title=_("Share done on time"))


def indicator_chart(progress: list[q.IndicatorProgress]) -> Markup:
    items = [(f"{p.name} ({p.year})", p.ratio, "bar-ontime" if p.achieved else "bar-overdue")
             for p in progress if p.ratio is not None]
    return _bar_chart(items, title=_("Indicator progress against the target"))


# --- Excel in the layout of the plans' appendices (Phụ lục) ----------------------------------------------

@bp.get("/rollup/phu-luc.xlsx")
def export_excel() -> Response:
    from openpyxl import Workbook

    parent = _chosen_parent()
    if parent is None:
        abort(400)
    clock = status_clock()
    period, plan = _chosen_period(), _chosen_plan()
    plan_id = plan.id if plan is not None else None
    rows = q.rollup(current_user, clock, parent, period=period, plan_id=plan_id)
    progress = q.indicator_progress(current_user, parent, period=period,
                                    plan_ids=[plan_id] if plan_id is not None else None)
    subtitle = _("(Attached to the follow-up report of %(unit)s, as of %(date)s)", unit=parent.name,
                 date=clock.today.strftime("%d/%m/%Y"))
    wb = Workbook()

    ws = wb.active
    ws.title = _("Appendix 01")[:31]
    write_title(ws, _("Appendix 01: results of the indicators against the targets"), subtitle, 9)
    append_row(ws, [_("No."), _("Indicator"), _("Unit of measure"), _("Unit"), _("Year"), _("Target"), _("Result"),
               _("Result / target"), _("Notes")])
    style_header(ws, ws.max_row)
    for i, p in enumerate(progress, start=1):
        note = "" if p.achieved is None else (_("Achieved") if p.achieved else _("Not achieved"))
        append_row(ws, [i, p.name, p.unit_of_measure, p.target_unit, p.year, float(p.target),
                   float(p.actual) if p.actual is not None else None, p.ratio, note])
        ws.cell(ws.max_row, 8).number_format = "0.00%"
    for col, width in zip("ABCDEFGHI", (6, 50, 12, 28, 8, 12, 12, 12, 16), strict=True):
        ws.column_dimensions[col].width = width

    ws2 = wb.create_sheet(_("Appendix 02")[:31])
    write_title(ws2, _("Appendix 02: carrying out the tasks, by unit"), subtitle, 9)
    append_row(ws2, [_("No."), _("Unit"), _("Due so far"), _("Done on time"), _("Done late"), _("Overdue"),
                _("Not yet due"), _("Completion"), _("Share on time")])
    style_header(ws2, ws2.max_row)
    for i, r in enumerate(rows, start=1):
        s = r.stats
        append_row(ws2, [i, r.unit_name, s.expected, s.on_time, s.late, s.overdue, s.open_not_due, s.completion,
                    s.timeliness])
        ws2.cell(ws2.max_row, 8).number_format = "0.00%"
        ws2.cell(ws2.max_row, 9).number_format = "0.00%"
    for col, width in zip("ABCDEFGHI", (6, 36, 12, 12, 12, 12, 12, 12, 12), strict=True):
        ws2.column_dimensions[col].width = width

    ws3 = wb.create_sheet(_("Appendix 03")[:31])
    write_title(ws3, _("Appendix 03: overdue tasks"), subtitle, 7)
    append_row(ws3, [_("No."), _("Task"), _("Lead unit"), _("Plan"), _("Due"), _("Days late"), _("Notes")])
    style_header(ws3, ws3.max_row)
    n = 0
    for group in q.overdue_by_unit(current_user, clock, unit=parent, period=period, plan_id=plan_id):
        for o in group.rows:
            n += 1
            append_row(ws3, [n, o.title, group.unit_name, o.plan_number or "", o.due_on, o.days_late, ""])
            ws3.cell(ws3.max_row, 5).number_format = "DD/MM/YYYY"
    for col, width in zip("ABCDEFG", (6, 60, 28, 16, 12, 10, 16), strict=True):
        ws3.column_dimensions[col].width = width

    return xlsx_response(wb, f"phu-luc-{parent.id}-{clock.today.isoformat()}.xlsx")
