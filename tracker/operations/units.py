"""Create and archive org units; load provinces and communes from the vietnam-provinces package."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import ADMINISTRATIVE_KINDS, OrgUnit, Person, UnitKind
from tracker.operations import audit
from tracker.operations.authz import Permission, require
from tracker.operations.errors import Conflict, ValidationFailed

log = logging.getLogger("tracker.units")

#: The offices and posts every commune has (Nghị định 33/2023 civil-servant posts, the usual public
#: service units and mass organisations), created under each commune by `seed_units`.
COMMUNE_INTERNAL_UNITS: tuple[tuple[str, UnitKind], ...] = (
    ("Văn phòng - Thống kê", UnitKind.OFFICE),
    ("Công chức Lao động - TB&XH", UnitKind.OFFICE),
    ("Công chức Văn hóa - Xã hội", UnitKind.OFFICE),
    ("Công chức Tư pháp - Hộ tịch", UnitKind.OFFICE),
    ("Công chức Địa chính - Nông nghiệp", UnitKind.OFFICE),
    ("Công chức Tài chính - Kế toán", UnitKind.OFFICE),
    ("Trạm Y tế", UnitKind.HEALTH_STATION),
    ("Trường Mầm non", UnitKind.SCHOOL),
    ("Trường Tiểu học", UnitKind.SCHOOL),
    ("Trường Trung học cơ sở", UnitKind.SCHOOL),
    ("Ủy ban MTTQ", UnitKind.MASS_ORGANIZATION),
    ("Hội Nông dân", UnitKind.MASS_ORGANIZATION),
    ("Hội Liên hiệp Phụ nữ", UnitKind.MASS_ORGANIZATION),
    ("Đoàn Thanh niên", UnitKind.MASS_ORGANIZATION),
    ("Hội Cựu chiến binh", UnitKind.MASS_ORGANIZATION),
    ("Công an", UnitKind.AGENCY),
    ("Ban Chỉ huy Quân sự", UnitKind.AGENCY),
    ("Đài truyền thanh", UnitKind.AGENCY),
)


def _child_of(parent: OrgUnit | None) -> sa.ColumnElement[bool]:
    return OrgUnit.parent_id == parent.id if parent is not None else OrgUnit.parent_id.is_(None)


def _place(unit: OrgUnit, parent: OrgUnit | None) -> None:
    """Fill path, depth and the nearest administrative unit once the unit has an id."""
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    unit.depth = (parent.depth + 1) if parent else 0
    if unit.is_administrative:
        unit.admin_unit_id = unit.id
    else:
        unit.admin_unit_id = parent.admin_unit_id if parent else None


def create_unit(
    actor: Person | None,
    *,
    name: str,
    kind: UnitKind,
    parent: OrgUnit | None = None,
    short_name: str | None = None,
    code: str | None = None,
    is_administrative: bool | None = None,
) -> OrgUnit:
    """Create a unit under `parent` (a root when None: only the system or an admin of nothing above)."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed(_l("A unit needs a name."), field="name")
    if len(name) > 255:
        raise ValidationFailed(_l("The name is too long (at most 255 characters)."), field="name")
    if parent is not None:
        require(actor, Permission.ADMIN, parent)
        if parent.is_archived:
            raise Conflict(_l("%(unit)s is archived."), unit=parent.name)
    elif actor is not None:
        raise ValidationFailed(_l("Choose the parent unit."), field="parent_id")
    sibling = db.session.scalar(sa.select(OrgUnit.id).where(_child_of(parent), OrgUnit.name == name))
    if sibling is not None:
        raise Conflict(_l("%(unit)s already exists here."), unit=name)
    code = (code or "").strip() or None
    if code is not None and db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == code)) is not None:
        raise Conflict(_l("The code %(code)s is already used by another unit."), field="code", code=code)
    unit = OrgUnit(
        name=name,
        kind=kind,
        short_name=short_name,
        code=code,
        is_administrative=kind in ADMINISTRATIVE_KINDS if is_administrative is None else is_administrative,
        parent=parent,
    )
    db.session.add(unit)
    db.session.flush()
    _place(unit, parent)
    db.session.flush()
    audit.record("unit.create", unit, actor, unit_id=unit.id, after={"name": name, "kind": kind.value})
    return unit


def archive_unit(actor: Person | None, unit: OrgUnit) -> None:
    """Archive a unit (nothing is deleted): it keeps its history but gets no new tasks."""
    require(actor, Permission.ADMIN, unit)
    if unit.is_archived:
        raise Conflict(_l("%(unit)s is already archived."), unit=unit.name)
    unit.is_archived = True
    unit.archived_at = utcnow()
    audit.record("unit.archive", unit, actor, unit_id=unit.id, before={"is_archived": False},
                 after={"is_archived": True})


def unit_name_key(name: str) -> str:
    """How two spellings of one unit's name compare equal (see `normalize_unit_name`; "uỷ" is "ủy")."""
    from tracker.importer.units import normalize_unit_name

    return normalize_unit_name(name).replace("uỷ", "ủy")


