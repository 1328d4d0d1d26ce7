"""The organisation tree: administrative units and the offices inside them, of any depth."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, PathString, TimestampMixin, UTCDateTime, enum_type


class UnitKind(enum.StrEnum):
    """What a node of the tree is; depth is never implied by the kind."""

    COUNTRY = "country"
    MINISTRY = "ministry"
    PROVINCE = "province"
    DISTRICT = "district"  # pre-July-2025 plans name them; kept for history
    COMMUNE = "commune"  # xã, phường, đặc khu
    VILLAGE = "village"  # thôn, tổ dân phố
    DEPARTMENT = "department"  # Sở, Phòng, Ban of a province or district
    OFFICE = "office"  # a commune's civil-servant post or office (Công chức Tư pháp - Hộ tịch ...)
    HEALTH_STATION = "health_station"
    SCHOOL = "school"
    MASS_ORGANIZATION = "mass_organization"  # Ủy ban MTTQ, Hội Nông dân, Đoàn Thanh niên ...
    COMMITTEE = "committee"  # Ban chỉ đạo and other standing committees
    AGENCY = "agency"  # anything else: police, bank branch, radio station


#: Kinds that are a level of local government by default (escalation climbs these).
ADMINISTRATIVE_KINDS = frozenset({UnitKind.COUNTRY, UnitKind.PROVINCE, UnitKind.DISTRICT, UnitKind.COMMUNE})


class OrgUnit(TimestampMixin, Base):
    """A node of the org tree, with a materialised path for subtree queries."""

    __tablename__ = "org_units"
    __table_args__ = (
        sa.UniqueConstraint("parent_id", "name"),
        sa.Index("ix_org_units_path", "path"),
        sa.Index("ix_org_units_admin_unit_id", "admin_unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    short_name: Mapped[str | None] = mapped_column(sa.String(64))
    kind: Mapped[UnitKind] = mapped_column(enum_type(UnitKind))
    is_administrative: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Official code, e.g. the vietnam-provinces province or ward code ("P33", "W12345").
    code: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    #: "/1/7/42/": ids from the root; a subtree is a path-prefix range.
    path: Mapped[str] = mapped_column(PathString, default="")
    depth: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    #: The nearest administrative unit containing this one (itself when administrative).
    admin_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"))
    is_archived: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    parent: Mapped[OrgUnit | None] = relationship(
        remote_side=[id], foreign_keys=[parent_id], back_populates="children"
    )
    children: Mapped[list[OrgUnit]] = relationship(
        foreign_keys=[parent_id], back_populates="parent", order_by="OrgUnit.name"
    )
    admin_unit: Mapped[OrgUnit | None] = relationship(remote_side=[id], foreign_keys=[admin_unit_id])

    def _repr_fields(self) -> tuple[str, ...]:
        return ("id", "name", "kind")

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this unit, itself included."""
        return [int(p) for p in self.path.strip("/").split("/") if p]

    def contains(self, other: OrgUnit) -> bool:
        """Whether `other` is this unit or lies in its subtree."""
        return bool(self.path) and other.path.startswith(self.path)

    @staticmethod
    def subtree_clause(path: str, column: sa.ColumnElement[str] | None = None) -> sa.ColumnElement[bool]:
        """SQL for "path lies in the subtree at `path`", as an index-friendly range."""
        col = column if column is not None else OrgUnit.path
        # Paths hold digits and "/"; "0" sorts right after "/", so [p, p[:-1] + "0") is the prefix range.
        return sa.and_(col >= path, col < path[:-1] + "0")
