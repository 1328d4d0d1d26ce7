"""The demo: real plans of ../shared/plans imported into the communes that issued them, people in every
role, and a history (some reports on time, some late, one awaiting review, one extension asked).

Anchored to today: the plans were issued in 2023-2024, so opened as issued every task would be hundreds
of days overdue and no reminder would ever fire. By default every date the plans give (issue date,
deadlines, recurrence anchors, the due dates of their occurrences) moves by one offset, the same for all
five plans, so that today falls where the story needs it: STORY_DAY, two days after the commune's 25/9
deadlines and three before its 30/9 one. The history (reports, extension requests, reviews) is then
written relative to that day. `as_issued=True` keeps the documents' own dates (the story day is then
STORY_DAY itself). A named reporting period ("Năm 2024", "6 tháng đầu năm 2023") keeps its name and
bounds, as do the indicators' target years: they are what the document reports on, not when.

Idempotent: units and people are reused, a plan already imported is not imported again (nor moved
again), and the history is written only for occurrences that have none yet. Passwords are reset on
every run.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from tracker.clock import local_today, status_clock
from tracker.extensions import db
from tracker.models import (
    ExtensionRequest,
    Occurrence,
    OrgUnit,
    Person,
    Plan,
    PlanStatus,
    Report,
    Role,
    RoleAssignment,
    Task,
    UnitKind,
)
from tracker.operations import audit, summaries
from tracker.operations import occurrences as occurrence_ops
from tracker.operations.people import create_person, set_password
from tracker.operations.plan_import import extract_document, import_plan
from tracker.operations.plans import activate_plan
from tracker.operations.units import COMMUNE_INTERNAL_UNITS, ensure_unit

log = logging.getLogger("tracker.demo")

DEFAULT_PASSWORD = "demo-tracker-2024"
PLANS_DIR = Path(__file__).resolve().parent / "data" / "demo_plans"
EMAIL_DOMAIN = "example.org"  # reserved for documentation (RFC 2606)

#: The day of the documents' calendar that plays "today" in the story: the commune's 25/9/2024 deadlines
#: (the health station's report among them) are two days overdue, its 30/9 one is due in three days, the
#: March reports and the 2023 plan are done (on time or late), the year-end reports still ahead.
STORY_DAY = date(2024, 9, 27)
#: An occurrence due this many days or more before the story day is history: its report was given.
SETTLED_DAYS = 14
#: An open occurrence due within this many days after the story day stays open: it is what is due soon.
DUE_SOON_KEPT_DAYS = 7


@dataclass(frozen=True)
class DemoPlan:
    filename: str
    path: tuple[tuple[str, UnitKind, str | None], ...]  # province > ... > issuing unit (name, kind, code)


_THANH_HOA = ("Tỉnh Thanh Hóa", UnitKind.PROVINCE, "P38")
_HUNG_YEN = ("Tỉnh Hưng Yên", UnitKind.PROVINCE, "P33")
# Hà Nam merged into Ninh Bình on 1 July 2025; its 2023 plan is kept under the old province's name.
_HA_NAM = ("Tỉnh Hà Nam (trước 01/7/2025)", UnitKind.PROVINCE, None)

DEMO_PLANS = (
    DemoPlan("004_c8b79a7600a1cc52.txt", (_THANH_HOA, ("Huyện Ngọc Lặc", UnitKind.DISTRICT, None),
                                           ("Xã Cao Ngọc", UnitKind.COMMUNE, None))),
    DemoPlan("000_48636eaaef47ce67.txt", (_HUNG_YEN, ("Huyện Phù Cừ", UnitKind.DISTRICT, None),
                                           ("Xã Nhật Quang", UnitKind.COMMUNE, None))),
    DemoPlan("002_b4b79a351991533e.txt", (_HUNG_YEN, ("Thị xã Mỹ Hào", UnitKind.DISTRICT, None),
                                           ("Phường Dị Sử", UnitKind.COMMUNE, None))),
    DemoPlan("003_9a978320c38bc04c.txt", (_HUNG_YEN,)),
    DemoPlan("001_434977bb22bf411f.txt", (_HA_NAM, ("Huyện Kim Bảng", UnitKind.DISTRICT, None))),
)

#: Villages of the demo commune (the plan names none); other communes take theirs from the plan's tables.
CAO_NGOC_VILLAGES = ("Thôn 1", "Thôn 2", "Thôn 3", "Thôn 4")


def has_plans() -> bool:
    return (db.session.scalar(sa.select(sa.func.count(Plan.id))) or 0) > 0


def existing_accounts() -> list[tuple[str, str]]:
    """(role, username) of the demo accounts already in the database (their e-mail is @EMAIL_DOMAIN), in the
    order they were created; the role is the first one granted."""
    first_grant = (sa.select(RoleAssignment.person_id, sa.func.min(RoleAssignment.id).label("grant_id"))
                   .group_by(RoleAssignment.person_id).subquery())
    rows = db.session.execute(
        sa.select(RoleAssignment.role, Person.username)
        .join(first_grant, first_grant.c.grant_id == RoleAssignment.id)
        .join(Person, Person.id == RoleAssignment.person_id)
        .where(Person.email.like(f"%@{EMAIL_DOMAIN}"), Person.username.is_not(None))
        .order_by(Person.id)).all()
    return [(role.value, username) for role, username in rows]


def anchor_offset(today: date | None = None) -> int:
    """Days to add to every date of the documents so that STORY_DAY falls on `today` (default: local today)."""
    return ((today or local_today()) - STORY_DAY).days


def build_demo(password: str, *, as_issued: bool = False) -> list[tuple[str, str]]:
    """Build or refresh the demo and return (role, username) for every demo account.

    Plans imported by this call are moved to today (see the module's docstring) unless `as_issued`."""
    offset = 0 if as_issued else anchor_offset()
    country = ensure_unit(None, "Việt Nam", UnitKind.COUNTRY, code="VN")
    issuers: dict[str, OrgUnit] = {}
    for demo in DEMO_PLANS:
        parent = country
        for name, kind, code in demo.path:
            parent = _ensure(parent, name, kind, code)
        issuers[demo.filename] = parent
        if kind == UnitKind.COMMUNE:
            _ensure_commune_offices(parent)
    cao_ngoc = issuers["004_c8b79a7600a1cc52.txt"]
    for village in CAO_NGOC_VILLAGES:
        ensure_unit(cao_ngoc, village, UnitKind.VILLAGE)

    for demo in DEMO_PLANS:
        data = (PLANS_DIR / demo.filename).read_bytes()
        issuer = issuers[demo.filename]
        if issuer.kind == UnitKind.COMMUNE:
            _ensure_villages_from_tables(issuer, demo.filename, data)
        result = import_plan(None, filename=demo.filename, data=data, issuing_unit=issuer)
        if result.plan is not None and result.plan.status == PlanStatus.DRAFT:
            activate_plan(None, result.plan)
            if offset:
                _shift_plan(result.plan, offset)
    db.session.flush()

    accounts = _ensure_people(cao_ngoc, password)
    _write_history(cao_ngoc, story_day=None if as_issued else STORY_DAY + timedelta(days=offset), offset=offset)
    # The dates moved above bypass the operations' bookkeeping: recount the summaries once, as of today.
    summaries.rebuild(status_clock())
    summaries.rebuild_latest()
    return accounts


def _plus(day: date | None, days: int) -> date | None:
    return day + timedelta(days=days) if day is not None else None


def _shift_plan(plan: Plan, days: int) -> None:
    """Move every date of a freshly activated demo plan by `days`, keeping their order and spacing.

    The demo's five plans hold about a hundred tasks and occurrences, a fixed size: one pass over the ORM
    objects is clearer than dialect-specific date arithmetic in SQL and costs nothing that grows."""
    before = {"issued_on": plan.issued_on.isoformat() if plan.issued_on else None}
    plan.issued_on = _plus(plan.issued_on, days)
    tasks = db.session.scalars(sa.select(Task).where(Task.plan_id == plan.id)).all()
    for task in tasks:
        task.due_on = _plus(task.due_on, days)
        task.starts_on = _plus(task.starts_on, days)
        task.ends_on = _plus(task.ends_on, days)
        if task.extra_due_dates:
            task.extra_due_dates = [_plus(date.fromisoformat(d), days).isoformat()  # type: ignore[union-attr]
                                    for d in task.extra_due_dates]
    occurrences = db.session.scalars(
        sa.select(Occurrence).join(Task, Task.id == Occurrence.task_id).where(Task.plan_id == plan.id)).all()
    plain = [o for o in occurrences if o.period_start_on is None and o.period_end_on is None]
    for occurrence in plain:
        # Two-step rename: a moved key may equal one not moved yet ((task, key) is unique).
        occurrence.period_key = f"moving-{occurrence.id}"
    db.session.flush()
    for occurrence in occurrences:
        occurrence.due_on = occurrence.due_on + timedelta(days=days)
        occurrence.original_due_on = occurrence.original_due_on + timedelta(days=days)
    for occurrence in plain:
        # A plain deadline is its own period ("Hạn 25/09/2024"): its key and label are the date.
        occurrence.period_key = occurrence.due_on.isoformat()
        occurrence.period_label = f"Hạn {occurrence.due_on:%d/%m/%Y}"
    db.session.flush()
    audit.record("plan.demo_anchor", plan, None, unit_id=plan.issuing_unit_id, before=before,
                 after={"issued_on": plan.issued_on.isoformat() if plan.issued_on else None, "shift_days": days,
                        "tasks": len(tasks), "occurrences": len(occurrences)})


def _ensure(parent: OrgUnit, name: str, kind: UnitKind, code: str | None) -> OrgUnit:
    if code:
        existing = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))
        if existing is not None:
            return existing
    return ensure_unit(parent, name, kind, code=code)


