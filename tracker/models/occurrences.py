"""Occurrences (everything with a due date), the reports against them, comments and extensions."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from tracker.models.base import Base, BigId, TimestampMixin, UTCDateTime, enum_type
from tracker.models.org import OrgUnit
from tracker.models.people import Person
from tracker.models.plans import Task


class OccurrenceStatus(enum.StrEnum):
    """Derived from due date, completion and today; never stored."""

    NOT_DUE = "not_due"  # chưa đến hạn
    DUE_SOON = "due_soon"  # sắp đến hạn
    OVERDUE = "overdue"  # quá hạn
    DONE_ON_TIME = "done_on_time"  # hoàn thành đúng hạn
    DONE_LATE = "done_late"  # hoàn thành quá hạn
    CANCELLED = "cancelled"  # đã hủy


@dataclass(frozen=True)
class StatusClock:
    """The dates status derivation compares against, computed once per request or job.

    `overdue_before`: an open occurrence due before this date is overdue ("trước ngày 25/9" is overdue
    from 26/9 with no grace). `soon_until`: an open occurrence due on or before it is due soon.
    """

    today: date
    soon_until: date
    overdue_before: date

    @classmethod
    def for_day(cls, today: date, *, due_soon_days: int = 5, grace_days: int = 0) -> StatusClock:
        return cls(today, today + timedelta(days=due_soon_days), today - timedelta(days=grace_days))


class Occurrence(TimestampMixin, Base):
    __tablename__ = "occurrences"
    __table_args__ = (
        sa.UniqueConstraint("task_id", "period_key"),
        # The sweep scans open occurrences by due date; the API lists open ones (overdue, due soon) in
        # (due_on, id) order and stops after a page.
        sa.Index(
            "ix_occurrences_open_due_on_id",
            "due_on",
            "id",
            sqlite_where=sa.text("completed_at IS NULL AND cancelled_at IS NULL"),
            postgresql_where=sa.text("completed_at IS NULL AND cancelled_at IS NULL"),
        ),
        # A unit's occurrences by due date ("my tasks", the overdue lists) with every column that status
        # counts and roll-ups read: reached from the units of a subtree, they are index-only scans.
        sa.Index("ix_occurrences_lead_unit_id_covering", "lead_unit_id", "due_on", "completed_on", "cancelled_at",
                 "task_id", "id"),
        # A task's (a plan's) occurrences with what progress counts read: index-only scans for the plans pages.
        sa.Index("ix_occurrences_task_id_covering", "task_id", "due_on", "completed_on", "cancelled_at",
                 "lead_unit_id"),
        # The API's unfiltered list pages in (due_on, id) order without sorting the whole list.
        sa.Index("ix_occurrences_due_on_id", "due_on", "id"),
        sa.CheckConstraint(
            "(completed_at IS NULL) = (completed_on IS NULL)", name="completion_pair"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("tasks.id", ondelete="CASCADE"))
    #: Copied from the task so the sweep and roll-ups filter by unit without a join.
    lead_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"))
    period_key: Mapped[str] = mapped_column(sa.String(32))  # "2024-09-25", "2024-H1", "2024-Q3", "2024"
    period_label: Mapped[str | None] = mapped_column(sa.String(128))  # "6 tháng đầu năm 2024"
    period_start_on: Mapped[date | None]
    period_end_on: Mapped[date | None]
    due_on: Mapped[date]
    #: The due date before any approved extension.
    original_due_on: Mapped[date]
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Local calendar date of completion; on time means completed_on <= due_on.
    completed_on: Mapped[date | None]
    completed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Highest escalation level reached by reminders (0: none yet).
    escalation_level: Mapped[int] = mapped_column(sa.SmallInteger, default=0, server_default="0")
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Someone reminded about this occurrence acted on it from the reminder (like acknowledging an incident):
    #: the sweep queues no further escalation for the due date acknowledged. An approved extension (a new
    #: due date) or a returned report starts the ladder again.
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"))
    acknowledged_due_on: Mapped[date | None]

    task: Mapped[Task] = relationship()
    lead_unit: Mapped[OrgUnit] = relationship()
    completed_by: Mapped[Person | None] = relationship(foreign_keys=[completed_by_id])
    acknowledged_by: Mapped[Person | None] = relationship(foreign_keys=[acknowledged_by_id])
    reports: Mapped[list[Report]] = relationship(back_populates="occurrence", order_by="Report.submitted_at")

    def _repr_fields(self) -> tuple[str, ...]:
        return ("id", "task_id", "period_key", "due_on")

    @hybrid_property
    def is_open(self) -> bool:
        return self.completed_at is None and self.cancelled_at is None

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls) -> sa.ColumnElement[bool]:
        return sa.and_(cls.completed_at.is_(None), cls.cancelled_at.is_(None))

    @hybrid_property
    def is_done_late(self) -> bool:
        return self.completed_on is not None and self.completed_on > self.due_on

    @is_done_late.inplace.expression
    @classmethod
    def _is_done_late_expression(cls) -> sa.ColumnElement[bool]:
        return sa.and_(cls.completed_on.is_not(None), cls.completed_on > cls.due_on)

    def status(self, clock: StatusClock) -> OccurrenceStatus:
        """Derive the status as of `clock` (the Python twin of `status_expression`)."""
        if self.cancelled_at is not None:
            return OccurrenceStatus.CANCELLED
        if self.completed_on is not None:
            return OccurrenceStatus.DONE_LATE if self.completed_on > self.due_on else OccurrenceStatus.DONE_ON_TIME
        if self.due_on < clock.overdue_before:
            return OccurrenceStatus.OVERDUE
        if self.due_on <= clock.soon_until:
            return OccurrenceStatus.DUE_SOON
        return OccurrenceStatus.NOT_DUE

    @classmethod
    def status_expression(cls, clock: StatusClock) -> sa.ColumnElement[str]:
        """Derive the status in SQL, so dashboards group and filter without loading rows."""
        return sa.case(
            (cls.cancelled_at.is_not(None), OccurrenceStatus.CANCELLED.value),
            (cls.completed_on > cls.due_on, OccurrenceStatus.DONE_LATE.value),
            (cls.completed_on.is_not(None), OccurrenceStatus.DONE_ON_TIME.value),
            (cls.due_on < clock.overdue_before, OccurrenceStatus.OVERDUE.value),
            (cls.due_on <= clock.soon_until, OccurrenceStatus.DUE_SOON.value),
            else_=OccurrenceStatus.NOT_DUE.value,
        )

    @classmethod
    def status_in(cls, clock: StatusClock, statuses: list[str]) -> sa.ColumnElement[bool]:
        """SQL for "the status is one of `statuses`", as plain comparisons an index can serve: the due-date
        ranges of the open statuses are index ranges. The same derivation as `status_expression`, on the same
        columns (those of the covering index by lead unit)."""
        is_open = sa.and_(cls.completed_on.is_(None), cls.cancelled_at.is_(None))
        kept = cls.cancelled_at.is_(None)
        clauses = {
            OccurrenceStatus.CANCELLED.value: cls.cancelled_at.is_not(None),
            OccurrenceStatus.DONE_LATE.value: sa.and_(kept, cls.completed_on > cls.due_on),
            OccurrenceStatus.DONE_ON_TIME.value: sa.and_(kept, cls.completed_on <= cls.due_on),
            OccurrenceStatus.OVERDUE.value: sa.and_(is_open, cls.due_on < clock.overdue_before),
            OccurrenceStatus.DUE_SOON.value: sa.and_(is_open, cls.due_on >= clock.overdue_before,
                                                     cls.due_on <= clock.soon_until),
            OccurrenceStatus.NOT_DUE.value: sa.and_(is_open, cls.due_on > clock.soon_until),
        }
        wanted = [clauses[OccurrenceStatus(s).value] for s in dict.fromkeys(statuses)]
        return sa.or_(*wanted) if wanted else sa.false()

    def days_late(self, clock: StatusClock) -> int:
        """Days past the due date: until completion if done, until today if still open."""
        end = self.completed_on or clock.today
        return max(0, (end - self.due_on).days)


class ReviewStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"  # the unit must resubmit; the occurrence is open again


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(sa.ForeignKey("occurrences.id", ondelete="CASCADE"), index=True)
    submitted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_on: Mapped[date]
    body: Mapped[str] = mapped_column(sa.Text, default="")
    is_late: Mapped[bool] = mapped_column(default=False)
    review_status: Mapped[ReviewStatus] = mapped_column(enum_type(ReviewStatus), default=ReviewStatus.SUBMITTED)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_comment: Mapped[str | None] = mapped_column(sa.Text)

    occurrence: Mapped[Occurrence] = relationship(back_populates="reports")
    submitted_by: Mapped[Person] = relationship(foreign_keys=[submitted_by_id])
    reviewed_by: Mapped[Person | None] = relationship(foreign_keys=[reviewed_by_id])
    attachments: Mapped[list[Attachment]] = relationship(back_populates="report", cascade="all, delete-orphan")
    values: Mapped[list[IndicatorValue]] = relationship(back_populates="report")


class Attachment(TimestampMixin, Base):
    """A file attached to a report; kept in the database so web processes share no disk."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(128))
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary))

    report: Mapped[Report] = relationship(back_populates="attachments")


