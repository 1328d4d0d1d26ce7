"""Who sees which occurrences: the same answer from every read query, whichever SQL shape scope chooses.

`queries.scope` answers "lead unit, report-to unit or issuing unit in scope" with a different statement for a
person who may view a unit entirely, for a viewer of a whole tree and for a narrow scope; these tests hold
all of them to the Python rule (`occurrence_visible`), and check that nothing is counted twice.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import Occurrence, Role, StatusClock, UnitKind
from tracker.operations.plans import activate_plan
from tracker.queries import dashboard, listing
from tracker.queries.scope import occurrence_visible

CLOCK = StatusClock.for_day(date(2024, 10, 1))


def _world(commune, make_unit, make_person, make_plan, make_task):
    """A province department that commune tasks report to, a plan it issues, and a second tree."""
    department = make_unit("Sở Y tế", UnitKind.DEPARTMENT, parent=commune.province)
    other_root = make_unit("Tỉnh Khác", UnitKind.PROVINCE)
    other_commune = make_unit("Xã Xa", UnitKind.COMMUNE, parent=other_root)
    far_office = make_unit("Trạm Y tế", UnitKind.HEALTH_STATION, parent=other_commune)

    commune_plan = make_plan(commune.xa)
    make_task(commune_plan, commune.health, title="Báo cáo Sở", due=date(2024, 9, 25), report_to_unit=department)
    make_task(commune_plan, commune.health, title="Báo cáo xã", due=date(2024, 9, 26), report_to_unit=commune.xa)
    make_task(commune_plan, commune.labour, title="Việc của xã", due=date(2024, 10, 20))
    department_plan = make_plan(department)
    make_task(department_plan, commune.labour, title="Việc Sở giao", due=date(2024, 9, 20))
    far_plan = make_plan(other_commune)
    across = make_task(far_plan, far_office, title="Báo cáo sang tỉnh bạn", due=date(2024, 9, 10))
    # Plans may no longer name a report-to unit in another province (operations/references.py); rows from
    # before that rule, or from a restored backup, still must be read by the rules below.
    across.report_to_unit = commune.xa
    make_task(far_plan, far_office, title="Việc riêng", due=date(2024, 9, 11))
    for plan in (commune_plan, department_plan, far_plan):
        activate_plan(None, plan)
    people = {
        "department": make_person("so.yte", roles=[(Role.VIEWER, department)]),
        "province": commune.viewer,
        "chair": commune.chair,
        "other_officer": commune.other_officer,
        "far_viewer": make_person("tinh.khac", roles=[(Role.VIEWER, other_root)]),
    }
    db.session.commit()
    return people


def _expected(person) -> set[int]:
    return {o.id for o in db.session.scalars(sa.select(Occurrence)) if occurrence_visible(person, o)}


def test_every_read_query_sees_what_the_python_rule_allows(commune, make_unit, make_person, make_plan, make_task):
    people = _world(commune, make_unit, make_person, make_plan, make_task)
    assert _expected(people["department"])  # the department sees commune tasks through two branches
    for name, person in people.items():
        expected = _expected(person)
        listed = listing.list_occurrences(person, clock=CLOCK)
        assert {item.occurrence.id for item in listed.items} == expected, name
        paged = listing.list_occurrences(person, clock=CLOCK, page=1, page_size=2)
        assert paged.total == len(expected), name
        counts = dashboard.status_counts(person, CLOCK)
        assert sum(counts.values()) == len(expected), name  # nothing counted twice
        timeliness = dashboard.timeliness_by_unit(person, CLOCK)
        assert sum(t.expected + t.open_not_due for t in timeliness) == len(expected), name
        overdue = {row.occurrence_id for group in dashboard.overdue_by_unit(person, CLOCK) for row in group.rows}
        assert overdue == {i for i in expected if db.session.get(Occurrence, i).due_on < CLOCK.today}, name
        # Within a unit: the whole of it for someone who may view it, else what they see of it.
        in_commune = {i for i in expected if commune.xa.contains(db.session.get(Occurrence, i).lead_unit)}
        within = listing.list_occurrences(person, unit_id=commune.xa.id, clock=CLOCK)
        assert {item.occurrence.id for item in within.items} == in_commune, name
        assert sum(dashboard.status_counts(person, CLOCK, unit=commune.xa).values()) == len(in_commune), name


def test_keyset_paging_continues_after_the_last_item(commune, make_unit, make_person, make_plan, make_task):
    people = _world(commune, make_unit, make_person, make_plan, make_task)
    viewer = people["province"]
    everything = [item.occurrence for item in listing.list_occurrences(viewer, clock=CLOCK).items]
    first = listing.list_occurrences(viewer, clock=CLOCK, page=1, page_size=2)
    last = first.items[-1].occurrence
    rest = listing.list_occurrences(viewer, clock=CLOCK, page=1, page_size=50, after=(last.due_on, last.id))
    assert [i.occurrence.id for i in first.items + rest.items] == [o.id for o in everything]
    assert rest.total == len(everything)


def test_plans_are_visible_when_issued_in_scope_or_tasking_a_unit_in_it(commune, make_unit, make_person,
                                                                       make_plan, make_task):
    people = _world(commune, make_unit, make_person, make_plan, make_task)
    titles = {name: sorted(p.issuing_unit.name for p in listing.list_plans(person).items)
              for name, person in people.items()}
    assert titles["department"] == ["Sở Y tế", "Xã Cao Ngọc"]
    assert titles["far_viewer"] == ["Xã Xa"]
    assert titles["other_officer"] == []
    assert "Xã Xa" in titles["chair"]  # a task reports to the commune
    assert {r.issuing_unit for r in dashboard.plans_list(people["department"], CLOCK)} == {"Sở Y tế", "Xã Cao Ngọc"}
