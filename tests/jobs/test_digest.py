"""The daily digest: one message per person listing everything held for them."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from tests.fakes.smtp_server import FakeSmtpServer
from tests.jobs.conftest import at, rows, run, sqlite_only
from tracker.extensions import db
from tracker.models import DeliveryStatus, NotificationKind, Occurrence
from tracker.notify.links import find_link
from tracker.operations.occurrences import mark_done


def test_one_digest_per_person_lists_all_due_items(active_plan: Any, commune: Any, make_due_task: Any,
                                                  mail_server: FakeSmtpServer) -> None:
    today_task = make_due_task(date(2024, 9, 23), title="Rà soát hộ nghèo")
    done = make_due_task(date(2024, 9, 27), title="Tổng hợp số liệu")
    commune.officer.prefers_digest = True
    db.session.commit()
    run("sweep", at("2024-09-23 06:00"))  # 0 for 23/9, -2 for 25/9, -5 for 27/9
    held = rows(channel="email", recipient_id=commune.officer.id)
    assert len(held) == 3 and {n.status for n in held} == {DeliveryStatus.HELD}
    mark_done(commune.officer, db.session.get(Occurrence, done.occurrence.id), now=at("2024-09-23 07:00"))
    db.session.commit()

    result = run("digest", at("2024-09-23 07:45"))
    assert (result["digests"], result["items"], result["skipped"]) == (1, 2, 1)
    assert run("digest", at("2024-09-23 09:00"))["digests"] == 0  # once a day

    sent = run("dispatch", at("2024-09-23 07:46"))
    assert sent["by_channel"]["email"] == 1
    (message,) = mail_server.messages
    mail = message.parsed
    assert mail["Subject"] == "[Nhắc việc] 2 nhiệm vụ cần chú ý ngày 23/09/2024"
    text = mail.get_body(("plain",)).get_content()
    assert text.index("Rà soát hộ nghèo") < text.index("Báo cáo kết quả tiếp cận dịch vụ y tế")
    assert "đến hạn hôm nay" in text and "còn 2 ngày làm việc" in text
    assert "Tổng hợp số liệu" not in text
    # Each item carries its own action link, made for this officer and that item's occurrence.
    tokens = re.findall(r"/r/([\w-]+)", text)
    linked = [find_link(token) for token in tokens]
    assert [(link.occurrence_id, link.recipient_id) for link in linked] == [
        (today_task.occurrence.id, commune.officer.id), (active_plan.occurrence.id, commune.officer.id)]
    digest = rows(kind=NotificationKind.DIGEST)[0]
    assert digest.status == DeliveryStatus.SENT and digest.recipient_id == commune.officer.id
    assert {n.digest_id for n in rows(status=DeliveryStatus.DIGESTED)} == {digest.id}


@sqlite_only
def test_no_digest_on_a_day_off_and_the_held_rows_wait(active_plan: Any, commune: Any) -> None:
    commune.officer.prefers_digest = True
    db.session.commit()
    run("sweep", at("2024-09-20 08:00"))
    assert run("digest", at("2024-09-21 07:45"))["working_day"] is False
    assert rows(kind=NotificationKind.DIGEST) == []
    assert run("digest", at("2024-09-23 07:45"))["items"] == 1


def test_a_digest_whose_tasks_are_all_done_is_skipped(active_plan: Any, commune: Any,
                                                      mail_server: FakeSmtpServer) -> None:
    commune.officer.prefers_digest = True
    db.session.commit()
    run("sweep", at("2024-09-18 08:00"))
    run("digest", at("2024-09-18 08:10"))
    mark_done(commune.officer, db.session.get(Occurrence, active_plan.occurrence.id), now=at("2024-09-18 08:15"))
    db.session.commit()
    run("dispatch", at("2024-09-18 08:20"))
    (digest,) = rows(kind=NotificationKind.DIGEST)
    assert digest.status == DeliveryStatus.SKIPPED and "every listed task is done" in digest.last_error
    assert mail_server.messages == []
