"""Scope checks on the references a write carries: which units a plan may name, which people an admin may
give roles to. Every operation that stores a reference calls these, whatever the caller (web, API, CLI,
importer), so a form or a JSON body cannot point a plan's task at a unit in another commune.

For a plan issued by unit U, whose jurisdiction J is U's administrative unit (U itself for a commune or a
province, the province for its Sở Y tế, the commune for its justice officer):

* lead unit, focal unit (the standing agency), a unit given a target: J or a unit of its subtree (a Sở's
  plan gives the province's communes tasks; a commune's plan never reaches the next commune);
* report-to and coordinating units: those, an ancestor of U ("báo cáo UBND huyện"), or a child of an
  ancestor (a province's departments, "báo cáo Sở Y tế"; a neighbouring commune).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from tracker.extensions import db
from tracker.models import OrgUnit, Person, Plan
from tracker.operations.authz import Permission, require
from tracker.operations.errors import ValidationFailed


def in_subtree(unit: OrgUnit, root: OrgUnit) -> bool:
    return unit.path.startswith(root.path)


def jurisdiction(issuer: OrgUnit) -> OrgUnit:
    """The administrative unit whose subtree a plan of `issuer` may assign tasks in."""
    if issuer.admin_unit_id is None or issuer.admin_unit_id == issuer.id:
        return issuer
    # Read by id, not through the self-referencing relationship, which would tie the unit-of-work in a cycle.
    return db.session.get(OrgUnit, issuer.admin_unit_id) or issuer


def lead_allowed(plan: Plan, unit: OrgUnit) -> bool:
    return in_subtree(unit, jurisdiction(plan.issuing_unit))


def report_to_allowed(plan: Plan, unit: OrgUnit) -> bool:
    return coordinating_allowed(plan, unit)


def coordinating_allowed(plan: Plan, unit: OrgUnit) -> bool:
    issuer = plan.issuing_unit
    ancestors = issuer.ancestor_ids
    return lead_allowed(plan, unit) or unit.id in ancestors or unit.parent_id in ancestors


def _not_archived(unit: OrgUnit, field: str) -> None:
    if unit.is_archived:
        raise ValidationFailed(_l("%(unit)s is archived."), field=field, unit=unit.name)


def check_lead(plan: Plan, unit: OrgUnit) -> OrgUnit:
    _not_archived(unit, "lead_unit_id")
    if not lead_allowed(plan, unit):
        raise ValidationFailed(_l("%(unit)s is not a unit of %(issuer)s; choose one of its units."),
                               field="lead_unit_id", unit=unit.name, issuer=jurisdiction(plan.issuing_unit).name)
    return unit


def check_report_to(plan: Plan, unit: OrgUnit) -> OrgUnit:
    _not_archived(unit, "report_to_unit_id")
    if not report_to_allowed(plan, unit):
        raise ValidationFailed(_l("Reports can go to %(issuer)s, its units or the levels above it, not to %(unit)s."),
                               field="report_to_unit_id", unit=unit.name, issuer=plan.issuing_unit.name)
    return unit


def check_coordinating(plan: Plan, unit: OrgUnit) -> OrgUnit:
    _not_archived(unit, "coordinating_unit_ids")
    if not coordinating_allowed(plan, unit):
        raise ValidationFailed(_l("%(unit)s is too far from %(issuer)s to coordinate this task."),
                               field="coordinating_unit_ids", unit=unit.name, issuer=plan.issuing_unit.name)
    return unit


def check_own_unit(issuer: OrgUnit, unit: OrgUnit, field: str) -> OrgUnit:
    """A unit that must lie in the issuer's jurisdiction (a plan's focal unit, a unit given a target)."""
    _not_archived(unit, field)
    if not in_subtree(unit, jurisdiction(issuer)):
        raise ValidationFailed(_l("%(unit)s is not a unit of %(issuer)s; choose one of its units."),
                               field=field, unit=unit.name, issuer=jurisdiction(issuer).name)
    return unit


def require_person_in_scope(actor: Person | None, person: Person) -> None:
    """An admin may act on a person only when they administer every unit the person holds a role on (a person
    with no role yet is anyone's to place): no admin reaches into another commune's accounts."""
    if actor is None or actor.id == person.id:
        return
    for assignment in person.roles:
        require(actor, Permission.ADMIN, assignment.unit)