def ensure_unit(parent: OrgUnit | None, name: str, kind: UnitKind, **kw: object) -> OrgUnit:
    """Return the child of `parent` called `name`, creating it (as the system) when missing.

    A child whose name differs only in how it is written (an en dash for a hyphen, old or new tone
    placement, case, spacing, LĐTB&XH for Lao động - Thương binh và Xã hội) is the same unit: two
    plans, or two lines of one plan, must not make two "Sở Lao động - TB&XH".
    """
    existing = db.session.scalar(sa.select(OrgUnit).where(_child_of(parent), OrgUnit.name == name))
    if existing is None:
        key = unit_name_key(name)
        siblings = db.session.scalars(sa.select(OrgUnit).where(_child_of(parent), OrgUnit.is_archived.is_(False))
                                      .order_by(OrgUnit.id))
        existing = next((unit for unit in siblings if unit_name_key(unit.name) == key), None)
    return existing or create_unit(None, name=name, kind=kind, parent=parent, **kw)  # type: ignore[arg-type]


@dataclass
class SeedResult:
    provinces: int = 0
    communes: int = 0
    internal_units: int = 0


def seed_units(province_names: Iterable[str] | None = None, *, with_internal_units: bool = True) -> SeedResult:
    """Load today's provinces and communes (and each commune's usual offices), idempotently.

    Set-based: existing codes are read once, new communes and then their offices are inserted in bulk and
    their paths filled by one UPDATE per level, so the whole country (34 provinces, 3,321 communes, ~60,000
    offices) loads in seconds.
    """
    from vietnam_provinces import Province, Ward

    wanted = {_fold(n) for n in province_names} if province_names else None
    provinces = [p for p in Province.iter_all() if wanted is None or _fold(p.name) in wanted]
    if wanted is not None and len(provinces) < len(wanted):
        known = {_fold(p.name) for p in provinces}
        missing = sorted(n for n in (province_names or []) if _fold(n) not in known)
        raise ValidationFailed(_l("Unknown province: %(names)s."), field="province", names=", ".join(missing))

    country = ensure_unit(None, "Việt Nam", UnitKind.COUNTRY, code="VN")
    existing = dict(db.session.execute(sa.select(OrgUnit.code, OrgUnit.id).where(OrgUnit.code.is_not(None))).all())
    result = SeedResult()
    province_units: dict[int, OrgUnit] = {}
    for p in provinces:
        code = f"P{int(p.code)}"
        if code in existing:
            province_units[int(p.code)] = db.session.get(OrgUnit, existing[code])  # type: ignore[assignment]
            continue
        label = p.name if p.division_type.value != "tỉnh" else f"Tỉnh {p.name}"
        province_units[int(p.code)] = create_unit(None, name=label, kind=UnitKind.PROVINCE, parent=country,
                                                  code=code)
        result.provinces += 1

    new_communes: list[dict[str, object]] = []
    for p in provinces:
        parent = province_units[int(p.code)]
        for w in Ward.iter_by_province(p.code):
            code = f"W{int(w.code)}"
            if code not in existing:
                new_communes.append({"name": w.name, "kind": UnitKind.COMMUNE, "is_administrative": True,
                                     "code": code, "parent_id": parent.id})
    commune_ids = _insert_units(new_communes)
    result.communes = len(commune_ids)

    if with_internal_units:
        offices = [{"name": name, "kind": kind, "is_administrative": False, "parent_id": commune_id}
                   for commune_id in commune_ids for name, kind in COMMUNE_INTERNAL_UNITS]
        result.internal_units = len(offices)
        _insert_units(offices, returning=False)
    if result.communes or result.internal_units:
        # Provinces get an event each from create_unit; the bulk rows get one event for the whole load.
        audit.record("unit.seed", country, None, unit_id=country.id,
                     after={"provinces": result.provinces, "communes": result.communes,
                            "internal_units": result.internal_units, "source": "vietnam-provinces"})
    log.info("seeded units: %s", result)
    return result


def _insert_units(rows: list[dict[str, object]], *, returning: bool = True, batch: int = 5000) -> list[int]:
    """Insert units whose parents are placed already, in bulk, then fill their paths in one UPDATE.

    A path needs the unit's own id, so the rows go in with an empty path and one set-based UPDATE derives
    path, depth and the nearest administrative unit from the parent's (callers insert level by level).
    """
    table = OrgUnit.__table__
    now = utcnow()
    ids: list[int] = []
    for start in range(0, len(rows), batch):
        chunk = [dict(row, path="", depth=0, is_archived=False, created_at=now) for row in rows[start:start + batch]]
        if returning:
            ids += db.session.scalars(
                sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), chunk).all()
        else:
            db.session.execute(sa.insert(table), chunk)
    if rows:
        parent = table.alias("parent")

        def of_parent(column: str) -> sa.ScalarSelect[object]:
            return sa.select(parent.c[column]).where(parent.c.id == table.c.parent_id).scalar_subquery()

        db.session.execute(
            sa.update(table)
            .where(table.c.path == "", table.c.parent_id.is_not(None))
            .values(path=of_parent("path") + sa.cast(table.c.id, sa.String) + "/", depth=of_parent("depth") + 1,
                    admin_unit_id=sa.case((table.c.is_administrative, table.c.id), else_=of_parent("admin_unit_id")))
            .execution_options(synchronize_session=False)
        )
    return ids


def _fold(name: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFC", name).lower().strip()
    for prefix in ("tỉnh ", "thành phố "):
        text = text.removeprefix(prefix)
    return text
