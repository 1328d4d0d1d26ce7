"""The audit sequencer's job: link the events requests wrote unlinked into their hash chains.

Requests write audit events with no hash and commit without touching a chain head; this job links them a
few seconds later, in batches of AUDIT_LINK_BATCH events, each batch in a transaction of its own (the chain
heads stay locked only for one batch). Every worker runs it in its "audit" loop, the scheduler every
AUDIT_LINK_INTERVAL_SECONDS, `tracker audit link` on demand; concurrent runs take turns (see
tracker.operations.audit_chain.link_batch).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from tracker.extensions import db

#: At most this many batches per run, so one run never holds a worker loop for long after an outage.
MAX_BATCHES = 50


@dataclass
class LinkResult:
    linked: int = 0
    batches: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"linked": self.linked, "batches": self.batches}


def run_audit_link(now: datetime, *, max_batches: int = MAX_BATCHES) -> LinkResult:
    """Link unlinked audit events, one committed transaction per batch, until none is left (or max_batches)."""
    from tracker.operations.audit_chain import link_batch

    size = int(current_app.config.get("AUDIT_LINK_BATCH", 500))
    result = LinkResult()
    while result.batches < max_batches:
        n = link_batch(db.session(), batch=size)
        db.session.commit()  # release the chain heads after each batch
        if not n:
            break
        result.linked += n
        result.batches += 1
        if n < size:
            break
    return result
