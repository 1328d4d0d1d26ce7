"""Fixtures for the reminder jobs: the SMTP and Zalo fakes wired into the app, and helpers to run jobs at a time."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.conftest import sqlite_only  # noqa: E402, F401 - the jobs' tests import it from here
from tests.fakes.smtp_server import FakeSmtpServer  # noqa: E402
from tests.fakes.zalo_server import FakeZaloServer  # noqa: E402
from tracker.extensions import db, mail  # noqa: E402
from tracker.jobs.runner import JobOutcome, run_job  # noqa: E402
from tracker.models import Notification  # noqa: E402

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ZNS_TEMPLATE = "285714"  # the fake's registered template: officer_name, task_title, due_on
FOLLOWER_ID = "8451239876543210987"  # a follower of the fake OA




def at(text: str) -> datetime:
    """A local Vietnamese time, e.g. at("2024-09-18 08:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=VN)


def run(name: str, when: datetime) -> dict[str, Any]:
    """Run job `name` as of `when` through the runner; fail the test if it failed."""
    outcome: JobOutcome = run_job(name, now=when)
    assert outcome.ok, outcome.error
    return outcome.result or {}


def rows(**where: Any) -> list[Notification]:
    """Outbox rows, oldest first, filtered by column values (fresh from the database)."""
    db.session.expire_all()
    query = sa.select(Notification).order_by(Notification.id)
    for column, value in where.items():
        query = query.where(getattr(Notification, column) == value)
    return list(db.session.scalars(query))


def recipients(result_rows: list[Notification], channel: str = "email") -> list[str]:
    return sorted(n.recipient.username for n in result_rows if n.channel == channel)


@pytest.fixture
def smtp_server() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture
def mail_server(app: Flask, smtp_server: FakeSmtpServer) -> FakeSmtpServer:
    """Point the app's Flask-Mail at the fake SMTP server."""
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port, MAIL_TIMEOUT_SECONDS=2.0,
                      MAIL_SUPPRESS_SEND=False, MAIL_DEFAULT_SENDER=("Hệ thống theo dõi nhiệm vụ", "noreply@ubnd.vn"))
    mail.init_app(app)
    return smtp_server


@pytest.fixture
def zalo_server() -> Iterator[FakeZaloServer]:
    with FakeZaloServer() as server:
        yield server


@pytest.fixture
def zalo(app: Flask, zalo_server: FakeZaloServer) -> FakeZaloServer:
    """Enable the Zalo channel against the fake, with a stored token pair."""
    from tracker.notify.zalo_tokens import SqlTokenStore, ZaloTokens

    app.config.update(
        ZALO_ENABLED=True, ZALO_APP_ID=zalo_server.app_id, ZALO_SECRET_KEY=zalo_server.secret_key,
        ZALO_OAUTH_URL=zalo_server.url, ZALO_OPENAPI_URL=zalo_server.url, ZALO_ZNS_URL=zalo_server.url,
        ZALO_TIMEOUT_SECONDS=0.5, ZALO_TEMPLATE_IDS={"reminder": ZNS_TEMPLATE, "escalation": ZNS_TEMPLATE},
    )
    access, refresh = zalo_server.issue_tokens()
    SqlTokenStore(db.engine).save(ZaloTokens(access_token=access, refresh_token=refresh))
    return zalo_server


@pytest.fixture
def make_due_task(commune: Any, make_plan: Callable[..., Any], make_task: Callable[..., Any]) -> Callable[..., Any]:
    """An active plan with one health-station task due on the given date; returns (task, occurrence)."""
    from tracker.models import Occurrence
    from tracker.operations.plans import activate_plan

    def make(due: date, *, title: str = "Báo cáo kết quả", lead: Any = None, **kw: Any) -> SimpleNamespace:
        plan = make_plan(commune.xa, number=f"{due:%d%m}/KH-UBND", title=f"Kế hoạch {title}")
        task = make_task(plan, lead or commune.health, title=title, due=due, **kw)
        activate_plan(None, plan)
        db.session.commit()
        occurrence = db.session.scalar(sa.select(Occurrence).where(Occurrence.task_id == task.id))
        return SimpleNamespace(plan=plan, task=task, occurrence=occurrence)

    return make