def _ensure_commune_offices(commune: OrgUnit) -> None:
    for name, kind in COMMUNE_INTERNAL_UNITS:
        ensure_unit(commune, name, kind)


def _ensure_villages_from_tables(commune: OrgUnit, filename: str, data: bytes) -> None:
    """Create the villages a plan's own poverty table lists, so "Các thôn" fans out to them."""
    tables = extract_document(filename, data).get("poverty_tables") or []
    rows = [row for table in tables if isinstance(table, dict) for row in table.get("rows") or []]
    for row in rows:
        area = str((row or {}).get("area") or "").strip() if isinstance(row, dict) else ""
        if area and not area.lower().startswith(("tổng", "cộng", "toàn")):
            name = area if area.lower().startswith(("thôn", "tổ dân phố", "làng", "khu")) else f"Thôn {area}"
            ensure_unit(commune, name, UnitKind.VILLAGE)


def _person(username: str, full_name: str, title: str, password: str, phone_suffix: int) -> Person:
    person = db.session.scalar(sa.select(Person).where(Person.username == username))
    if person is None:
        # Phone numbers from a range no Vietnamese carrier assigns (0900 000 xxx is a demo placeholder).
        person = create_person(None, username=username, full_name=full_name, title=title,
                               email=f"{username}@{EMAIL_DOMAIN}", phone=f"0900000{phone_suffix:03d}")
    set_password(None, person, password)
    return person


