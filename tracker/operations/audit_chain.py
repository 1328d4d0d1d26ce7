"""The audit trail as hash chains: an edited, removed or reordered event is found by `tracker audit verify`.

Each event belongs to one chain (the top-level unit of the event's unit, `system` for events without one:
sign-ins, people, channels). A request writes its events unlinked (one INSERT each, `hash` NULL) and commits
without touching any chain. A sequencer links them a few seconds later: the worker's "audit" loop and the
scheduler's `audit_link` job (and `tracker audit link`) call `link_batch` in a transaction of their own. It
takes the `system` head first, so only one sequencer links at a time, then the unlinked events in id order,
locks their chains' head rows (`SELECT ... FOR UPDATE` on PostgreSQL, in name order; SQLite has a single
writer), gives each event the next sequence number, the previous event's hash and its own hash,
sha256(previous hash + canonical content), and moves the heads on. No request ever waits for a chain head:
with one national root every writer in the country would otherwise queue on one row at commit.

Order within a chain is the order of linking: by id within a batch; an event whose transaction committed
after a later-numbered event had already been linked takes the next place when it becomes visible. Once
linked, an event's place never changes.

Verification walks each chain in sequence order and recomputes every hash: an UPDATE of any field changes
that event's hash, a DELETE leaves a gap in the sequence (or, for the last events, a head that points past
the end), an INSERT of a forged row breaks the link of the row after it. Unlinked events are counted apart:
those younger than AUDIT_LINK_GRACE_SECONDS are waiting for the sequencer; older ones mean no sequencer is
running (or rows were inserted behind the application's back), and verification fails.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.clock import utcnow
from tracker.models import AuditChainHead, AuditEvent, OrgUnit

SYSTEM_CHAIN = "system"
_GENESIS = ""


def chain_for_path(path: str | None) -> str:
    """The chain of an event whose unit has `path` ("/12/40/77/" is in chain "unit:12")."""
    root = (path or "").strip("/").split("/")[0]
    return f"unit:{root}" if root else SYSTEM_CHAIN


# --- Canonical content -----------------------------------------------------------------------------------

def _normal(value: Any) -> Any:
    """JSON values as they come back from either database: an integral float is the integer (PostgreSQL's
    JSONB reads 1e16 back as 10000000000000000), keys sorted by json.dumps below."""
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):
            return int(value)
        return value
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    return value


def canonical(row: Any) -> bytes:
    """The bytes an event's hash covers: every field but the hash itself, in one fixed JSON form."""
    occurred = row.occurred_at
    content = {
        "id": int(row.id),
        "chain": row.chain,
        "seq": int(row.chain_seq),
        "prev": row.prev_hash,
        "at": occurred.isoformat(timespec="microseconds") if occurred is not None else None,
        "actor": row.actor_id,
        "action": row.action,
        "object": [row.object_type, int(row.object_id)],
        "unit": row.unit_id,
        "before": _normal(json.loads(json.dumps(row.before))) if row.before is not None else None,
        "after": _normal(json.loads(json.dumps(row.after))) if row.after is not None else None,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(row: Any) -> str:
    return hashlib.sha256((row.prev_hash or "").encode() + b"\n" + canonical(row)).hexdigest()


# --- Linking (the sequencer) ----------------------------------------------------------------------------

def _locked_heads(session: Session, chains: list[str]) -> dict[str, AuditChainHead]:
    from tracker.sqlutil import insert_ignoring_conflicts

    now = utcnow()
    table = AuditChainHead.__table__
    session.execute(insert_ignoring_conflicts(session, table, ["chain"]),
                    [{"chain": c, "seq": 0, "last_hash": _GENESIS, "last_event_id": None, "updated_at": now}
                     for c in chains])
    heads = session.scalars(
        sa.select(AuditChainHead).where(AuditChainHead.chain.in_(chains)).order_by(AuditChainHead.chain)
        .with_for_update().execution_options(populate_existing=True)
    ).all()
    return {h.chain: h for h in heads}


def link(session: Session, events: list[AuditEvent]) -> None:
    """Give `events` (flushed, unlinked) their place in their chains and move the heads on."""
    if not events:
        return
    unit_ids = {e.unit_id for e in events if e.unit_id is not None}
    paths = dict(session.execute(sa.select(OrgUnit.id, OrgUnit.path).where(OrgUnit.id.in_(unit_ids)))
                 .all()) if unit_ids else {}
    by_chain: dict[str, list[AuditEvent]] = defaultdict(list)
    for e in events:
        by_chain[chain_for_path(paths.get(e.unit_id)) if e.unit_id is not None else SYSTEM_CHAIN].append(e)
    heads = _locked_heads(session, sorted(by_chain))
    now = utcnow()
    for name in sorted(by_chain):
        head = heads[name]
        for e in sorted(by_chain[name], key=lambda x: x.id):
            e.chain, e.chain_seq, e.prev_hash = name, head.seq + 1, head.last_hash
            e.hash = compute_hash(e)
            head.seq, head.last_hash, head.last_event_id, head.updated_at = e.chain_seq, e.hash, e.id, now
    session.flush()


def link_batch(session: Session, batch: int = 500) -> int:
    """Link up to `batch` unlinked events, oldest id first; return how many (the caller commits at once).

    The `system` head is locked before the events are read, so sequencers running side by side (several
    workers, the scheduler, `tracker audit link`) take turns and never link an event twice; the other heads
    follow in name order ("system" sorts first), as they always have.
    """
    unlinked = AuditEvent.hash.is_(None)
    if session.scalar(sa.select(AuditEvent.id).where(unlinked).limit(1)) is None:
        return 0  # an idle sequencer (every worker, every few seconds) takes no lock and writes nothing
    _locked_heads(session, [SYSTEM_CHAIN])
    events = list(session.scalars(sa.select(AuditEvent).where(unlinked)
                                  .order_by(AuditEvent.id).limit(batch)
                                  .execution_options(populate_existing=True)))
    link(session, events)
    return len(events)


# --- Verification ----------------------------------------------------------------------------------------

@dataclass
class Break:
    chain: str
    event_id: int | None
    reason: str


@dataclass
class VerifyResult:
    checked: int = 0
    chains: dict[str, int] = field(default_factory=dict)
    #: Unlinked events written within the grace period: the sequencer has not reached them yet.
    waiting: int = 0
    #: Unlinked events older than the grace period: no sequencer runs, or rows were added behind our back.
    overdue: int = 0
    oldest_overdue_id: int | None = None
    first_break: Break | None = None

    @property
    def unlinked(self) -> int:
        return self.waiting + self.overdue

    @property
    def ok(self) -> bool:
        return self.first_break is None and self.overdue == 0


def _rows(session: Session, chain: str) -> Iterator[Any]:
    columns = [AuditEvent.id, AuditEvent.chain, AuditEvent.chain_seq, AuditEvent.prev_hash, AuditEvent.hash,
               AuditEvent.occurred_at, AuditEvent.actor_id, AuditEvent.action, AuditEvent.object_type,
               AuditEvent.object_id, AuditEvent.unit_id, AuditEvent.before, AuditEvent.after]
    result = session.execute(sa.select(*columns).where(AuditEvent.chain == chain).order_by(AuditEvent.chain_seq)
                             .execution_options(yield_per=2000))
    yield from result


def verify(session: Session, *, grace_seconds: float = 300, now: datetime | None = None) -> VerifyResult:
    """Walk every chain and report the first broken link (each chain in turn, in name order), and count the
    unlinked events: waiting (written within `grace_seconds`) or overdue (older, which fails)."""
    result = VerifyResult()
    cutoff = (now or utcnow()) - timedelta(seconds=grace_seconds)
    overdue = AuditEvent.occurred_at < cutoff
    waiting, late, oldest = session.execute(
        sa.select(sa.func.count(AuditEvent.id).filter(sa.not_(overdue)), sa.func.count(AuditEvent.id).filter(overdue),
                  sa.func.min(AuditEvent.id).filter(overdue))
        .where(AuditEvent.hash.is_(None))
    ).one()
    result.waiting, result.overdue, result.oldest_overdue_id = int(waiting or 0), int(late or 0), oldest
    heads = {h.chain: h for h in session.scalars(sa.select(AuditChainHead))}
    chains = sorted(set(heads) | set(session.scalars(sa.select(AuditEvent.chain).where(
        AuditEvent.chain.is_not(None)).distinct())))
    for name in chains:
        expected_seq, prev, last_id, count = 1, _GENESIS, None, 0
        for row in _rows(session, name):
            count += 1
            if row.chain_seq != expected_seq:
                if row.chain_seq == expected_seq + 1:
                    what = f"the event before it (place {expected_seq} of the chain) is missing"
                elif row.chain_seq > expected_seq:
                    what = f"the events before it (places {expected_seq}-{row.chain_seq - 1} of the chain) are missing"
                else:
                    what = f"it repeats place {row.chain_seq} of the chain"
                return _broken(result, name, row.id, what)
            if (row.prev_hash or "") != prev:
                return _broken(result, name, row.id, "it does not link to the event before it")
            if row.hash != compute_hash(row):
                return _broken(result, name, row.id, "its content no longer matches its hash (changed after it "
                                                     "was written)")
            prev, last_id, expected_seq = row.hash, row.id, expected_seq + 1
        result.chains[name] = count
        result.checked += count
        head = heads.get(name)
        if head is None:
            return _broken(result, name, last_id, "the chain has no head row")
        if head.seq != expected_seq - 1 or head.last_hash != prev:
            return _broken(result, name, head.last_event_id,
                           f"the chain ends at place {expected_seq - 1} (event #{last_id}) but its head says "
                           f"{head.seq} (event #{head.last_event_id}): the last events were removed")
    return result


def _broken(result: VerifyResult, chain: str, event_id: int | None, reason: str) -> VerifyResult:
    result.first_break = Break(chain, event_id, reason)
    return result


def heads(session: Session) -> list[AuditChainHead]:
    """Every chain's head (its length and last hash): what to anchor outside the database."""
    return list(session.scalars(sa.select(AuditChainHead).order_by(AuditChainHead.chain)))
