"""Action links in the messages the dispatcher sends: built-in e-mails in both languages, a ZNS template that takes
the link as a parameter, an admin's override that does not show one, and in-app rows that need none."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.fakes.smtp_server import FakeSmtpServer
from tests.fakes.zalo_server import FakeZaloServer
from tests.jobs.conftest import ZNS_TEMPLATE, at, run, sqlite_only
from tracker.extensions import db
from tracker.models import ActionLink, Channel, MessageTemplate, NotificationKind
from tracker.notify.links import find_link

BASE = "https://tracker.example.vn"
LINK = re.compile(re.escape(BASE) + r"/r/([\w-]+)")


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"PUBLIC_BASE_URL": BASE, "ZALO_TEMPLATE_PARAMS": {
        "reminder": {"officer_name": "recipient_name", "task_title": "task_title", "due_on": "due_on",
                     "url": "action_link"}}}


@pytest.fixture
def zalo_server() -> Iterator[FakeZaloServer]:
    with FakeZaloServer(templates={ZNS_TEMPLATE: {"officer_name", "task_title", "due_on", "url"}}) as server:
        yield server


def links() -> list[ActionLink]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ActionLink).order_by(ActionLink.id)))


def test_zns_and_email_carry_a_link_for_their_recipient(active_plan: Any, commune: Any, mail_server: FakeSmtpServer,
                                                        zalo: FakeZaloServer) -> None:
    commune.officer.phone = "0912 345 678"
    db.session.commit()
    run("sweep", at("2024-09-18 08:00"))
    assert run("dispatch", at("2024-09-18 08:01"))["by_channel"] == {"email": 1, "in_app": 1, "zalo": 1}

    (zns,) = zalo.requests_to("zns")
    (zns_token,) = LINK.findall(zns.body["template_data"]["url"])
    (received,) = mail_server.messages
    (mail_token,) = set(LINK.findall(received.parsed.get_body(("plain",)).get_content()))
    assert zns_token != mail_token  # one link per message
    for token in (zns_token, mail_token):
        link = find_link(token)
        assert (link.recipient_id, link.occurrence_id, link.used_at) == (
            commune.officer.id, active_plan.occurrence.id, None)
        assert (link.expires_at - link.created_at).days == 14
    assert len(links()) == 2  # the in-app row made none


@sqlite_only
def test_an_english_reader_gets_the_english_invitation(active_plan: Any, commune: Any,
                                                       mail_server: FakeSmtpServer) -> None:
    commune.officer.locale = "en"
    db.session.commit()
    run("sweep", at("2024-09-18 08:00"))
    run("dispatch", at("2024-09-18 08:01"))
    (received,) = mail_server.messages
    text = received.parsed.get_body(("plain",)).get_content()
    html = received.parsed.get_body(("html",)).get_content()
    assert "Mark done, report or ask for more time (a link for you only, works once): " + BASE + "/r/" in text
    assert ">Mark done, report or ask for more time</a>" in html


@sqlite_only
def test_an_override_without_the_link_makes_none(active_plan: Any, commune: Any,
                                                 mail_server: FakeSmtpServer) -> None:
    db.session.add(MessageTemplate(kind=NotificationKind.REMINDER, channel=Channel.EMAIL, locale="vi",
                                   subject="Nhắc việc", body_text="Nhắc việc: {{ task_title }} ({{ link }})"))
    db.session.commit()
    run("sweep", at("2024-09-18 08:00"))
    run("dispatch", at("2024-09-18 08:01"))
    (received,) = mail_server.messages
    assert f"{BASE}/occurrences/{active_plan.occurrence.id}" in received.parsed.get_body(("plain",)).get_content()
    assert links() == []