def _grant(person: Person, unit: OrgUnit, role: Role) -> None:
    exists = db.session.scalar(sa.select(RoleAssignment.id).where(
        RoleAssignment.person_id == person.id, RoleAssignment.unit_id == unit.id, RoleAssignment.role == role))
    if exists is None:
        db.session.add(RoleAssignment(person=person, unit=unit, role=role))
        db.session.flush()


def _ensure_people(commune: OrgUnit, password: str) -> list[tuple[str, str]]:
    """One officer per unit of the commune that owes tasks, plus head, focal, chair, viewers and admin."""
    accounts: list[tuple[str, str]] = []
    counter = iter(range(1, 1000))

    def add(role_label: str, username: str, full_name: str, title: str, grants: list[tuple[OrgUnit, Role]]) -> None:
        person = _person(username, full_name, title, password, next(counter))
        for unit, role in grants:
            _grant(person, unit, role)
        accounts.append((role_label, username))

    province = commune.parent.parent if commune.parent and commune.parent.parent else commune
    district = commune.parent or commune
    country = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "VN"))
    hung_yen = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "P33"))
    units_with_tasks = db.session.scalars(
        sa.select(OrgUnit).where(OrgUnit.parent_id == commune.id,
                                 OrgUnit.id.in_(sa.select(Task.lead_unit_id))).order_by(OrgUnit.name)).all()
    health = next((u for u in units_with_tasks if u.kind == UnitKind.HEALTH_STATION), None)
    labour = next((u for u in units_with_tasks if "lao động" in u.name.lower()), None)

    add("chair", "chutich.caongoc", "Lê Văn Chủ", "Chủ tịch UBND xã", [(commune, Role.CHAIR)])
    add("focal", "ldtbxh.caongoc", "Nguyễn Thị Đầu Mối", "Công chức Lao động - TB&XH",
        [(commune, Role.FOCAL)] + ([(labour, Role.OFFICER)] if labour else []))
    if health is not None:
        add("officer", "yte.caongoc", "Trần Văn Y Tế", "Cán bộ Trạm Y tế", [(health, Role.OFFICER)])
        add("unit_head", "truongtram.caongoc", "Phạm Thị Trưởng Trạm", "Trạm trưởng Trạm Y tế",
            [(health, Role.UNIT_HEAD)])
    for unit in (u for u in units_with_tasks if u not in (health, labour)):
        add("officer", f"{_slug(unit.name, keep_all=True)[:24]}.caongoc", f"Cán bộ {unit.name}",
            f"Cán bộ {unit.name}", [(unit, Role.OFFICER)])
    add("district_focal", "huyen.ngoclac", "Hoàng Văn Huyện", "Chuyên viên Phòng LĐTB&XH huyện",
        [(district, Role.FOCAL)])
    add("viewer", "tinh.thanhhoa", "Vũ Thị Tỉnh", "Chuyên viên Sở", [(province, Role.VIEWER)])
    if hung_yen is not None:
        add("viewer", "tinh.hungyen", "Đỗ Văn Hưng", "Chuyên viên Sở Y tế Hưng Yên", [(hung_yen, Role.VIEWER)])
    if country is not None:
        add("admin", "quantri", "Quản trị hệ thống", "Quản trị", [(country, Role.ADMIN)])
    # Every other issuing unit gets one officer for its whole subtree, so its plans have a history too.
    others = db.session.scalars(sa.select(OrgUnit).where(
        OrgUnit.id.in_(sa.select(Plan.issuing_unit_id)), OrgUnit.id != commune.id).order_by(OrgUnit.id)).all()
    for unit in others:
        add("officer", f"canbo.{_slug(unit.name)}", f"Cán bộ {unit.name}", "Cán bộ tổng hợp", [(unit, Role.OFFICER)])
    # ... and a chair who reviews its reports and signs its periodic report.
    for n, unit in enumerate(others):
        add("chair", f"chutich.{_slug(unit.name)}", _CHAIR_NAMES[n % len(_CHAIR_NAMES)], "Chủ tịch UBND",
            [(unit, Role.CHAIR)])
    return accounts


