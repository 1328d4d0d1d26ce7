"""Plans: the list and one plan's page (sections, tasks, progress)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from tracker.clock import status_clock
from tracker.extensions import db
from tracker.models import Plan
from tracker.queries import dashboard as q

bp = Blueprint("plan_pages", __name__)


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page here needs a signed-in person."""


@bp.get("/plans")
def index() -> str:
    clock = status_clock()
    return render_template("plans/index.html", plans=q.plans_list(current_user, clock), clock=clock)


@bp.get("/plans/<id:plan_id>")
def plan_page(plan_id: int) -> str:
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        abort(404)
    if not q.plan_is_visible(current_user, plan_id):
        abort(403)
    clock = status_clock()
    tasks = q.plan_tasks(current_user, clock, plan)
    by_section = q.group_by_section(tasks)
    total = sum(t.total for t in tasks)
    done = sum(t.done for t in tasks)
    return render_template("plans/plan.html", plan=plan, sections=q.sections_of(plan.id), by_section=by_section,
                           tasks=tasks, total=total, done=done, overdue=sum(t.overdue for t in tasks), clock=clock)