class Comment(TimestampMixin, Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(sa.ForeignKey("occurrences.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id"))
    body: Mapped[str] = mapped_column(sa.Text)

    author: Mapped[Person] = relationship()


class ExtensionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ExtensionRequest(TimestampMixin, Base):
    __tablename__ = "extension_requests"
    __table_args__ = (
        # At most one pending request per occurrence.
        sa.Index(
            "uq_extension_requests_one_pending",
            "occurrence_id",
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(sa.ForeignKey("occurrences.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id"))
    requested_due_on: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[ExtensionStatus] = mapped_column(enum_type(ExtensionStatus), default=ExtensionStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(sa.Text)

    occurrence: Mapped[Occurrence] = relationship()
    requested_by: Mapped[Person] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[Person | None] = relationship(foreign_keys=[decided_by_id])


class IndicatorValue(Base):
    """A value reported for an indicator, by a unit, in a report."""

    __tablename__ = "indicator_values"
    __table_args__ = (
        sa.UniqueConstraint("report_id", "indicator_id"),
        sa.Index("ix_indicator_values_indicator_id_year", "indicator_id", "year"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(sa.ForeignKey("indicators.id"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    value: Mapped[Decimal] = mapped_column(sa.Numeric(18, 4))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())

    report: Mapped[Report | None] = relationship(back_populates="values")
    indicator: Mapped[Indicator] = relationship()  # noqa: F821
