"""People, their scoped role assignments and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, TimestampMixin, UTCDateTime, enum_type
from tracker.models.org import OrgUnit


class Role(enum.StrEnum):
    """What a person may do, always scoped to one unit and its subtree."""

    OFFICER = "officer"  # owes the unit's tasks: submits reports, marks done
    UNIT_HEAD = "unit_head"  # head of the unit: receives its escalations
    FOCAL = "focal"  # follows every task of plans under the unit: accepts or returns reports
    CHAIR = "chair"  # chair / vice-chair of an administrative unit: approves extensions
    VIEWER = "viewer"  # read-only (upper levels' roll-up)
    ADMIN = "admin"  # units, people, policies, templates, outbox


class Person(UserMixin, TimestampMixin, Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str | None] = mapped_column(sa.String(255))  # chức vụ, shown in messages
    email: Mapped[str | None] = mapped_column(sa.String(255))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    zalo_user_id: Mapped[str | None] = mapped_column(sa.String(64))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    locale: Mapped[str] = mapped_column(sa.String(8), default="vi", server_default="vi")
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    #: One daily message listing everything due instead of one message per task (Zalo costs money).
    prefers_digest: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )

    def _repr_fields(self) -> tuple[str, ...]:
        return ("id", "username")


class RoleAssignment(TimestampMixin, Base):
    __tablename__ = "role_assignments"
    __table_args__ = (
        sa.UniqueConstraint("person_id", "unit_id", "role"),
        sa.Index("ix_role_assignments_unit_id_role", "unit_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"))
    role: Mapped[Role] = mapped_column(enum_type(Role))

    person: Mapped[Person] = relationship(back_populates="roles")
    unit: Mapped[OrgUnit] = relationship(lazy="joined")

    def _repr_fields(self) -> tuple[str, ...]:
        return ("person_id", "unit_id", "role")


class ApiToken(TimestampMixin, Base):
    """A bearer token for integrations; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: None: never expires (the calendar link's row, which the person revokes by making a new link).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    person: Mapped[Person] = relationship()

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class AttemptKind(enum.StrEnum):
    """What an `AuthAttempt` counts, and so what its `subject` holds."""

    SIGN_IN_FAILURE = "sign_in_failure"  # subject: the username tried
    RESET_BY_NAME = "reset_by_name"  # a password-reset request; subject: SHA-256 of the name or e-mail given
    RESET_BY_ADDRESS = "reset_by_address"  # the same request counted against its client; subject: the address


class AuthAttempt(Base):
    """Failed sign-ins and password-reset requests, kept in the database so every web process sees the same
    rate limits. The two kinds are counted apart: asking for reset links never blocks signing in."""

    __tablename__ = "auth_attempts"
    __table_args__ = (sa.Index("ix_auth_attempts_kind_subject_attempted_at", "kind", "subject", "attempted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AttemptKind] = mapped_column(enum_type(AttemptKind))
    subject: Mapped[str] = mapped_column(sa.String(64))
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