_CHAIR_NAMES = ("Nguyễn Văn An", "Trần Thị Bình", "Phạm Văn Cường", "Đỗ Thị Dung", "Hoàng Văn Em")


def _slug(name: str, *, keep_all: bool = False) -> str:
    """An ASCII username part from a unit name ("Công chức Tư pháp - Hộ tịch" -> "tuphaphotich")."""
    import unicodedata

    words = name.replace("Công chức", "").replace("Các ", "").split()
    if not keep_all and len(words) > 1:
        words = words[1:]  # "Xã Nhật Quang" -> "nhatquang"
    base = unicodedata.normalize("NFD", "".join(words).lower().replace("đ", "d"))
    return "".join(c for c in base if c.isascii() and c.isalnum()) or "donvi"


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC) - timedelta(hours=7)  # local 09:00 in UTC


def _write_history(commune: OrgUnit, *, story_day: date | None, offset: int) -> None:
    """The plans as they stand on `story_day` (today, the documents' dates moved): what fell due two weeks or more
    before it was reported, on time or late; of what fell due since, some reports on time, one late, some
    requests for more time (for a date after the story day), the rest overdue by a few days; of what is
    still ahead, a few reports given early and the rest open, the nearest deadlines left for the reminders.
    The commune's reports are reviewed (most accepted, one returned, a few still waiting), one extension
    approved; the units that report a plan's figures (its villages when it fans out to them, else its
    labour office) give values for its indicators, one village staying silent.

    Nothing is dated after the story day. With no story day (the documents' own dates, long past) the
    history is the one the demo always had: every occurrence one of on time, six days late, a request for
    more time (in the commune) or still open, in turn.

    Written once, on the first build (when no report exists yet), so rerunning adds nothing.
    """
    if db.session.scalar(sa.select(sa.func.count(Report.id))):
        return
    occurrences = db.session.scalars(
        sa.select(Occurrence).join(Task, Task.id == Occurrence.task_id).join(Plan, Plan.id == Task.plan_id)
        .where(Plan.status == PlanStatus.ACTIVE, Occurrence.is_open,
               ~sa.exists().where(Report.occurrence_id == Occurrence.id),
               ~sa.exists().where(ExtensionRequest.occurrence_id == Occurrence.id))
        .order_by(Plan.id, Task.position, Occurrence.due_on)
    ).all()
    officers = _officers_by_unit()
    reporters, silent = _figure_reporters()
    targets = _targets_by_plan()
    journey_day = date(2024, 9, 25) + timedelta(days=offset)  # the commune's deadline of the story
    yesterday = story_day - timedelta(days=1) if story_day else date.max
    submitted: list[Report] = []
    extensions: list[ExtensionRequest] = []
    for index, occurrence in enumerate(occurrences):
        lead = occurrence.lead_unit
        officer = next((officers[u] for u in (lead.id, lead.admin_unit_id, occurrence.task.plan.issuing_unit_id)
                        if u in officers), None)
        if officer is None:
            continue
        due = occurrence.due_on
        in_commune = occurrence.lead_unit.parent_id == commune.id
        settled = story_day is None or due <= story_day - timedelta(days=SETTLED_DAYS)
        if in_commune and occurrence.lead_unit.kind == UnitKind.HEALTH_STATION and not (story_day and settled):
            continue  # left open for the officer's journey: the 25/9 report of the health station
        plan_id = occurrence.task.plan_id
        reports_figures = lead.id in reporters.get(plan_id, ())
        if lead.id in silent:
            continue  # the village that never reports: "3/4 thôn đã báo cáo"
        if in_commune and due == journey_day and index % 2 == 1 and not reports_figures:
            continue  # still open, a few days overdue: the reminders have someone to chase
        if story_day and story_day < due <= story_day + timedelta(days=DUE_SOON_KEPT_DAYS):
            continue  # due soon: the first sweep reminds its officers
        choice = index % 5
        if reports_figures and choice > 1:
            choice = index % 2
        # Targets are keyed by the document's years: look them up in the document's calendar.
        year = ((occurrence.period_end_on or due) - timedelta(
            days=0 if occurrence.period_end_on else offset)).year
        values = _demo_values(targets.get(plan_id, {}), year, lead.id, reporters.get(plan_id, ())) \
            if reports_figures else None
        if choice == 2 and in_commune and not (story_day and settled):
            # A request for more time (as issued, for any deadline; anchored, for a recent or coming one, so
            # the date asked for lies ahead).
            extensions.append(occurrence_ops.request_extension(
                officer, occurrence, new_due_on=due + timedelta(days=SETTLED_DAYS),
                reason="Chờ kết quả rà soát hộ nghèo của các thôn."))
            continue
        if story_day is None:
            when = {0: due - timedelta(days=2), 1: due + timedelta(days=6)}.get(choice)  # on time, late or open
        elif settled:
            # History: every report given, on time or six days late.
            when = due - timedelta(days=2) if choice in (0, 3) else due + timedelta(days=6)
        elif due <= story_day:
            # Fell due in the last two weeks: on time, late yesterday, or overdue by a few days.
            when = {0: due - timedelta(days=2), 1: yesterday}.get(choice)
        else:
            # Still ahead: a few reports sent early, the rest open.
            when = min(due - timedelta(days=2), yesterday) if choice == 0 else None
        if when is None or when > yesterday:
            continue
        late = when > due
        report = occurrence_ops.submit_report(
            officer, occurrence, values=values, now=_at(when),
            body="Báo cáo chậm do chờ số liệu thôn." if late else "Đã hoàn thành, báo cáo kèm theo.")
        for value in report.values:
            value.year = year  # figures count toward the document's year, as its targets and named periods do
        submitted.append(report)
    _review(commune, submitted, extensions)


