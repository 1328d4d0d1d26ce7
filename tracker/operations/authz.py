"""Permissions, checked here in the domain layer for every caller (web, API, CLI, jobs).

A role assignment grants its permissions on its unit and the unit's whole subtree.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from tracker.models import OrgUnit, Person, Role
from tracker.operations.errors import PermissionDenied


class Permission(enum.StrEnum):
    VIEW = "view"  # see tasks, reports, dashboards
    ACT = "act"  # submit reports, mark done, comment, ask for more time
    REVIEW = "review"  # accept or return reports
    DECIDE_EXTENSION = "decide_extension"
    MANAGE_PLANS = "manage_plans"  # import, edit, activate, cancel plans and tasks
    ADMIN = "admin"  # units, people, roles, policies, templates, outbox


_GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.VIEW: frozenset(Role),
    Permission.ACT: frozenset({Role.OFFICER, Role.UNIT_HEAD, Role.ADMIN}),
    Permission.REVIEW: frozenset({Role.FOCAL, Role.CHAIR, Role.ADMIN}),
    Permission.DECIDE_EXTENSION: frozenset({Role.CHAIR, Role.ADMIN}),
    Permission.MANAGE_PLANS: frozenset({Role.FOCAL, Role.CHAIR, Role.ADMIN}),
    Permission.ADMIN: frozenset({Role.ADMIN}),
}


def roles_for(permission: Permission) -> frozenset[Role]:
    return _GRANTS[permission]


def can(person: Person | None, permission: Permission, unit: OrgUnit) -> bool:
    """Whether `person` holds `permission` on `unit` (None is the system itself, which may do anything)."""
    if person is None:
        return True
    if not person.is_active:
        return False
    allowed = _GRANTS[permission]
    return any(a.role in allowed and a.unit.contains(unit) for a in person.roles)


def require(person: Person | None, permission: Permission, unit: OrgUnit) -> None:
    """Raise PermissionDenied unless `person` holds `permission` on `unit`."""
    if not can(person, permission, unit):
        raise PermissionDenied(
            _l("You do not have permission for this action on %(unit)s."), unit=unit.name
        )


def scope_paths(person: Person, permission: Permission = Permission.VIEW) -> list[str]:
    """The subtree roots (as paths) where `person` holds `permission`, without nested duplicates."""
    allowed = _GRANTS[permission]
    paths = sorted({a.unit.path for a in person.roles if a.role in allowed and person.is_active})
    roots: list[str] = []
    for path in paths:
        if not any(path.startswith(root) for root in roots):
            roots.append(path)
    return roots


def scope_clause(
    person: Person | None, path_column: sa.ColumnElement[str], permission: Permission = Permission.VIEW
) -> sa.ColumnElement[bool]:
    """SQL restricting rows to units inside `person`'s scope (`path_column` is an OrgUnit.path)."""
    if person is None:
        return sa.true()
    roots = scope_paths(person, permission)
    if not roots:
        return sa.false()
    return sa.or_(*(OrgUnit.subtree_clause(root, path_column) for root in roots))
