"""Reminder policies: when, to whom and by which channels reminders and escalations go out."""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, TimestampMixin, enum_type


class Channel(enum.StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    ZALO = "zalo"


class Audience(enum.StrEnum):
    """Who a rule speaks to, resolved against the org tree at sweep time."""

    LEAD_OFFICERS = "lead_officers"  # officers of the task's lead unit
    LEAD_HEAD = "lead_head"  # the lead unit's head
    REPORT_TO_FOCAL = "report_to_focal"  # the focal officer of the unit the report goes to
    ADMIN_CHAIR = "admin_chair"  # chair of the administrative unit the lead unit belongs to
    NEXT_LEVEL_UP = "next_level_up"  # focal officers and chair of the administrative level above


class ReminderPolicy(TimestampMixin, Base):
    __tablename__ = "reminder_policies"
    __table_args__ = (
        # Exactly one default policy (the sweep falls back to it).
        sa.Index(
            "uq_reminder_policies_one_default",
            "is_default",
            unique=True,
            sqlite_where=sa.text("is_default"),
            postgresql_where=sa.text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128), unique=True)
    is_default: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    is_archived: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    rules: Mapped[list[ReminderRule]] = relationship(
        back_populates="policy", cascade="all, delete-orphan", order_by="ReminderRule.offset_days"
    )

    def _repr_fields(self) -> tuple[str, ...]:
        return ("id", "name")


reminder_rule_channels = sa.Table(
    "reminder_rule_channels",
    Base.metadata,
    sa.Column("rule_id", sa.ForeignKey("reminder_rules.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("channel", enum_type(Channel), primary_key=True),
)


class ReminderRule(Base):
    """Fire `offset_days` working days from the due date (negative: before) to an audience."""

    __tablename__ = "reminder_rules"
    __table_args__ = (sa.UniqueConstraint("policy_id", "offset_days", "audience"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(sa.ForeignKey("reminder_policies.id", ondelete="CASCADE"))
    offset_days: Mapped[int] = mapped_column(sa.SmallInteger)
    audience: Mapped[Audience] = mapped_column(enum_type(Audience))
    #: 0 for a reminder to the unit itself; 1, 2, 3 ... as lateness climbs the tree.
    escalation_level: Mapped[int] = mapped_column(sa.SmallInteger, default=0)

    policy: Mapped[ReminderPolicy] = relationship(back_populates="rules")
    channel_rows: Mapped[list[ReminderRuleChannel]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    def _repr_fields(self) -> tuple[str, ...]:
        return ("id", "offset_days", "audience")

    @property
    def channels(self) -> list[Channel]:
        return sorted(row.channel for row in self.channel_rows)

    @channels.setter
    def channels(self, value: list[Channel]) -> None:
        wanted = set(value)
        self.channel_rows = [r for r in self.channel_rows if r.channel in wanted] + [
            ReminderRuleChannel(channel=c) for c in sorted(wanted - {r.channel for r in self.channel_rows})
        ]


class ReminderRuleChannel(Base):
    """Mapped view of `reminder_rule_channels`, for set-based joins in the sweep."""

    __table__ = reminder_rule_channels
