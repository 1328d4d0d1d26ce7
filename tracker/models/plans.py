"""Plans (Kế hoạch), their source documents, sections and tasks."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from tracker.models.base import Base, TimestampMixin, UTCDateTime, enum_type, json_type
from tracker.models.org import OrgUnit


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"  # imported, under review: no occurrences, no reminders
    ACTIVE = "active"
    ARCHIVED = "archived"
    CANCELLED = "cancelled"


class TaskStatus(enum.StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class PlanDocument(TimestampMixin, Base):
    """The uploaded file a plan was imported from, kept so every task links back to its text."""

    __tablename__ = "plan_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(128))
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    #: Re-importing the same bytes is detected by this hash and offered as an update.
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    content: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary))
    text: Mapped[str | None] = deferred(mapped_column(sa.Text))
    extraction: Mapped[dict[str, Any] | None] = deferred(mapped_column(json_type()))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"))


class Plan(TimestampMixin, Base):
    __tablename__ = "plans"
    __table_args__ = (
        sa.CheckConstraint(
            "period_start_on IS NULL OR period_end_on IS NULL OR period_start_on <= period_end_on",
            name="period_order",
        ),
        sa.Index("ix_plans_issuing_unit_id_status", "issuing_unit_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(sa.String(64))  # "56/KH-UBND"
    title: Mapped[str] = mapped_column(sa.Text)
    issuing_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"))
    #: The standing agency that follows every task (cơ quan thường trực), if named.
    focal_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"))
    issued_on: Mapped[date | None]
    year: Mapped[int | None] = mapped_column(sa.SmallInteger)
    period_start_on: Mapped[date | None]
    period_end_on: Mapped[date | None]
    implements: Mapped[str | None] = mapped_column(sa.Text)  # the plans/programmes it carries out
    status: Mapped[PlanStatus] = mapped_column(enum_type(PlanStatus), default=PlanStatus.DRAFT)
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plan_documents.id"))
    reminder_policy_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reminder_policies.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"))
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    issuing_unit: Mapped[OrgUnit] = relationship(foreign_keys=[issuing_unit_id])
    focal_unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[focal_unit_id])
    document: Mapped[PlanDocument | None] = relationship()
    sections: Mapped[list[PlanSection]] = relationship(
        back_populates="plan", order_by="PlanSection.position", cascade="all, delete-orphan"
    )
    tasks: Mapped[list[Task]] = relationship(
        back_populates="plan", order_by="Task.position", cascade="all, delete-orphan"
    )

    def _repr_fields(self) -> tuple[str, ...]:
        return ("id", "number", "status")


class PlanSection(Base):
    __tablename__ = "plan_sections"
    __table_args__ = (sa.UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(64))  # "III.2.6", "Phụ lục 3.1"
    title: Mapped[str | None] = mapped_column(sa.Text)
    position: Mapped[int] = mapped_column(default=0)

    plan: Mapped[Plan] = relationship(back_populates="sections")


task_coordinating_units = sa.Table(
    "task_coordinating_units",
    Base.metadata,
    sa.Column("task_id", sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("unit_id", sa.ForeignKey("org_units.id"), primary_key=True, index=True),
)


class Task(TimestampMixin, Base):
    """One responsibility of a plan section, owed by one lead unit."""

    __tablename__ = "tasks"
    __table_args__ = (
        sa.CheckConstraint("due_on IS NOT NULL OR recurrence IS NOT NULL", name="has_schedule"),
        sa.Index("ix_tasks_lead_unit_id_status", "lead_unit_id", "status"),
        # Visibility (queries.scope): the tasks reporting to, or in plans of, the units of a person's scope
        # whose lead unit is elsewhere are index-only scans of these two.
        sa.Index("ix_tasks_report_to_unit_id_lead_unit_id", "report_to_unit_id", "lead_unit_id"),
        sa.Index("ix_tasks_plan_id_lead_unit_id", "plan_id", "lead_unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"))
    section_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plan_sections.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str | None] = mapped_column(sa.Text)
    #: None only in a draft, for a unit the document names that the org tree does not have yet: the
    #: proposal is in `import_meta` and the unit is created when the plan is confirmed.
    lead_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"))
    report_to_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"))
    #: A single deadline (local calendar date) ...
    due_on: Mapped[date | None]
    #: ... or a recurrence: "monthly", "quarterly", "semiannual", "annual", a comma list, or "RRULE:...".
    recurrence: Mapped[str | None] = mapped_column(sa.String(255))
    #: Further explicit deadlines of the same task (ISO dates), each becoming its own occurrence.
    extra_due_dates: Mapped[list[str] | None] = mapped_column(json_type())
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    source_text: Mapped[str | None] = mapped_column(sa.Text)  # the sentence(s) it was extracted from
    #: What the importer read and how it resolved it: unit as written, match confidence, proposed new
    #: unit, report-to and coordinating names, deadline phrases, warnings. Shown on the review screen.
    import_meta: Mapped[dict[str, Any] | None] = mapped_column(json_type())
    status: Mapped[TaskStatus] = mapped_column(enum_type(TaskStatus), default=TaskStatus.ACTIVE)
    reminder_policy_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reminder_policies.id"))
    position: Mapped[int] = mapped_column(default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    plan: Mapped[Plan] = relationship(back_populates="tasks")
    section: Mapped[PlanSection | None] = relationship()
    lead_unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[lead_unit_id])
    report_to_unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[report_to_unit_id])
    coordinating_units: Mapped[list[OrgUnit]] = relationship(secondary=task_coordinating_units)

    def _repr_fields(self) -> tuple[str, ...]:
        return ("id", "plan_id", "lead_unit_id")
