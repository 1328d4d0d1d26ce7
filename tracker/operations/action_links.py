"""Acting from a reminder's link: open it, mark the occurrence done, or acknowledge it.

The link (tracker/notify/links.py) is only a pointer with conditions; every change here goes through the
usual operations (`mark_done`: scope check, one guarded UPDATE, audit) and consumes the link in the same
transaction, so the action and the link's use are committed together or not at all.

Acknowledging stops the escalation ladder, as acknowledging an incident stops its escalation: the
occurrence records who acknowledged and for which due date, and the sweep queues no escalation rule
(escalation level > 0) for an occurrence acknowledged for its current due date. Plain reminders to the lead
unit go on while it stays open; a new due date (an approved extension) starts the ladder again, and a
returned report clears the acknowledgement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from tracker.clock import utcnow
from tracker.models import ActionLink, Occurrence, Person, PlanStatus, TaskStatus
from tracker.notify.links import LinkState, consume, find_link, state_of
from tracker.operations import audit
from tracker.operations.authz import Permission, can, require
from tracker.operations.errors import DomainError, PermissionDenied
from tracker.operations.occurrences import has_pending_extension, mark_done, occurrence_conflict
from tracker.operations.transitions import claim

USED_FOR_DONE = "done"
USED_FOR_ACKNOWLEDGE = "acknowledge"


class LinkUnusable(DomainError):
    """The link cannot be used (unknown or altered, expired, already used, revoked); nothing changed."""

    status = 410
    code = "link_unusable"

    def __init__(self, state: LinkState, **params: object) -> None:
        super().__init__(_MESSAGES[state], **params)
        self.state = state


_MESSAGES = {
    LinkState.UNKNOWN: _l("This link is not valid: it may have been copied incompletely or altered."),
    LinkState.EXPIRED: _l("This link has expired. Open the task from your task list instead."),
    LinkState.USED: _l("This link has already been used. Open the task from your task list instead."),
    LinkState.REVOKED: _l("This link has been withdrawn. Open the task from your task list instead."),
}


def open_link(actor: Person, token: str, now: datetime | None = None) -> ActionLink:
    """The link `token` names, if `actor` may use it now; otherwise a clear error and nothing changes."""
    link = find_link(token)
    state = state_of(link, now)
    if state is LinkState.UNKNOWN:
        raise LinkUnusable(state)
    assert link is not None
    if link.recipient_id != actor.id:
        # Checked before the link's state: someone else learns nothing about it.
        raise PermissionDenied(_l("This link was sent to %(person)s. Sign out and sign in as that person to use "
                                  "it."), person=link.recipient.full_name)
    if state is not LinkState.USABLE:
        raise LinkUnusable(state)
    require(actor, Permission.VIEW, link.occurrence.lead_unit)
    return link


def _use(link: ActionLink, used_for: str, now: datetime) -> None:
    if not consume(link, used_for, now):
        raise LinkUnusable(state_of(link, now))


def mark_done_from_link(actor: Person, token: str, *, note: str = "", now: datetime | None = None) -> Occurrence:
    """Mark the link's occurrence done (the explicit "done without a report" path) and use up the link."""
    now = now or utcnow()
    link = open_link(actor, token, now)
    occurrence = link.occurrence
    mark_done(actor, occurrence, note, now=now)  # scope check, guarded UPDATE, audit
    _use(link, USED_FOR_DONE, now)
    acknowledge(actor, occurrence, now=now)
    audit.record("action_link.use", link, actor, unit_id=occurrence.lead_unit_id,
                 after={"occurrence_id": occurrence.id, "used_for": USED_FOR_DONE})
    return occurrence


@dataclass(frozen=True)
class LinkActions:
    """What the link's recipient may do from it now: act on the task, or (an escalation's reader who cannot
    act) acknowledge it; whether it is already acknowledged for its due date; whether more time is asked."""

    can_act: bool
    can_acknowledge: bool
    acknowledged: bool
    has_pending_extension: bool


def link_actions(actor: Person, link: ActionLink) -> LinkActions:
    occurrence = link.occurrence
    task = occurrence.task
    actionable = occurrence.is_open and task.status == TaskStatus.ACTIVE and task.plan.status == PlanStatus.ACTIVE
    can_act = actionable and can(actor, Permission.ACT, occurrence.lead_unit)
    acknowledged = occurrence.acknowledged_due_on == occurrence.due_on
    return LinkActions(can_act=can_act, can_acknowledge=actionable and not can_act and not acknowledged,
                       acknowledged=acknowledged, has_pending_extension=has_pending_extension(occurrence))


def acknowledge_from_link(actor: Person, token: str, *, now: datetime | None = None) -> Occurrence:
    """Acknowledge the link's occurrence (stop its escalation for this due date) and use up the link."""
    now = now or utcnow()
    link = open_link(actor, token, now)
    occurrence = link.occurrence
    if not occurrence.is_open:
        raise occurrence_conflict(occurrence)
    _use(link, USED_FOR_ACKNOWLEDGE, now)
    acknowledge(actor, occurrence, now=now)
    audit.record("action_link.use", link, actor, unit_id=occurrence.lead_unit_id,
                 after={"occurrence_id": occurrence.id, "used_for": USED_FOR_ACKNOWLEDGE})
    return occurrence


def acknowledge(actor: Person, occurrence: Occurrence, *, now: datetime | None = None) -> bool:
    """Record that `actor` acknowledged the occurrence for its current due date; False if it already was."""
    require(actor, Permission.VIEW, occurrence.lead_unit)
    now = now or utcnow()
    due_on = occurrence.due_on
    before = {"acknowledged_due_on": occurrence.acknowledged_due_on.isoformat()
              if occurrence.acknowledged_due_on else None}
    # Guarded like every transition: the first acknowledgement for this due date wins, a repeat changes nothing.
    expected = (Occurrence.acknowledged_due_on.is_(None)) | (Occurrence.acknowledged_due_on != due_on)
    if not claim(occurrence, expected, acknowledged_at=now, acknowledged_by_id=actor.id, acknowledged_due_on=due_on):
        return False
    audit.record("occurrence.acknowledge", occurrence, actor, unit_id=occurrence.lead_unit_id, before=before,
                 after={"acknowledged_due_on": due_on.isoformat()})
    return True
