"""Bundling: what one sweep queues for one person on one channel goes out as one message listing every item."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from tests.fakes.smtp_server import FakeSmtpServer
from tests.fakes.zalo_server import FakeZaloServer
from tests.jobs.conftest import FOLLOWER_ID, ZNS_TEMPLATE, at, rows, run, sqlite_only
from tracker.extensions import db
from tracker.jobs.bundle import upper_admin_units
from tracker.jobs.runner import run_job
from tracker.jobs.sweep import run_sweep
from tracker.models import ActionLink, AuditEvent, DeliveryStatus, Notification, NotificationKind, Occurrence, UnitKind
from tracker.operations.inbox import recent
from tracker.operations.occurrences import mark_done
from tracker.queries.dashboard import reminders_for

BASE = "https://tracker.example.vn"
BUNDLE_ZNS = "300001"  # a ZNS template with a count and a link to the list


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"BUNDLE_ENABLED": True, "BUNDLE_MIN_ITEMS": 3, "PUBLIC_BASE_URL": BASE}


@pytest.fixture
def overdue(commune: Any, make_due_task: Any) -> dict[str, Any]:
    """Five tasks of three commune offices, 7 to 11 working days late on 7/10/2024 (escalated to the district),
    and one 4 working days late (escalated to the commune chair)."""
    specs = [
        (date(2024, 9, 20), commune.health, "Báo cáo tiêm chủng"),
        (date(2024, 9, 23), commune.school, "Báo cáo sĩ số"),
        (date(2024, 9, 24), commune.health, "Báo cáo dịch bệnh"),
        (date(2024, 9, 25), commune.labour, "Danh sách hộ nghèo"),
        (date(2024, 9, 26), commune.school, "Báo cáo cơ sở vật chất"),
        (date(2024, 10, 1), commune.health, "Báo cáo vệ sinh"),
    ]
    return {title: make_due_task(due, title=title, lead=lead) for due, lead, title in specs}


def _items_by_bundle() -> dict[int, list[Notification]]:
    bundles = {b.id: [] for b in rows(kind=NotificationKind.BUNDLE)}
    for item in rows(status=DeliveryStatus.DIGESTED):
        bundles[item.digest_id].append(item)
    return bundles


def _outgoing(channel: str) -> Counter[str]:
    """Messages each person gets on `channel`: bundles and the items not in one."""
    return Counter(n.recipient.username for n in rows(channel=channel)
                   if n.kind == NotificationKind.BUNDLE or n.digest_id is None)


def test_many_overdue_items_make_one_escalation_email_per_recipient(overdue: dict[str, Any], commune: Any,
                                                                    mail_server: FakeSmtpServer) -> None:
    result = run("sweep", at("2024-10-07 08:00"))
    assert (result["bundles"], result["bundled_items"]) == (2, 10)  # the district focal: e-mail and in-app
    assert _outgoing("email") == {"huyen": 1, "chutich": 1} and _outgoing("in_app") == {"huyen": 1, "chutich": 1}

    # Every item is in exactly one bundle, and the bundles carry every item: counted against the rows.
    bundles = _items_by_bundle()
    items = [n for n in rows() if n.kind in (NotificationKind.REMINDER, NotificationKind.ESCALATION)]
    carried = [i.id for group in bundles.values() for i in group]
    assert len(carried) == len(set(carried)) == 10
    assert {n.id for n in items if n.recipient_id == commune.district_focal.id} == set(carried)
    for bundle_id, group in bundles.items():
        bundle = db.session.get(Notification, bundle_id)
        assert {(i.recipient_id, i.channel) for i in group} == {(bundle.recipient_id, bundle.channel)}
        assert bundle.escalation_level == max(i.escalation_level for i in group) > 0
    assert run("sweep", at("2024-10-07 08:05"))["inserted"] == 0  # nothing twice

    sent = run("dispatch", at("2024-10-07 08:10"))
    assert sent["by_channel"] == {"email": 2, "in_app": 2}
    per_recipient = Counter(m.rcpt_tos for m in mail_server.messages)
    assert max(per_recipient.values()) == 1 and per_recipient[("huyen@example.org",)] == 1
    (mail,) = [m.parsed for m in mail_server.messages if m.rcpt_tos == ("huyen@example.org",)]
    assert mail["Subject"] == "[Đôn đốc] 5 nhiệm vụ cần xử lý, 5 quá hạn (07/10/2024)"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    # Grouped by lead unit, the unit of the most overdue item first; inside a unit, most overdue first.
    order = ["Trạm Y tế (2 nhiệm vụ)", "Báo cáo tiêm chủng", "Báo cáo dịch bệnh",
             "Trường Tiểu học (2 nhiệm vụ)", "Báo cáo sĩ số", "Báo cáo cơ sở vật chất",
             "Công chức Lao động - TB&XH (1 nhiệm vụ)", "Danh sách hộ nghèo"]
    positions = [text.index(s) for s in order]
    assert positions == sorted(positions)
    assert "quá hạn 17 ngày" in text  # 20/9 to 7/10
    (email_bundle,) = [b for b in rows(kind=NotificationKind.BUNDLE) if b.channel == "email"]
    # Each item has its own single-use action link for this person (tracker/notify/links.py), in both parts.
    links = db.session.scalars(sa.select(ActionLink).where(ActionLink.notification_id == email_bundle.id)).all()
    listed = {task.occurrence.id for title, task in overdue.items() if title != "Báo cáo vệ sinh"}
    assert {link.occurrence_id for link in links} == listed and len(links) == 5
    assert {link.recipient_id for link in links} == {commune.district_focal.id}
    assert text.count(f"{BASE}/r/") == 5 and html.count(f'href="{BASE}/r/') == 5
    assert f"{BASE}/notifications/{email_bundle.id}" in text
    assert email_bundle.status == DeliveryStatus.SENT
    assert {i.status for i in bundles[email_bundle.id]} == {DeliveryStatus.DIGESTED}
    assert run("dispatch", at("2024-10-07 08:20"))["sent"] == 0
    # Every item is in exactly one delivered bundle.
    carriers = Counter(db.session.get(Notification, i.digest_id).status for i in rows(status=DeliveryStatus.DIGESTED))
    assert carriers == {DeliveryStatus.SENT: 10}
    # The chair's overview says who was reminded: a carried item went out with its bundle.
    shown = reminders_for(overdue["Báo cáo sĩ số"].occurrence.id)
    assert {(r.channel, r.status) for r in shown if r.recipient == "Hoàng Văn Huyện"} == {
        ("email", "sent"), ("in_app", "sent")}


def test_below_the_threshold_items_go_one_by_one(app: Any, active_plan: Any, commune: Any,
                                                 make_due_task: Any) -> None:
    make_due_task(date(2024, 9, 23), title="Rà soát hộ nghèo")
    make_due_task(date(2024, 9, 27), title="Tổng hợp số liệu")
    app.config["BUNDLE_MIN_ITEMS"] = 4
    run("sweep", at("2024-09-23 06:00"))  # the officer: 0 for 23/9, -2 for 25/9, -5 for 27/9
    assert rows(kind=NotificationKind.BUNDLE) == []
    assert _outgoing("email") == {"yte": 3}


def test_at_the_threshold_a_person_gets_one_bundle(active_plan: Any, commune: Any, make_due_task: Any) -> None:
    make_due_task(date(2024, 9, 23), title="Rà soát hộ nghèo")
    make_due_task(date(2024, 9, 27), title="Tổng hợp số liệu")
    run("sweep", at("2024-09-23 06:00"))
    assert _outgoing("email") == {"yte": 1} and _outgoing("in_app") == {"yte": 1}
    (email_bundle,) = [b for b in rows(kind=NotificationKind.BUNDLE) if b.channel == "email"]
    assert email_bundle.escalation_level == 0 and len(_items_by_bundle()[email_bundle.id]) == 3
    # Queued for the working window like its items (06:00 is before it).
    assert email_bundle.next_attempt_at == rows(digest_id=email_bundle.id)[0].next_attempt_at > at("2024-09-23 06:00")


def test_one_escalation_above_the_commune_is_bundled_and_one_at_the_commune_is_not(
        app: Any, commune: Any, make_due_task: Any) -> None:
    make_due_task(date(2024, 9, 26), title="Báo cáo cơ sở vật chất")  # +7: the district
    make_due_task(date(2024, 10, 1), title="Báo cáo vệ sinh")  # +3: the commune chair
    run("sweep", at("2024-10-07 08:00"))
    (bundle,) = [b for b in rows(kind=NotificationKind.BUNDLE) if b.channel == "email"]
    assert bundle.recipient_id == commune.district_focal.id and len(rows(digest_id=bundle.id)) == 1
    (chair_row,) = rows(channel="email", recipient_id=commune.chair.id)
    assert chair_row.kind == NotificationKind.ESCALATION and chair_row.status == DeliveryStatus.PENDING


def test_the_level_above_the_commune_is_read_from_the_tree(commune: Any, make_unit: Any) -> None:
    # A post-2025 province has no district: its communes sit right under it.
    new_province = make_unit("Tỉnh Mới", UnitKind.PROVINCE)
    ward = make_unit("Phường Mới", UnitKind.COMMUNE, parent=new_province)
    make_unit("Tổ dân phố 1", UnitKind.VILLAGE, parent=ward)
    lone = make_unit("Tỉnh Chưa Có Xã", UnitKind.PROVINCE)
    db.session.commit()
    upper = upper_admin_units()
    found = set(db.session.scalars(sa.select(upper.c.unit_id)))
    assert found == {commune.province.id, commune.district.id, new_province.id}
    assert not found & {commune.xa.id, ward.id, lone.id}


def test_escalations_above_the_commune_can_go_one_by_one(app: Any, commune: Any, make_due_task: Any) -> None:
    app.config["BUNDLE_ESCALATIONS_ABOVE_COMMUNE"] = False
    make_due_task(date(2024, 9, 26), title="Báo cáo cơ sở vật chất")
    run("sweep", at("2024-10-07 08:00"))
    assert rows(kind=NotificationKind.BUNDLE) == []


def test_a_failure_between_steps_rolls_back_and_the_rerun_gives_the_same_rows(overdue: dict[str, Any],
                                                                             app: Any) -> None:
    def fail_on_attach(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # After the rows and bundles are written (SQLite: attached by an UPDATE; PostgreSQL: inserted
        # attached), the step that drops empty bundles fails.
        if statement.lstrip().startswith("DELETE FROM notifications"):
            raise RuntimeError("power cut after attaching items to their bundles")

    sa.event.listen(db.engine, "before_cursor_execute", fail_on_attach)
    try:
        outcome = run_job("sweep", now=at("2024-10-07 08:00"))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", fail_on_attach)
    assert not outcome.ok and "power cut" in (outcome.error or "")
    assert rows() == []  # the sweep's rows went with the bundles: nothing half-written
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Occurrence)
                             .where(Occurrence.last_reminded_at.is_not(None))) == 0

    result = run("sweep", at("2024-10-07 08:00"))
    assert (result["bundles"], result["bundled_items"]) == (2, 10)
    snapshot = sorted((n.dedupe_key, n.status.value, n.digest_id is not None) for n in rows())
    assert len({key for key, _, _ in snapshot}) == len(snapshot)
    assert run("sweep", at("2024-10-07 08:00"))["inserted"] == 0  # the same sweep again: nothing new
    assert sorted((n.dedupe_key, n.status.value, n.digest_id is not None) for n in rows()) == snapshot


def test_items_done_before_the_bundle_goes_out_are_dropped(overdue: dict[str, Any], commune: Any,
                                                           mail_server: FakeSmtpServer) -> None:
    run("sweep", at("2024-10-07 08:00"))
    for title in ("Báo cáo tiêm chủng", "Báo cáo dịch bệnh"):
        occurrence = db.session.get(Occurrence, overdue[title].occurrence.id)
        mark_done(commune.officer, occurrence, now=at("2024-10-07 08:03"))
    db.session.commit()
    run("dispatch", at("2024-10-07 08:10"))
    (mail,) = [m.parsed for m in mail_server.messages if m.rcpt_tos == ("huyen@example.org",)]
    text = mail.get_body(("plain",)).get_content()
    assert mail["Subject"] == "[Đôn đốc] 3 nhiệm vụ cần xử lý, 3 quá hạn (07/10/2024)"
    assert "Trạm Y tế" not in text and "Báo cáo sĩ số" in text


def test_a_bundle_whose_items_are_all_done_is_skipped(app: Any, active_plan: Any, commune: Any, make_due_task: Any,
                                                      mail_server: FakeSmtpServer) -> None:
    tasks = [active_plan, make_due_task(date(2024, 9, 23)), make_due_task(date(2024, 9, 27))]
    run("sweep", at("2024-09-23 06:00"))
    for task in tasks:
        mark_done(commune.officer, db.session.get(Occurrence, task.occurrence.id), now=at("2024-09-23 07:00"))
    db.session.commit()
    run("dispatch", at("2024-09-23 08:00"))
    (bundle,) = [b for b in rows(kind=NotificationKind.BUNDLE) if b.channel == "email"]
    assert bundle.status == DeliveryStatus.SKIPPED and "every listed task is done" in bundle.last_error
    assert mail_server.messages == []


def test_a_dead_bundle_leaves_its_items_visible_in_the_outbox(overdue: dict[str, Any], commune: Any, app: Any,
                                                              client: Any, login: Any,
                                                              mail_server: FakeSmtpServer) -> None:
    commune.district_focal.email = None  # the bundle cannot be addressed: dead at once
    db.session.commit()
    run("sweep", at("2024-10-07 08:00"))
    run("dispatch", at("2024-10-07 08:10"))
    (bundle,) = [b for b in rows(kind=NotificationKind.BUNDLE) if b.channel == "email"]
    assert bundle.status == DeliveryStatus.DEAD
    page = login("quantri").get("/admin/outbox?status=digested").get_data(as_text=True)
    assert page.count(f"trong thông báo #{bundle.id}: ") == 5


def test_the_bell_shows_one_bundle_and_its_page_lists_the_items(overdue: dict[str, Any], commune: Any,
                                                                client: Any, login: Any) -> None:
    run("sweep", at("2024-10-07 08:00"))
    run("dispatch", at("2024-10-07 08:10"))
    (item,) = recent(commune.district_focal)
    assert item.kind == NotificationKind.BUNDLE and item.text.startswith("Đôn đốc: 5 nhiệm vụ cần xử lý (5 quá hạn)")
    assert item.link == f"{BASE}/notifications/{item.id}"
    signed_in = login("huyen")
    page = signed_in.get(f"/notifications/{item.id}").get_data(as_text=True)
    assert "5 nhiệm vụ cần xử lý" in page
    for title in ("Báo cáo tiêm chủng", "Báo cáo sĩ số", "Danh sách hộ nghèo"):
        assert title in page
    assert page.index("Báo cáo tiêm chủng") < page.index("Báo cáo sĩ số") < page.index("Danh sách hộ nghèo")
    assert f"/notifications/{item.id}" in signed_in.get("/notifications").get_data(as_text=True)
    # Somebody else's bundle is not found.
    client.post("/logout")
    assert login("chutich").get(f"/notifications/{item.id}").status_code == 404


def test_a_daily_digest_chosen_on_the_profile_holds_the_reminders(active_plan: Any, commune: Any, make_due_task: Any,
                                                                  client: Any, login: Any) -> None:
    signed_in = login("yte")
    page = signed_in.get("/profile").get_data(as_text=True)
    assert "Ngay lập tức" in page and "Tổng hợp hằng ngày" in page
    refused = signed_in.post("/profile/delivery", data={"delivery": "weekly"})
    assert refused.status_code == 422 and 'Hãy chọn một trong các phương án.' in refused.get_data(as_text=True)
    db.session.expire_all()
    assert commune.officer.prefers_digest is False
    assert signed_in.post("/profile/delivery", data={"delivery": "daily"}).status_code == 302
    db.session.expire_all()
    assert commune.officer.prefers_digest is True
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "person.set_digest_preference")) == 1

    make_due_task(date(2024, 9, 23), title="Rà soát hộ nghèo")
    make_due_task(date(2024, 9, 27), title="Tổng hợp số liệu")
    result = run("sweep", at("2024-09-23 06:00"))
    # E-mail held for the digest (never bundled); in-app is never held, so it is bundled.
    assert result["held_for_digest"] == 3
    assert [b.channel for b in rows(kind=NotificationKind.BUNDLE)] == ["in_app"]
    assert run("digest", at("2024-09-23 07:45"))["items"] == 3
    assert signed_in.post("/profile/delivery", data={"delivery": "immediate"}).status_code == 302
    db.session.expire_all()
    assert commune.officer.prefers_digest is False


def test_a_bundle_goes_to_zalo_as_a_count_and_a_link(overdue: dict[str, Any], commune: Any, app: Any,
                                                     mail_server: FakeSmtpServer) -> None:
    from tracker.notify.zalo_tokens import SqlTokenStore, ZaloTokens

    templates = {ZNS_TEMPLATE: {"officer_name", "task_title", "due_on"},
                 BUNDLE_ZNS: {"officer_name", "item_count", "overdue_count", "link"}}
    with FakeZaloServer(templates=templates) as zalo:
        app.config.update(
            ZALO_ENABLED=True, ZALO_APP_ID=zalo.app_id, ZALO_SECRET_KEY=zalo.secret_key, ZALO_OAUTH_URL=zalo.url,
            ZALO_OPENAPI_URL=zalo.url, ZALO_ZNS_URL=zalo.url, ZALO_TIMEOUT_SECONDS=2.0,
            ZALO_TEMPLATE_IDS={"reminder": ZNS_TEMPLATE, "escalation": ZNS_TEMPLATE, "bundle": BUNDLE_ZNS},
        )
        access, refresh = zalo.issue_tokens()
        SqlTokenStore(db.engine).save(ZaloTokens(access_token=access, refresh_token=refresh))
        commune.district_focal.phone = "0912 345 678"
        db.session.commit()
        run("sweep", at("2024-10-07 08:00"))
        run("dispatch", at("2024-10-07 08:10"))
        (zns,) = [r for r in zalo.requests_to("zns") if r.body["phone"] == "84912345678"]
    (bundle,) = [b for b in rows(kind=NotificationKind.BUNDLE) if b.channel == "zalo"]
    assert zns.body["template_id"] == BUNDLE_ZNS and zns.body["tracking_id"] == str(bundle.id)
    assert zns.body["template_data"] == {"officer_name": "Hoàng Văn Huyện", "item_count": "5", "overdue_count": "5",
                                         "link": f"{BASE}/notifications/{bundle.id}"}
    assert bundle.status == DeliveryStatus.SENT


@sqlite_only
def test_bundle_templates_render_on_every_channel_in_both_languages(app: Any) -> None:
    from tracker.models import Channel
    from tracker.operations.reminders import preview_template

    for channel in Channel:
        for locale in ("vi", "en"):
            rendered = preview_template(NotificationKind.BUNDLE, channel, locale, None)
            assert "Trạm Y tế" in rendered.text and "2" in rendered.text
    english = preview_template(NotificationKind.BUNDLE, Channel.EMAIL, "en", None)
    assert english.subject == "[Escalation] 2 tasks to act on, 1 late (26/09/2024)"
    assert "Trạm Y tế (2 tasks):" in english.text and "1 day late" in english.text


def test_without_a_bundle_zns_template_zalo_bundles_reach_only_followers(overdue: dict[str, Any], commune: Any,
                                                                       app: Any, zalo: FakeZaloServer) -> None:
    # ZNS templates for reminders and escalations only (the `zalo` fixture): the district focal, known by
    # phone, keeps one ZNS per item on Zalo while e-mail and in-app are bundled; a follower gets one OA text.
    commune.district_focal.phone = "0912 345 678"
    commune.chair.zalo_user_id = FOLLOWER_ID
    app.config["BUNDLE_MIN_ITEMS"] = 1
    db.session.commit()
    run("sweep", at("2024-10-07 08:00"))
    bundled = {(b.recipient.username, b.channel) for b in rows(kind=NotificationKind.BUNDLE)}
    assert bundled == {("huyen", "email"), ("huyen", "in_app"), ("chutich", "email"), ("chutich", "in_app"),
                       ("chutich", "zalo")}
    assert _outgoing("zalo") == {"huyen": 5, "chutich": 1}


@pytest.mark.parametrize("second", ["2024-10-07 08:00", "2024-10-07 08:00:01"])
def test_concurrent_sweeps_bundle_each_item_once(overdue: dict[str, Any], app: Any, second: str) -> None:
    # Two sweeps at once, at the same instant or one second apart (different bundle keys): every item
    # exactly once, carried by exactly one bundle, and no bundle left carrying nothing.
    barrier = threading.Barrier(2)
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def sweep(when: str) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                outcome = run_sweep(at(when))
                db.session.commit()
                results.append((outcome.inserted, outcome.bundled))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sweep, args=(when,)) for when in ("2024-10-07 08:00", second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sum(r[0] for r in results) == 12 and sum(r[1] for r in results) == 10
    bundles = _items_by_bundle()
    assert len(bundles) == 2 and sorted(len(items) for items in bundles.values()) == [5, 5]
    assert _outgoing("email") == {"huyen": 1, "chutich": 1}
