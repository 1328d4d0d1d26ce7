"""The summaries job: at its first run after local midnight (or after the due-soon or grace settings changed),
recount `unit_status_counts` as of the new day; otherwise one small SELECT that changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tracker.clock import local_date, status_clock
from tracker.operations import summaries


@dataclass
class SummaryResult:
    as_of: date
    rebuilt: bool

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "rebuilt": self.rebuilt}


def run_summaries(now: datetime) -> SummaryResult:
    """Rebuild the status counts if they were computed with another day's clock (the runner commits)."""
    clock = status_clock(local_date(now))
    return SummaryResult(clock.today, summaries.rebuild_if_stale(clock))