def _review(commune: OrgUnit, reports: list[Report], extensions: list[ExtensionRequest]) -> None:
    """Each plan's chair accepts most reports, every fourth one waiting; the commune's chair also returns one
    late report and approves the first request for more time (the others wait for the chair's journey)."""
    chairs = dict(db.session.execute(
        sa.select(RoleAssignment.unit_id, Person).join(Person, Person.id == RoleAssignment.person_id)
        .where(RoleAssignment.role == Role.CHAIR).order_by(Person.id.desc())).tuples().all())
    returned = next((r for r in reports if r.is_late and r.occurrence.lead_unit.parent_id == commune.id), None)
    for i, report in enumerate(reports):
        chair = chairs.get(report.occurrence.task.plan.issuing_unit_id)
        if chair is None:
            continue
        if report is returned:
            occurrence_ops.review_report(chair, report, accept=False,
                                         comment="Đề nghị bổ sung số liệu hộ nghèo theo biểu mẫu.")
        elif i % 4 != 3:
            occurrence_ops.review_report(chair, report, accept=True)
    if extensions and commune.id in chairs:
        occurrence_ops.decide_extension(chairs[commune.id], extensions[0], approve=True, note="Đồng ý gia hạn.")


def _figure_reporters() -> tuple[dict[int, set[int]], set[int]]:
    """Per plan, the units whose reports carry its figures: the villages it fans out to, else its labour office
    (or the issuing unit's own officer); and the one village of each fan-out that does not report."""
    rows = db.session.execute(
        sa.select(Task.plan_id, OrgUnit.id, OrgUnit.name, OrgUnit.kind)
        .join(OrgUnit, OrgUnit.id == Task.lead_unit_id).order_by(Task.plan_id, OrgUnit.name)
    ).all()
    by_plan: dict[int, list[tuple[int, str, UnitKind]]] = {}
    for plan_id, unit_id, name, kind in rows:
        if (unit_id, name, kind) not in by_plan.setdefault(plan_id, []):
            by_plan[plan_id].append((unit_id, name, kind))
    reporters: dict[int, set[int]] = {}
    silent: set[int] = set()
    for plan_id, units in by_plan.items():
        villages = [u for u in units if u[2] == UnitKind.VILLAGE and not u[1].lower().startswith("các")]
        if len(villages) > 1:
            reporters[plan_id] = {u[0] for u in villages[:-1]}
            silent.add(villages[-1][0])
            continue
        labour = [u for u in units if "lao động" in u[1].lower()]
        if labour:
            reporters[plan_id] = {labour[0][0]}
    return reporters, silent


