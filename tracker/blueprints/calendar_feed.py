"""A person's deadlines as an iCalendar feed, at a secret URL their phone's calendar subscribes to."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event

from tracker.auth import person_for_ical_token
from tracker.clock import status_clock, utcnow
from tracker.extensions import csrf, db
from tracker.models import Occurrence, OrgUnit, Plan, PlanStatus, Role, Task, TaskStatus
from tracker.operations.authz import Permission, scope_clause

bp = Blueprint("calendar_feed", __name__)
csrf.exempt(bp)

MAX_EVENTS = 1000


@bp.get("/calendar/<token>.ics")
def feed(token: str) -> Response:
    person = person_for_ical_token(token)
    if person is None:
        abort(404)
    clock = status_clock()
    # Officers get the tasks they owe; chairs, focal officers and viewers what they follow.
    acts = any(a.role in {Role.OFFICER, Role.UNIT_HEAD} for a in person.roles)
    permission = Permission.ACT if acts else Permission.VIEW
    rows = db.session.execute(
        sa.select(Occurrence.id, Occurrence.due_on, Occurrence.completed_on, Occurrence.period_label, Task.title,
                  Plan.number, OrgUnit.name.label("unit_name"))
        .join(Task, Task.id == Occurrence.task_id)
        .join(Plan, Plan.id == Task.plan_id)
        .join(OrgUnit, OrgUnit.id == Occurrence.lead_unit_id)
        .where(scope_clause(person, OrgUnit.path, permission), Plan.status == PlanStatus.ACTIVE,
               Task.status == TaskStatus.ACTIVE, Occurrence.cancelled_at.is_(None),
               sa.or_(Occurrence.completed_at.is_(None), Occurrence.due_on >= clock.today - timedelta(days=90)))
        .order_by(Occurrence.due_on, Occurrence.id)
        .limit(MAX_EVENTS)
    ).all()
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    with force_locale(person.locale if person.locale in current_app.config["LANGUAGES"] else "vi"):
        cal = Calendar()
        cal.add("prodid", "-//tracker//deadlines//VI")
        cal.add("version", "2.0")
        cal.add("x-wr-calname", _("Deadlines: %(name)s", name=person.full_name))
        now = utcnow()
        for r in rows:
            event = Event()
            event.add("uid", f"occurrence-{r.id}@tracker")
            prefix = "✔ " if r.completed_on else ""
            event.add("summary", f"{prefix}{r.title}")
            event.add("dtstart", r.due_on)
            event.add("dtend", r.due_on + timedelta(days=1))
            event.add("dtstamp", now)
            details = [r.unit_name]
            if r.number:
                details.append(_("Plan %(number)s", number=r.number))
            if r.period_label:
                details.append(r.period_label)
            link = base + url_for("tasks.occurrence_page", occurrence_id=r.id)
            details.append(link)
            event.add("description", "\n".join(details))
            event.add("url", link)
            cal.add_component(event)
    response = Response(cal.to_ical(), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="tracker.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
