"""Write audit events beside the change they describe."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import AuditEvent, Person


def snapshot(obj: Any, fields: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """A JSON-safe copy of some attributes of `obj`, for an event's before/after."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def record(
    action: str,
    obj: Any,
    actor: Person | None,
    *,
    unit_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event for `action` on `obj` (which must already have an id) to the session."""
    unwrap = getattr(obj, "_get_current_object", None)  # flask_login.current_user is a proxy
    obj = unwrap() if callable(unwrap) else obj
    if obj.id is None:
        db.session.flush()
    return record_about(action, type(obj).__tablename__, obj.id, actor, unit_id=unit_id, before=before, after=after)


def record_about(
    action: str,
    object_type: str,
    object_id: int,
    actor: Person | None,
    *,
    unit_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event naming its object by type and id: `record` for rows, directly for things that
    are not one of our rows with an integer id (a channel's credentials)."""
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        unit_id=unit_id,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )
    # Written unlinked (one INSERT, no chain head touched): the sequencer links it into its hash chain
    # seconds after the commit (tracker/operations/audit_chain.py).
    db.session.add(event)
    return event