def _targets_by_plan() -> dict[int, dict[int, list[tuple[int, str, Decimal, str]]]]:
    """plan id -> year -> [(indicator id, unit of measure, target, comparator)]."""
    from tracker.models import Indicator, IndicatorTarget

    out: dict[int, dict[int, list[tuple[int, str, Decimal, str]]]] = {}
    rows = db.session.execute(
        sa.select(Indicator.plan_id, IndicatorTarget.year, Indicator.id, Indicator.unit_of_measure,
                  IndicatorTarget.value, IndicatorTarget.comparator)
        .join(IndicatorTarget, IndicatorTarget.indicator_id == Indicator.id).order_by(Indicator.id)
    ).all()
    for plan_id, year, indicator_id, uom, value, comparator in rows:
        out.setdefault(plan_id, {}).setdefault(int(year), []).append(
            (indicator_id, uom or "", Decimal(value), str(comparator)))
    return out


def _demo_values(targets: dict[int, list[tuple[int, str, Decimal, str]]], year: int, unit_id: int,
                 reporters: set[int]) -> dict[int, str]:
    """Plausible figures near each target of the year: rates around the target, counts shared among the
    reporting units; most achieved, some not."""
    ordered = sorted(reporters)
    share = len(ordered) + (1 if len(ordered) > 1 else 0)  # the silent village's part is missing
    position = ordered.index(unit_id) if unit_id in ordered else 0
    values: dict[int, str] = {}
    for n, (indicator_id, uom, target, comparator) in enumerate(targets.get(year, [])):
        factor = Decimal(("0.96", "1.03", "0.99", "1.01")[(n + position) % 4])
        if comparator == "at_least" and (n + position) % 3 == 0:
            factor = Decimal("0.92")  # short of a target
        rate = "%" in uom or "tỷ lệ" in uom.lower()
        value = target * factor if rate or share <= 1 else target * factor / share
        values[indicator_id] = str(value.quantize(Decimal("0.01") if rate else Decimal("1")))
    return values


def _officers_by_unit() -> dict[int, Person]:
    rows = db.session.execute(
        sa.select(RoleAssignment.unit_id, Person).join(Person, Person.id == RoleAssignment.person_id)
        .where(RoleAssignment.role == Role.OFFICER).order_by(Person.id)
    ).all()
    officers: dict[int, Person] = {}
    for unit_id, person in rows:
        officers.setdefault(unit_id, person)
    return officers


#: The accounts the home page suggests for a first look, in the order of the README's table.
SHOWCASE_ACCOUNTS = (
    ("officer", "yte.caongoc"),
    ("focal", "ldtbxh.caongoc"),
    ("chair", "chutich.caongoc"),
    ("viewer", "tinh.hungyen"),
    ("admin", "quantri"),
)


@functools.cache
def demo_document_hashes() -> frozenset[str]:
    """The SHA-256 of each bundled demo plan: a plan imported from one of these bytes is demo data."""
    return frozenset(hashlib.sha256((PLANS_DIR / demo.filename).read_bytes()).hexdigest() for demo in DEMO_PLANS)
