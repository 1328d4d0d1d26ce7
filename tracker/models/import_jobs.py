"""The import-job queue: an uploaded plan document waiting for a worker to read it into a draft."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from tracker.models.base import Base, BigId, UTCDateTime, enum_type, utcnow
from tracker.models.org import OrgUnit
from tracker.models.people import Person


class ImportJobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"  # a draft was written (plan_id), or the document was a duplicate (duplicate_of_id)
    FAILED = "failed"  # error holds the reason, in Vietnamese


class ImportJob(Base):
    """One upload to read: the bytes, who asked, how far the worker got and what came of it.

    A worker claims a job by setting `claimed_by` and `lease_expires_at` (conditional UPDATE; on
    PostgreSQL the candidate is selected FOR UPDATE SKIP LOCKED) and renews the lease while it reads.
    A job still "running" after its lease expired belongs to a worker that died: another one takes it over.
    """

    __tablename__ = "import_jobs"
    __table_args__ = (
        # The claim: the oldest queued job, or a running one whose lease has expired.
        sa.Index("ix_import_jobs_status_lease_expires_at", "status", "lease_expires_at"),
        sa.CheckConstraint("pages_done >= 0 AND attempts >= 0", name="counts_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    status: Mapped[ImportJobStatus] = mapped_column(enum_type(ImportJobStatus), default=ImportJobStatus.QUEUED)
    filename: Mapped[str] = mapped_column(sa.String(255))
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    #: The uploaded bytes until the job ends (the draft's PlanDocument keeps them afterwards).
    content: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    issuing_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"))
    #: Re-fill a draft of the same plan instead of refusing the duplicate (the "update" choice, re-import).
    is_update: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: What the worker is doing: "reading" (text pages), "ocr" (scanned pages), "extracting", "saving".
    phase: Mapped[str | None] = mapped_column(sa.String(16))
    pages_done: Mapped[int] = mapped_column(default=0, server_default="0")
    pages_total: Mapped[int | None] = mapped_column(sa.Integer)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    claimed_by: Mapped[str | None] = mapped_column(sa.String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(sa.Text)
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plans.id"))
    tasks_created: Mapped[int | None] = mapped_column(sa.Integer)
    duplicate_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plans.id"))
    duplicate_reason: Mapped[str | None] = mapped_column(sa.String(16))  # "same_file" | "same_number"

    issuing_unit: Mapped[OrgUnit] = relationship(lazy="joined")
    requested_by: Mapped[Person | None] = relationship()

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportJobStatus.DONE, ImportJobStatus.FAILED)
