"""The dispatch job: one run of the outbox dispatcher with the app's channels and working calendar."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from tracker.models import Channel
from tracker.notify.base import Channel as ChannelSender
from tracker.notify.dispatcher import DispatchResult, dispatch
from tracker.operations.reminders import work_calendar


def run_dispatch(now: datetime, *, channels: Mapping[Channel, ChannelSender] | None = None) -> DispatchResult:
    """Send what is due at `now` (commits once per batch: its outcomes with the next batch's claim)."""
    return dispatch(now, calendar=work_calendar(), channels=channels)
