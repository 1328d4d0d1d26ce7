"""What the periodic report says, in the order officials write it, drawn from what was tracked.

I. results by plan section and unit (each unit's report text with its date; late and missing reports named),
the summary counts and the indicator table; II. limitations: overdue, late and returned items, extensions
granted; III. the next period's tasks by unit; IV. proposals (left to the officer). A roll-up adds the units
below side by side. The renderers (`document`, `workbook`) and the preview page only lay this out.

Scope: every figure and line comes from queries filtered by the person's scope, so an officer's draft holds
their units' part of the plan, a chair's the whole commune, a province viewer's the communes below.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from tracker.models import OccurrenceStatus, OrgUnit, Person, Plan, PlanStatus, StatusClock, UnitKind
from tracker.operations.authz import Permission, require
from tracker.operations.errors import PermissionDenied, ValidationFailed
from tracker.periods import Period
from tracker.queries import dashboard as dq
from tracker.queries import reports as rq
from tracker.queries.scope import plan_visible
from tracker.reports.heading import (
    Heading,
    ReportOptions,
    build_heading,
    is_administrative,
    plan_reference,
    report_subject,
    short_reference,
)
from tracker.reports.model import (
    ExtensionItem,
    GroupEntry,
    GroupFigure,
    ItemLine,
    Owed,
    PlanBlock,
    Quote,
    ReportContent,
    ReturnedItem,
    RollupPart,
    SectionBlock,
    Summary,
    UnitEntry,
)
from tracker.reports.text import clean, sentence, shorten

ACCEPTED, SUBMITTED, RETURNED = "accepted", "submitted", "returned"
#: Units of these kinds, several siblings doing the same task, are a plan "fanning out" (các thôn, các xã).
_FANOUT_KINDS = {UnitKind.VILLAGE.value, UnitKind.COMMUNE.value}


# --- Entry points -------------------------------------------------------------------------------------------

def plan_report(actor: Person, plan: Plan, period: Period, *, clock: StatusClock, rollup_unit: OrgUnit | None = None,
                issuer: OrgUnit | None = None, options: ReportOptions | None = None) -> ReportContent:
    """The draft report on one plan for a period; with `rollup_unit`, the roll-up over the units below it."""
    if not plan_visible(actor, plan.id):
        raise PermissionDenied(_l("You do not have permission for this action on %(unit)s."),
                               unit=plan.issuing_unit.name)
    if plan.status not in (PlanStatus.ACTIVE, PlanStatus.ARCHIVED):
        raise ValidationFailed(_l("Only a confirmed plan has a report."), field="plan_id")
    for unit in (rollup_unit, issuer):
        if unit is not None:
            require(actor, Permission.VIEW, unit)
    return _build(actor, [plan], period, clock, within=rollup_unit, issuer=issuer or _default_issuer(plan, rollup_unit),
                  owner=None, options=options or ReportOptions())


def _default_issuer(plan: Plan, rollup_unit: OrgUnit | None) -> OrgUnit:
    """Who reports: the plan's issuing unit; for a roll-up, the roll-up unit, unless the plan is one of its
    departments' (a Sở's plan rolled up over the province's communes is the Sở's report)."""
    if rollup_unit is None:
        return plan.issuing_unit
    issuer = plan.issuing_unit
    if issuer.parent_id == rollup_unit.id and not is_administrative(issuer):
        return issuer
    return rollup_unit


def unit_report(actor: Person, unit: OrgUnit, period: Period, *, clock: StatusClock,
                options: ReportOptions | None = None) -> ReportContent:
    """The draft report on every plan `unit` issued that has something due in the period."""
    require(actor, Permission.VIEW, unit)
    plans = rq.plans_of_unit(actor, unit, period)
    if not plans:
        raise ValidationFailed(_l("%(unit)s has no confirmed plan with anything due in %(period)s."),
                               field="period", unit=unit.name, period=period.label)
    return _build(actor, plans, period, clock, within=None, issuer=unit, owner=unit, options=options or ReportOptions())


# --- Assembling ---------------------------------------------------------------------------------------------

def _build(actor: Person, plans: list[Plan], period: Period, clock: StatusClock, *, within: OrgUnit | None,
           issuer: OrgUnit, owner: OrgUnit | None, options: ReportOptions) -> ReportContent:
    plan_ids = [p.id for p in plans]
    numbers = {p.id: p.number for p in plans}
    tasks = {t.id: t for t in rq.report_tasks(actor, plans, within=within)}
    part = rq.period_slice(actor, plan_ids, period, within=within)
    occurrences = list(rq.period_occurrences(part, clock))
    reports: dict[int, list[rq.ReportLine]] = defaultdict(list)
    for r in rq.period_reports(part):
        reports[r.occurrence_id].append(r)
    figures = rq.unit_figures(actor, plan_ids, period, within=within)

    summary = _summary(occurrences, tasks)
    entries = _unit_entries(tasks, occurrences, reports, clock)
    blocks = [_plan_block(plan, tasks, entries, figures) for plan in plans]

    def unit_of(o: rq.OccurrenceLine) -> str:
        task = tasks.get(o.task_id)
        return task.lead_unit_name if task else ""

    def title_of(task_id: int) -> str:
        task = tasks.get(task_id)
        return shorten(task.title) if task else ""

    def plan_of(task_id: int) -> str | None:
        task = tasks.get(task_id)
        return numbers.get(task.plan_id) if task else None

    overdue, late, returned = _limitations(occurrences, reports, clock, unit_of, title_of, plan_of)
    extensions = _extensions(rq.period_extensions(part), occurrences, unit_of, title_of, plan_of)
    next_period = period.next()
    next_items = [
        ItemLine(unit_of(o), title_of(o.task_id), plan_of(o.task_id), o.due_on, 0, period_label=o.period_label)
        for o in rq.period_occurrences(rq.period_slice(actor, plan_ids, next_period, within=within), clock)
        if o.completed_on is None
    ]
    paths = {t.lead_unit_name: t.lead_path for t in tasks.values()}
    next_items.sort(key=lambda i: (paths.get(i.unit_name, ""), i.due_on))

    scope_unit = within or owner or plans[0].issuing_unit
    indicators = dq.indicator_progress(actor, scope_unit, period=period, plan_ids=plan_ids)
    targets = rq.plan_targets(actor, plan_ids, scope_unit)
    if within is not None:
        # A roll-up's table holds the roll-up unit's own targets; the units below are in its appendix.
        indicators = [p for p in indicators if p.target_unit_id == within.id]
        targets = [t for t in targets if t.unit_id == within.id]
    rollup = _rollup_part(actor, clock, within, plan_ids, period) if within is not None else None

    ancestors = rq.ancestors_of(issuer)
    plan_issuers = {p.issuing_unit_id: p.issuing_unit for p in plans}
    subject = report_subject(plans, plan_issuers, period, rollup_over=within, unit=owner)
    heading = build_heading(issuer=issuer, ancestors=ancestors, subject=subject, today=clock.today,
                            signer=rq.signer_of(issuer), options=options)
    per_unit: dict[int, UnitEntry] = {}
    for e in entries.values():
        _merge(per_unit.setdefault(e.unit_id, UnitEntry(e.unit_id, e.unit_name)), e)
    unit_entries = list(per_unit.values())
    return ReportContent(
        heading=heading, period=period, next_period=next_period, as_of=clock.today,
        intro=_intro(plans, heading, period, within), closing=_closing(plans, heading, period),
        plans=blocks, summary=summary,
        late_units=_names([e for e in unit_entries if e.late]),
        silent_units=_names([e for e in unit_entries if e.missing and not e.reported]),
        indicators=indicators, targets=targets, overdue=overdue, late=late, returned=returned,
        extensions=extensions, next_items=next_items, rollup=rollup,
        file_stem=_file_stem(plans, owner, within, period),
    )


Describe = Callable[[int], str | None]


def _limitations(occurrences: list[rq.OccurrenceLine], reports: dict[int, list[rq.ReportLine]], clock: StatusClock,
                 unit_of: Callable[[rq.OccurrenceLine], str], title_of: Describe, plan_of: Describe
                 ) -> tuple[list[ItemLine], list[ItemLine], list[ReturnedItem]]:
    """Part II: the overdue items (with their extensions and returns), the items done late, the returned reports."""
    overdue, late, returned = [], [], []
    for o in occurrences:
        returns = [r for r in reports.get(o.id, []) if r.review_status == RETURNED]
        if o.status == OccurrenceStatus.OVERDUE.value:
            notes = []
            if o.due_on != o.original_due_on:
                notes.append(f"đã gia hạn từ ngày {o.original_due_on:%d/%m/%Y}")
            if returns:
                notes.append("báo cáo bị trả lại, chưa nộp lại")
            overdue.append(ItemLine(unit_of(o), title_of(o.task_id) or "", plan_of(o.task_id), o.due_on,
                                    max(0, (clock.today - o.due_on).days), "; ".join(notes), o.period_label))
        elif o.status == OccurrenceStatus.DONE_LATE.value and o.completed_on is not None:
            late.append(ItemLine(unit_of(o), title_of(o.task_id) or "", plan_of(o.task_id), o.due_on,
                                 (o.completed_on - o.due_on).days, f"báo cáo ngày {o.completed_on:%d/%m/%Y}",
                                 o.period_label))
        for r in returns:
            later = [x for x in reports[o.id] if x.id > r.id and x.review_status != RETURNED]
            returned.append(ReturnedItem(unit_of(o), title_of(o.task_id) or "", plan_of(o.task_id), r.submitted_on,
                                         r.reviewed_on, clean(r.review_comment), bool(later)))
    return overdue, late, returned


def _extensions(approved: list[rq.ExtensionLine], occurrences: list[rq.OccurrenceLine],
                unit_of: Callable[[rq.OccurrenceLine], str], title_of: Describe, plan_of: Describe
                ) -> list[ExtensionItem]:
    """The extensions granted, each from the due date it replaced to the one it set."""
    by_id = {o.id: o for o in occurrences}
    out, previous = [], {}
    for e in approved:
        o = by_id.get(e.occurrence_id)
        if o is None:
            continue
        start = previous.get(o.id, o.original_due_on)
        previous[o.id] = e.requested_due_on
        out.append(ExtensionItem(unit_of(o), title_of(o.task_id) or "", plan_of(o.task_id), start,
                                 e.requested_due_on, clean(e.reason), e.decided_on))
    return out


def _summary(occurrences: list[rq.OccurrenceLine], tasks: dict[int, rq.TaskLine]) -> Summary:
    s = Summary(units=len({t.lead_unit_id for t in tasks.values()}))
    for o in occurrences:
        if o.status == OccurrenceStatus.DONE_ON_TIME.value:
            s.on_time += 1
        elif o.status == OccurrenceStatus.DONE_LATE.value:
            s.late += 1
        elif o.status == OccurrenceStatus.OVERDUE.value:
            s.overdue += 1
        else:
            s.not_due += 1
    s.due = s.on_time + s.late + s.overdue
    return s


def _quote_of(o: rq.OccurrenceLine, reports: list[rq.ReportLine]) -> Quote | None:
    """The report that stands for a done occurrence: its latest one not returned."""
    live = [r for r in reports if r.review_status != RETURNED]
    if o.completed_on is None or not live:
        return None
    r = live[-1]
    return Quote(sentence(r.body), r.submitted_on, max(0, (r.submitted_on - o.due_on).days),
                 r.review_status == SUBMITTED, o.period_label)


def _unit_entries(tasks: dict[int, rq.TaskLine], occurrences: list[rq.OccurrenceLine],
                  reports: dict[int, list[rq.ReportLine]], clock: StatusClock) -> dict[int, UnitEntry]:
    """One entry per (task, lead unit): its quotes and what it still owes in the period."""
    entries = {tid: UnitEntry(t.lead_unit_id, t.lead_unit_name) for tid, t in tasks.items()}
    for o in occurrences:
        entry = entries.get(o.task_id)
        if entry is None:
            continue
        entry.has_deadline = True
        quote = _quote_of(o, reports.get(o.id, []))
        if quote is not None:
            entry.quotes.append(quote)
        elif o.completed_on is None:
            overdue = o.status == OccurrenceStatus.OVERDUE.value
            returned = any(r.review_status == RETURNED for r in reports.get(o.id, []))
            entry.owed.append(Owed(o.due_on, overdue, max(0, (clock.today - o.due_on).days) if overdue else 0,
                                   returned, o.period_label))
    return entries


def _group_key(task: rq.TaskLine) -> tuple[object, ...] | None:
    """Tasks with the same key in a section are one task fanned out to sibling units."""
    if task.fanout_phrase:
        return (task.section_id, task.fanout_phrase.lower(), clean(task.title).lower())
    if task.lead_unit_kind in _FANOUT_KINDS:
        return (task.section_id, task.lead_unit_kind, task.lead_parent_id, clean(task.title).lower())
    return None


def _group_label(members: list[rq.TaskLine]) -> str:
    phrase = members[0].fanout_phrase
    if phrase:
        return phrase[:1].upper() + phrase[1:]
    if all(t.lead_unit_kind == UnitKind.COMMUNE.value for t in members):
        return "UBND các xã, phường"
    return "Các thôn, tổ dân phố"


def _merge(into: UnitEntry, other: UnitEntry) -> None:
    into.quotes += other.quotes
    into.owed += other.owed
    into.has_deadline = into.has_deadline or other.has_deadline


def _plan_block(plan: Plan, tasks: dict[int, rq.TaskLine], entries: dict[int, UnitEntry],
                figures: list[rq.UnitFigure]) -> PlanBlock:
    """The plan's sections in document order, each with its units (fanned-out units as one group)."""
    block = PlanBlock(plan.id, plan.number, plan_reference(plan, plan.issuing_unit))
    ordered = [t for t in tasks.values() if t.plan_id == plan.id]
    sections: dict[int | None, tuple[SectionBlock, list[rq.TaskLine]]] = {}
    for t in ordered:
        if t.section_id not in sections:
            title = t.section_title or shorten(t.title, 90)
            sections[t.section_id] = (SectionBlock(t.section_code, title), [])
        sections[t.section_id][1].append(t)
    by_unit_figures: dict[int, list[rq.UnitFigure]] = defaultdict(list)
    for f in figures:
        by_unit_figures[f.unit_id].append(f)
    for section, section_tasks in sections.values():
        groups: dict[tuple[object, ...], list[rq.TaskLine]] = defaultdict(list)
        for t in section_tasks:
            key = _group_key(t)
            if key is not None:
                groups[key].append(t)
        placed: dict[object, UnitEntry | GroupEntry] = {}
        for t in section_tasks:
            entry = entries[t.id]
            key = _group_key(t)
            if key is not None and len({m.lead_unit_id for m in groups[key]}) > 1:
                group = placed.get(key)
                if group is None:
                    group = placed[key] = GroupEntry(_group_label(groups[key]), [])
                    section.entries.append(group)
                assert isinstance(group, GroupEntry)
                same = next((m for m in group.members if m.unit_id == entry.unit_id), None)
                if same is None:
                    group.members.append(UnitEntry(entry.unit_id, entry.unit_name, list(entry.quotes),
                                                   list(entry.owed), entry.has_deadline))
                else:
                    _merge(same, entry)
                continue
            single = placed.get(("unit", t.lead_unit_id))
            if single is None:
                single = placed[("unit", t.lead_unit_id)] = UnitEntry(entry.unit_id, entry.unit_name)
                section.entries.append(single)
            assert isinstance(single, UnitEntry)
            _merge(single, entry)
        for item in section.entries:
            if isinstance(item, GroupEntry):
                item.figures = _group_figures(item, by_unit_figures)
        block.sections.append(section)
    return block


