"""`tracker sweep` and `tracker dispatch`: one JSON object on stdout, the shapes the demo relies on."""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.smtp_server import FakeSmtpServer
from tests.jobs.conftest import rows, sqlite_only


def invoke(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def test_sweep_prints_what_it_queued_and_twice_queues_nothing(app: Any, active_plan: Any) -> None:
    result = invoke(app, "sweep", "--now", "2024-09-26T08:00:00+07:00")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["now"] == "2024-09-26T08:00:00+07:00" and data["today"] == "2024-09-26"
    assert data["inserted"] == 4 and data["by_rule"] == {"+1:lead_head": 2, "+1:report_to_focal": 2}
    again = json.loads(invoke(app, "sweep", "--now", "2024-09-26T08:00:00+07:00").output)
    assert again["inserted"] == 0 and again["by_rule"] == {}


@sqlite_only
def test_dry_run_queues_nothing(app: Any, active_plan: Any) -> None:
    data = json.loads(invoke(app, "sweep", "--now", "2024-09-18T08:00:00+07:00", "--dry-run").output)
    assert data["dry_run"] is True and data["inserted"] == 2
    assert rows() == []


def test_dispatch_prints_sent_failed_dead(app: Any, active_plan: Any, mail_server: FakeSmtpServer) -> None:
    invoke(app, "sweep", "--now", "2024-09-18T08:00:00+07:00")
    result = invoke(app, "dispatch", "--now", "2024-09-18T08:01:00+07:00")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {k: data[k] for k in ("sent", "failed", "dead")} == {"sent": 2, "failed": 0, "dead": 0}
    assert len(mail_server.messages) == 1


@sqlite_only
def test_a_local_time_without_offset_is_vietnamese_time(app: Any, active_plan: Any) -> None:
    data = json.loads(invoke(app, "sweep", "--now", "2024-09-18T08:00").output)
    assert data["now"] == "2024-09-18T08:00:00+07:00" and data["inserted"] == 2


@sqlite_only
def test_a_bad_timestamp_is_refused(app: Any) -> None:
    result = invoke(app, "sweep", "--now", "next tuesday")
    assert result.exit_code == 2 and "not an ISO-8601 timestamp" in result.output
