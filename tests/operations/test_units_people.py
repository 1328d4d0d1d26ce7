"""The org tree, scope checks and people."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import OrgUnit, Role, UnitKind
from tracker.operations import authz, people, units
from tracker.operations.errors import Conflict, PermissionDenied, ValidationFailed


def test_paths_depth_and_admin_unit(commune):
    assert commune.health.path == f"{commune.xa.path}{commune.health.id}/"
    assert commune.health.depth == commune.xa.depth + 1
    assert commune.health.admin_unit_id == commune.xa.id
    assert commune.xa.admin_unit_id == commune.xa.id
    assert commune.village.admin_unit_id == commune.xa.id


def test_subtree_clause_selects_exactly_the_subtree(commune, make_unit):
    # A sibling whose id shares a prefix must not match ("/1/2/" vs "/1/23/").
    names = set(db.session.scalars(sa.select(OrgUnit.name).where(OrgUnit.subtree_clause(commune.xa.path))))
    assert names == {"Xã Cao Ngọc", "Trạm Y tế", "Công chức Lao động - TB&XH", "Trường Tiểu học", "Thôn 1"}


def test_scope_follows_role_assignments(commune):
    assert authz.can(commune.officer, authz.Permission.ACT, commune.health)
    assert not authz.can(commune.officer, authz.Permission.ACT, commune.labour)
    assert authz.can(commune.viewer, authz.Permission.VIEW, commune.health)
    assert not authz.can(commune.viewer, authz.Permission.ACT, commune.health)
    assert authz.can(commune.chair, authz.Permission.DECIDE_EXTENSION, commune.health)
    assert not authz.can(commune.chair, authz.Permission.VIEW, commune.other_health)
    commune.officer.is_active = False
    assert not authz.can(commune.officer, authz.Permission.VIEW, commune.health)


def test_scope_clause_filters_rows(commune):
    visible = set(db.session.scalars(
        sa.select(OrgUnit.id).where(authz.scope_clause(commune.officer, OrgUnit.path))))
    assert visible == {commune.health.id}
    assert db.session.scalars(sa.select(OrgUnit.id).where(
        authz.scope_clause(commune.viewer, OrgUnit.path))).all()


def test_unit_validation(commune):
    with pytest.raises(Conflict):
        units.create_unit(commune.admin, name="Trạm  Y tế", kind=UnitKind.HEALTH_STATION, parent=commune.xa)
    with pytest.raises(ValidationFailed):
        units.create_unit(commune.admin, name=" ", kind=UnitKind.OFFICE, parent=commune.xa)
    with pytest.raises(PermissionDenied):
        units.create_unit(commune.chair, name="Ban mới", kind=UnitKind.COMMITTEE, parent=commune.xa)
    unit = units.create_unit(commune.admin, name="Ban Chỉ đạo giảm nghèo", kind=UnitKind.COMMITTEE,
                             parent=commune.xa)
    units.archive_unit(commune.admin, unit)
    with pytest.raises(Conflict):
        units.archive_unit(commune.admin, unit)


def test_seed_units_loads_a_province_idempotently(app):
    first = units.seed_units(["Hưng Yên"])
    db.session.commit()
    assert first.provinces == 1 and first.communes == 104
    assert first.internal_units == 104 * len(units.COMMUNE_INTERNAL_UNITS)
    again = units.seed_units(["Hưng Yên"])
    assert (again.provinces, again.communes, again.internal_units) == (0, 0, 0)
    from tracker.models import AuditEvent

    seeded = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "unit.seed")).all()
    assert len(seeded) == 1 and seeded[0].after["communes"] == 104  # the second, empty load audits nothing
    commune = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == UnitKind.COMMUNE).limit(1))
    assert commune.path.count("/") == 4 and commune.is_administrative
    # Bulk-inserted units get the path, depth and administrative unit that create_unit would give them.
    for unit in db.session.scalars(sa.select(OrgUnit).where(OrgUnit.parent_id == commune.id)):
        assert (unit.path, unit.depth, unit.admin_unit_id) == (f"{commune.path}{unit.id}/", commune.depth + 1,
                                                               commune.id)
    assert commune.admin_unit_id == commune.id
    assert db.session.scalar(sa.select(sa.func.count()).where(OrgUnit.path == "")) == 0
    with pytest.raises(ValidationFailed):
        units.seed_units(["Atlantis"])


def test_people_validation_and_passwords(app):
    person = people.create_person(None, username="Can.Bo", full_name=" Nguyễn  Văn A ", password="mat-khau-dai")
    assert person.username == "can.bo" and person.full_name == "Nguyễn Văn A"
    assert people.check_password(person, "mat-khau-dai") and not people.check_password(person, "sai")
    with pytest.raises(Conflict):
        people.create_person(None, username="can.bo", full_name="B")
    with pytest.raises(ValidationFailed):
        people.create_person(None, username="x y", full_name="B")
    with pytest.raises(ValidationFailed):
        people.create_person(None, username="cb2", full_name="B", email="not-an-email")
    with pytest.raises(ValidationFailed):
        people.set_password(None, person, "short")


def test_api_tokens_are_hashed_and_revocable(commune):
    token, clear = people.create_api_token(None, commune.officer, "tích hợp")
    assert token.token_hash != clear and people.person_for_token(clear) == commune.officer
    people.revoke_api_token(commune.officer, token)
    assert people.person_for_token(clear) is None
    assert people.person_for_token("trk_nonsense") is None


def test_role_assignment_is_admin_only_and_audited(commune):
    from tracker.models import AuditEvent

    with pytest.raises(PermissionDenied):
        people.assign_role(commune.chair, commune.officer, commune.labour, Role.OFFICER)
    people.assign_role(commune.admin, commune.officer, commune.labour, Role.OFFICER)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "role.assign")
                              .order_by(AuditEvent.id.desc()).limit(1))
    assert event.actor_id == commune.admin.id and event.after["role"] == "officer"


def test_api_tokens_expire_after_their_lifetime(app, commune):
    from datetime import timedelta

    import time_machine

    from tracker.clock import utcnow

    token, clear = people.create_api_token(None, commune.officer, "Excel")
    lifetime = timedelta(days=app.config["API_TOKEN_LIFETIME_DAYS"])
    assert abs(token.expires_at - utcnow() - lifetime) < timedelta(minutes=1)
    short, short_clear = people.create_api_token(None, commune.officer, "một ngày", lifetime=timedelta(days=1))
    forever, forever_clear = people.create_api_token(None, commune.officer, "lịch", lifetime=None)
    assert forever.expires_at is None
    with time_machine.travel(short.expires_at + timedelta(seconds=1), tick=False):
        assert people.person_for_token(short_clear) is None
        assert people.person_for_token(clear) == commune.officer
    with time_machine.travel(token.expires_at, tick=False):  # the instant it expires, it no longer works
        assert people.person_for_token(clear) is None
        assert people.person_for_token(forever_clear) == commune.officer


@pytest.mark.parametrize("app_config", [{"API_TOKEN_LIFETIME_DAYS": 0}])
def test_a_lifetime_of_zero_days_means_tokens_never_expire(app_config, commune):
    token, _clear = people.create_api_token(None, commune.officer, "Excel")
    assert token.expires_at is None


def test_ensure_unit_finds_a_sibling_spelt_differently(commune):
    existing = units.ensure_unit(commune.xa, "Công chức Lao động - Thương binh và Xã hội", UnitKind.OFFICE)
    for spelling in ("Công chức Lao động – Thương binh và Xã hội", "công chức  LĐTB&XH",
                     "Công chức Lao động - Thương binh và Xã hội"):
        assert units.ensure_unit(commune.xa, spelling, UnitKind.OFFICE) == existing
    other = units.ensure_unit(commune.xa, "Công chức Tư pháp - Hộ tịch", UnitKind.OFFICE)
    assert other != existing
