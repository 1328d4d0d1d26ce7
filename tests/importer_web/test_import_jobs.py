"""The import job seen from the web: the upload answers at once, the page follows the worker's reading
("Đang nhận dạng chữ (OCR) trang 12/150"), then opens the draft; a failed read shows its Vietnamese error."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import sqlite_only
from tests.importer_web.conftest import PLAN_004, plan_bytes, run_worker
from tests.importer_web.plans import COMMUNE_PLAN
from tests.importer_web.scans import scanned_pdf
from tracker.extensions import db
from tracker.jobs.worker import Worker
from tracker.models import ImportJob, ImportJobStatus, Plan, PlanStatus

PAGES = 150


@pytest.fixture
def app_config() -> dict[str, Any]:
    # Record every page (the default writes at most one count a second) and poll briskly.
    return {"IMPORT_PROGRESS_INTERVAL_SECONDS": 0, "WORKER_POLL_SECONDS": 0.1, "WORKER_HEARTBEAT_SECONDS": 5}


def _ocr_available() -> bool:
    from tracker.importer.readers.ocr import ocr_available

    return ocr_available()


def _job() -> ImportJob:
    db.session.expire_all()
    found = db.session.scalar(sa.select(ImportJob).order_by(ImportJob.id.desc()))
    assert found is not None
    return found


@sqlite_only  # minutes of OCR; the worker's claims are tested on PostgreSQL in tests/jobs/test_worker.py
def test_a_150_page_scan_is_read_by_the_worker_while_the_page_shows_progress(login, client, app, upload, commune):
    if not _ocr_available():
        pytest.skip("tesseract with its Vietnamese model is not installed")
    data = scanned_pdf(COMMUNE_PLAN.strip().splitlines(), pages=PAGES)
    login("ldtbxh")
    response = upload("kh-scan-150-trang.pdf", data, wait=False)
    # The request only queued the job: nothing was read, no draft exists.
    assert response.status_code == 302 and "/plans/import/jobs/" in response.headers["Location"]
    queued = _job()
    assert (queued.status, queued.pages_done, queued.filename) == (ImportJobStatus.QUEUED, 0, "kh-scan-150-trang.pdf")
    assert db.session.scalar(sa.select(sa.func.count(Plan.id))) == 0
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Đang chờ bắt đầu đọc" in html
    assert 'data-testid="no-worker"' in html and '<meta http-equiv="refresh"' in html

    worker = Worker(app, queues=("imports",))
    thread = threading.Thread(target=worker.run, kwargs={"install_signals": False}, daemon=True)
    thread.start()
    seen: list[int] = []
    statuses: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + 900
        while (page := client.get(response.headers["Location"])).status_code == 200:
            html = page.get_data(as_text=True)
            if found := re.search(r"Đang nhận dạng chữ \(OCR\) trang (\d+)/150", html):
                seen.append(int(found.group(1)))
                assert 'data-testid="no-worker"' not in html  # the worker's heartbeat is seen
                if len(seen) == 3:
                    statuses.append(client.get(response.headers["Location"] + "/status").get_json())
            assert time.monotonic() < deadline, "the worker did not finish the scan"
            time.sleep(0.2)
    finally:
        worker.stop()
        thread.join(120)
    assert any(0 < n < PAGES for n in seen), seen  # the page showed the reading as it went
    assert seen == sorted(seen)
    assert statuses and statuses[0]["status"] == "running" and statuses[0]["pages_total"] == PAGES
    # Done: the page opens the draft's review, as the upload did when it read the file itself.
    assert page.status_code == 302
    plan = db.session.scalar(sa.select(Plan))
    assert page.headers["Location"].endswith(f"/plans/{plan.id}/review")
    assert plan.status == PlanStatus.DRAFT and plan.number == "12/KH-UBND"
    assert plan.document.extraction["pages"] == PAGES
    assert any("bản scan 150 trang" in w for w in plan.document.extraction["warnings"])
    assert any("tiêm chủng" in (t.source_text or "") and t.lead_unit_id == commune.health.id for t in plan.tasks), \
        [(t.title, t.lead_unit_id) for t in plan.tasks]
    done = _job()
    assert (done.status, done.plan_id, done.content, done.claimed_by) == (ImportJobStatus.DONE, plan.id, None, None)
    review = client.get(page.headers["Location"]).get_data(as_text=True)
    assert "Đã đọc kế hoạch" in review or 'data-testid="import-row"' in review


def test_a_failed_read_records_a_vietnamese_error_and_the_page_shows_it(login, client, app, upload, commune):
    login("ldtbxh")
    response = upload("kh-hong.pdf", b"%PDF-1.7\n1 0 obj << >> endobj\n" * 50, wait=False)
    location = response.headers["Location"]
    run_worker(app)
    failed = _job()
    assert failed.status == ImportJobStatus.FAILED
    assert failed.error == "Tệp PDF bị hỏng hoặc không đầy đủ (có thể tải lên bị ngắt giữa chừng)."
    page = client.get(location)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "Không đọc được kh-hong.pdf: Tệp PDF bị hỏng" in html and 'data-testid="form-error"' in html
    assert 'data-testid="upload-form"' in html  # choose another file right there
    status = client.get(location + "/status").get_json()
    assert (status["status"], status["error"]) == ("failed", failed.error)
    assert db.session.scalar(sa.select(sa.func.count(Plan.id))) == 0


def test_a_job_is_followed_only_by_its_uploader_and_those_who_manage_the_unit(login, client, app, upload, commune):
    login("ldtbxh")
    location = upload("kh.txt", plan_bytes(PLAN_004), wait=False).headers["Location"]
    client.post("/logout")
    login("ytekhac")  # an officer of the next commune
    assert client.get(location).status_code == 403
    assert client.get(location + "/status").status_code == 403
    assert client.get("/plans/import/jobs/999999").status_code == 404


def test_a_short_text_plan_goes_through_the_same_job(login, client, app, upload, commune):
    login("ldtbxh")
    response = upload("kh.txt", COMMUNE_PLAN.encode(), wait=False)
    assert db.session.scalar(sa.select(sa.func.count(Plan.id))) == 0
    assert run_worker(app) == 1
    done = _job()
    assert done.status == ImportJobStatus.DONE and done.tasks_created and done.attempts == 1
    final = client.get(response.headers["Location"])
    assert final.status_code == 302 and final.headers["Location"].endswith(f"/plans/{done.plan_id}/review")
    assert f"{done.tasks_created} nhiệm vụ" in client.get(final.headers["Location"]).get_data(as_text=True)
