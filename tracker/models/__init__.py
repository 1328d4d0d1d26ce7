"""All models, imported here so Alembic and the app see one complete metadata."""

from tracker.models.action_links import ActionLink
from tracker.models.audit import AuditChainHead, AuditEvent
from tracker.models.base import Base, utcnow
from tracker.models.import_jobs import ImportJob, ImportJobStatus
from tracker.models.indicators import Comparator, Direction, Indicator, IndicatorTarget
from tracker.models.notifications import (
    ChannelCredential,
    ChannelState,
    DeliveryStatus,
    MessageTemplate,
    Notification,
    NotificationKind,
)
from tracker.models.occurrences import (
    Attachment,
    Comment,
    ExtensionRequest,
    ExtensionStatus,
    IndicatorValue,
    Occurrence,
    OccurrenceStatus,
    Report,
    ReviewStatus,
    StatusClock,
)
from tracker.models.org import ADMINISTRATIVE_KINDS, OrgUnit, UnitKind
from tracker.models.people import ApiToken, AttemptKind, AuthAttempt, Person, Role, RoleAssignment
from tracker.models.plans import (
    Plan,
    PlanDocument,
    PlanSection,
    PlanStatus,
    Task,
    TaskStatus,
    task_coordinating_units,
)
from tracker.models.reminders import Audience, Channel, ReminderPolicy, ReminderRule, reminder_rule_channels
from tracker.models.sessions import SignInSession
from tracker.models.summaries import IndicatorLatest, SummaryClock, UnitStatusCount
from tracker.models.system import CalendarException, JobHeartbeat, SchedulerLease, WorkerHeartbeat

__all__ = [
    "ADMINISTRATIVE_KINDS", "ActionLink", "ApiToken", "Attachment", "AttemptKind", "Audience", "AuditChainHead",
    "AuditEvent", "AuthAttempt", "Base", "CalendarException", "Channel", "ChannelCredential", "ChannelState",
    "Comment", "Comparator", "DeliveryStatus", "Direction", "ExtensionRequest", "ExtensionStatus", "ImportJob",
    "ImportJobStatus", "Indicator", "IndicatorLatest", "IndicatorTarget", "IndicatorValue", "JobHeartbeat",
    "MessageTemplate", "Notification", "NotificationKind", "Occurrence", "OccurrenceStatus", "OrgUnit", "Person",
    "Plan", "PlanDocument", "PlanSection", "PlanStatus", "ReminderPolicy", "ReminderRule", "Report", "ReviewStatus",
    "Role", "RoleAssignment", "SchedulerLease", "SignInSession", "StatusClock", "SummaryClock", "Task", "TaskStatus",
    "UnitKind", "UnitStatusCount", "WorkerHeartbeat", "reminder_rule_channels", "task_coordinating_units", "utcnow",
]