def _group_figures(group: GroupEntry, by_unit: dict[int, list[rq.UnitFigure]]) -> list[GroupFigure]:
    """The group's figures summed up (averaged for rates), with how many of its units reported each."""
    values: dict[int, list[rq.UnitFigure]] = defaultdict(list)
    for member in group.members:
        for f in by_unit.get(member.unit_id, []):
            values[f.indicator_id].append(f)
    out = []
    for indicator_id in sorted(values):
        found = values[indicator_id]
        total = sum((f.value for f in found), Decimal(0))
        value = total / len(found) if dq.is_rate(found[0].unit_of_measure) else total
        out.append(GroupFigure(found[0].name, found[0].unit_of_measure, value.quantize(Decimal("0.0001")),
                               len(found), group.total))
    return out


def _rollup_part(actor: Person, clock: StatusClock, parent: OrgUnit, plan_ids: list[int], period: Period
                 ) -> RollupPart:
    rows = dq.rollup(actor, clock, parent, period=period, plan_id=plan_ids[0])
    cells = {(f.indicator_id, f.child_id): f for f in rq.figures_by_child(actor, parent, plan_ids, period)}
    indicators = sorted({(f.indicator_id, f.name, f.unit_of_measure) for f in cells.values()})
    return RollupPart(parent.id, parent.name, rows, indicators, cells)


