"""The chair's overview opens with counts by unit, each unit a tap away from its own list of tasks; the
printed weekly list names the commune and the date."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from tracker.clock import status_clock
from tracker.extensions import db
from tracker.models import Occurrence, OrgUnit

# Monday 23/9/2024, 10:00 in Hà Nội: the 25/9 health report is due soon, the 2030 one and the village's
# 15/10 one are not yet due, the school's report is done and the labour office's 10/9 task is overdue.
NOW = datetime(2024, 9, 23, 3, 0, tzinfo=UTC)
KEYS = ("overdue", "due_soon", "not_due", "done")


@pytest.fixture
def chair(login: Any, web_data: Any, make_task: Any) -> Any:
    commune = web_data.commune
    make_task(web_data.plan, commune.labour, title="Rà soát đối tượng bảo trợ xã hội " * 8, due=date(2024, 9, 10),
              report_to_unit=commune.xa, section_code="III.3")
    db.session.commit()
    with time_machine.travel(NOW, tick=False):
        yield login("chutich")


def _live_counts(commune_path: str) -> dict[int, dict[str, int]]:
    """Per lead unit, from each occurrence's own status (the Python twin of the SQL), one row at a time."""
    clock = status_clock()
    counts: dict[int, dict[str, int]] = {}
    rows = db.session.execute(sa.select(Occurrence, OrgUnit.path).join(OrgUnit, OrgUnit.id == Occurrence.lead_unit_id))
    for occurrence, path in rows:
        status = occurrence.status(clock).value
        if not path.startswith(commune_path) or status == "cancelled":
            continue
        key = "done" if status.startswith("done") else status
        counts.setdefault(occurrence.lead_unit_id, dict.fromkeys(KEYS, 0))[key] += 1
    return counts


def _summary(html: str) -> dict[int, dict[str, int]]:
    """The summary table of the page: unit id -> the four counts shown."""
    shown = {}
    for chunk in html.split('data-testid="unit-summary-row"')[1:]:
        row = chunk.split("</tr>")[0]
        unit_id = int(re.search(r'data-unit-id="(\d+)"', row).group(1))
        cells = re.findall(r'data-count="(\w+)">(?:<a [^>]*>)?([\d.]+)', row)
        shown[unit_id] = {key: int(n.replace(".", "")) for key, n in cells}
    return shown


def test_the_overview_starts_with_the_live_counts_of_every_unit(chair: Any, web_data: Any) -> None:
    html = chair.get("/overview").get_data(as_text=True)
    commune = web_data.commune
    expected = _live_counts(commune.xa.path)
    assert _summary(html) == expected
    # Every status appears, so the comparison covers each column; the commune's totals head the table.
    totals = [sum(c[key] for c in expected.values()) for key in KEYS]
    assert all(totals)
    total_row = html.split('data-testid="unit-summary-total"')[1].split("</tr>")[0]
    assert [int(n) for n in re.findall(r'class="num n-\w+[^"]*">([\d.]+)<', total_row)] == totals
    # It comes first: before the counts by status and the overdue list.
    assert html.index('data-testid="unit-summary"') < html.index('data-testid="status-counts"')
    # The unit with something overdue heads the list.
    assert next(iter(_summary(html))) == commune.labour.id


def test_a_unit_and_each_of_its_counts_lead_to_its_filtered_list(chair: Any, web_data: Any) -> None:
    commune = web_data.commune
    html = chair.get("/overview").get_data(as_text=True)
    expected = _live_counts(commune.xa.path)[commune.health.id]
    assert expected == {"overdue": 0, "due_soon": 1, "not_due": 1, "done": 0}
    row = html.split(f'data-unit-id="{commune.health.id}"')[1].split("</tr>")[0]
    unit_link = re.search(r'<th scope="row"[^>]*><a href="([^"]+)"', row).group(1).replace("&amp;", "&")
    soon_link = re.search(r'data-count="due_soon"><a href="([^"]+)"', row).group(1).replace("&amp;", "&")
    assert 'data-count="overdue">0<' in row  # a zero leads nowhere

    def listed(url: str) -> tuple[str, list[str]]:
        page = chair.get(url.split("#")[0])
        assert page.status_code == 200
        section = page.get_data(as_text=True).split('data-testid="unit-tasks"')[1].split("</section>")[0]
        return section, re.findall(r'<a class="title clamp" href="/occurrences/(\d+)"', section)

    section, ids = listed(unit_link)  # the unit's open tasks
    assert 'data-show="open"' in section and "Trạm Y tế" in section
    assert sorted(map(int, ids)) == sorted([web_data.occurrence.id, web_data.later.id])
    section, ids = listed(soon_link)
    assert 'data-show="due_soon"' in section and list(map(int, ids)) == [web_data.occurrence.id]
    # The school's done report, from the school's "done" count.
    school_row = html.split(f'data-unit-id="{commune.school.id}"')[1].split("</tr>")[0]
    done_link = re.search(r'data-count="done"><a href="([^"]+)"', school_row).group(1).replace("&amp;", "&")
    _section, ids = listed(done_link)
    assert list(map(int, ids)) == [web_data.school.id]


def test_long_titles_are_cut_on_the_overview_and_whole_on_the_task_page(chair: Any, web_data: Any) -> None:
    title = ("Rà soát đối tượng bảo trợ xã hội " * 8).strip()
    html = chair.get("/overview").get_data(as_text=True)
    overdue = html.split('data-testid="overdue-unit"')[1]
    assert 'class="clamp"' in overdue.split("</tr>")[1]
    occurrence = db.session.scalar(sa.select(Occurrence).where(Occurrence.lead_unit_id == web_data.commune.labour.id))
    assert title in chair.get(f"/occurrences/{occurrence.id}").get_data(as_text=True)


def test_a_unit_list_refuses_an_unknown_filter_and_a_unit_outside_the_scope(chair: Any, web_data: Any) -> None:
    commune = web_data.commune
    assert chair.get(f"/overview?unit={commune.health.id}&show=everything").status_code == 400
    assert chair.get(f"/overview?unit={commune.other_xa.id}").status_code == 403


def test_the_printed_weekly_list_names_the_commune_and_the_date(chair: Any, web_data: Any) -> None:
    html = chair.get("/overview/print").get_data(as_text=True)
    head = html.split('data-testid="print-head"')[1].split("</header>")[0]
    assert "Xã Cao Ngọc" in head and "23/09/2024" in head
    assert "Xã Cao Ngọc" in html.split("<title>")[1].split("</title>")[0]
    # The printed summary has the same counts, without links.
    assert _summary(html) == _live_counts(web_data.commune.xa.path)
    assert "#unit-tasks" not in html
    one_unit = chair.get(f"/overview/print?unit={web_data.commune.health.id}").get_data(as_text=True)
    assert "Trạm Y tế" in one_unit.split('data-testid="print-scope"')[1].split("</b>")[0]
