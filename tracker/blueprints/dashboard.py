"""The chair's overview: counts by status, overdue by unit, timeliness, decisions waiting; print and Excel."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from tracker.blueprints.args import id_arg, int_arg
from tracker.blueprints.xlsx import append_row, style_header, write_title, xlsx_response
from tracker.clock import status_clock
from tracker.extensions import db
from tracker.forms.tasks import ExtensionDecisionForm, ReviewForm
from tracker.models import OrgUnit
from tracker.operations.authz import Permission, require, scope_paths
from tracker.queries import dashboard as q

bp = Blueprint("dashboard", __name__)


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page here needs a signed-in person."""


def chosen_unit() -> OrgUnit | None:
    """The unit named by ?unit= (checked against the person's scope), else None: the whole scope."""
    unit_id = id_arg("unit")
    if unit_id is None:
        return None
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None:
        abort(404)
    require(current_user, Permission.VIEW, unit)
    return unit


def chosen_year() -> int | None:
    return int_arg("year", minimum=1990, maximum=2100)


def chosen_list() -> str:
    """Which of a unit's tasks to list (?show=, one of q.UNIT_LIST_FILTERS; the open ones by default)."""
    show = request.args.get("show") or "open"
    if show not in q.UNIT_LIST_FILTERS:
        abort(400)
    return show


def _scope_name(unit: OrgUnit | None) -> str:
    """What the page covers, for its heading: the chosen unit, else the units the person's roles are on."""
    if unit is not None:
        return unit.name
    roots = scope_paths(current_user)
    return ", ".join(dict.fromkeys(a.unit.name for a in current_user.roles if a.unit.path in roots))


def _overview_data() -> dict[str, Any]:
    clock = status_clock()
    unit = chosen_unit()
    year = chosen_year()
    roots = scope_paths(current_user)
    if not roots:
        abort(403)
    summary = q.summary_by_unit(current_user, clock, unit=unit, year=year)
    return {
        "clock": clock, "unit": unit, "year": year, "scope_name": _scope_name(unit),
        "summary": summary,
        # A unit seen only through the plans it reports on has no overview of its own for this person.
        "linkable": {s.unit_id for s in summary if any(s.unit_path.startswith(root) for root in roots)},
        "counts": q.status_counts(current_user, clock, unit=unit, year=year),
        "overdue": q.overdue_by_unit(current_user, clock, unit=unit),
        "timeliness": q.timeliness_by_unit(current_user, clock, unit=unit, year=year),
        "extensions": q.pending_extensions(current_user, unit=unit),
        "reports": q.reports_to_review(current_user, unit=unit),
    }


@bp.get("/overview")
def overview() -> str:
    data = _overview_data()
    show = chosen_list()
    if data["unit"] is not None:
        data["show"] = show
        data["unit_rows"] = q.unit_tasks(current_user, data["clock"], data["unit"], show=show, year=data["year"])
    return render_template("dashboard/overview.html", review_form=ReviewForm(formdata=None),
                           decision_form=ExtensionDecisionForm(formdata=None), **data)


@bp.get("/overview/print")
def print_view() -> str:
    return render_template("dashboard/print.html", **_overview_data())


@bp.get("/overview.xlsx")
def export_excel() -> Response:
    data = _overview_data()
    from openpyxl import Workbook


    wb = Workbook()
    ws = wb.active
    ws.title = _("Overdue")[:31]
    write_title(ws, _("Overdue tasks by unit"), _("As of %(date)s", date=data["clock"].today.strftime("%d/%m/%Y")), 7)
    headers = [_("No."), _("Unit"), _("Task"), _("Plan"), _("Due"), _("Days late"), _("Escalation level")]
    append_row(ws, headers)
    style_header(ws, ws.max_row)
    n = 0
    for group in data["overdue"]:
        for row in group.rows:
            n += 1
            append_row(ws, [n, group.unit_name, row.title, row.plan_number or "", row.due_on, row.days_late,
                       row.escalation_level])
            ws.cell(ws.max_row, 5).number_format = "DD/MM/YYYY"
    for col, width in zip("ABCDEFG", (6, 30, 60, 16, 12, 10, 10), strict=True):
        ws.column_dimensions[col].width = width

    ws2 = wb.create_sheet(_("Timeliness")[:31])
    write_title(ws2, _("Timeliness by unit"), _("As of %(date)s", date=data["clock"].today.strftime("%d/%m/%Y")), 7)
    append_row(ws2, [_("No."), _("Unit"), _("Due so far"), _("Done on time"), _("Done late"), _("Overdue"),
                _("Share on time")])
    style_header(ws2, ws2.max_row)
    for i, t in enumerate(data["timeliness"], start=1):
        append_row(ws2, [i, t.unit_name, t.expected, t.on_time, t.late, t.overdue, t.timeliness])
        ws2.cell(ws2.max_row, 7).number_format = "0.00%"
    for col, width in zip("ABCDEFG", (6, 36, 12, 12, 12, 12, 14), strict=True):
        ws2.column_dimensions[col].width = width
    return xlsx_response(wb, f"tong-quan-{data['clock'].today.isoformat()}.xlsx")