def _names(entries: list[UnitEntry]) -> list[str]:
    return list(dict.fromkeys(e.unit_name for e in entries))


def _intro(plans: list[Plan], heading: Heading, period: Period, rollup_over: OrgUnit | None) -> str:
    if len(plans) > 1:
        refs = "; ".join(plan_reference(p, p.issuing_unit) for p in plans)
        return (f"Thực hiện {refs}, {heading.issuer_short} báo cáo kết quả thực hiện {period.label} "
                f"như sau:")
    ref = plan_reference(plans[0], plans[0].issuing_unit)
    if rollup_over is not None:
        return (f"Thực hiện {ref}; căn cứ báo cáo của các đơn vị, {heading.issuer_short} tổng hợp kết quả thực hiện "
                f"{period.label} trên địa bàn {short_reference(rollup_over)} như sau:")
    return f"Thực hiện {ref}; căn cứ báo cáo của các đơn vị, {heading.issuer_short} báo cáo kết quả thực hiện " \
           f"{period.label} như sau:"


def _closing(plans: list[Plan], heading: Heading, period: Period) -> str:
    what = "các kế hoạch" if len(plans) > 1 else (f"Kế hoạch số {plans[0].number}" if plans[0].number else "Kế hoạch")
    return f"Trên đây là báo cáo kết quả thực hiện {what} {period.label} của {heading.issuer_short}./."


def _file_stem(plans: list[Plan], owner: OrgUnit | None, rollup: OrgUnit | None, period: Period) -> str:
    key = period.key.replace("..", "_")
    if owner is not None:
        return f"bao-cao-don-vi-{owner.id}-{key}"
    if rollup is not None:
        return f"bao-cao-tong-hop-{plans[0].id}-{rollup.id}-{key}"
    return f"bao-cao-{plans[0].id}-{key}"
