"""A fresh demo, built today, reminds people today: its first sweep queues reminders and the dispatcher
delivers them to the local SMTP server (the demo is anchored to the day it is built)."""

from __future__ import annotations

import re

import pytest
import time_machine

from tests.fakes.smtp_server import FakeSmtpServer
from tests.jobs.conftest import at, run
from tracker.extensions import db


@pytest.mark.parametrize("today", ["2026-12-07 09:30", "2027-06-15 10:00"])  # a Monday, a Tuesday
def test_the_first_sweep_of_a_fresh_demo_sends_real_reminders(app, mail_server: FakeSmtpServer, today: str):
    from tracker.demo import build_demo

    moment = at(today)
    with time_machine.travel(moment, tick=False):
        build_demo("demo-pass-1234")
        db.session.commit()
        swept = run("sweep", moment)
        assert swept["inserted"] > 0 and swept["occurrences"] > 0
        sent = run("dispatch", moment)
        assert sent["by_channel"].get("email", 0) > 0 and sent["dead"] == 0, sent
        subjects = [m.parsed["Subject"] for m in mail_server.messages]
        # Besides the history's own notices ("[Đã tiếp nhận báo cáo]"), the reminders of today.
        reminders = [s for s in subjects if s.startswith(("[Nhắc việc]", "[Đôn đốc]"))]
        assert reminders, subjects
        # Reminders of a few days, not of years: "Quá hạn N ngày" stays small.
        late = [int(n) for s in reminders for n in re.findall(r"Quá hạn (\d+) ngày", s)]
        assert all(n <= 10 for n in late), reminders
        assert run("sweep", moment)["inserted"] == 0  # the second sweep of the day queues nothing
