"""Reporting periods: the forms a person writes, their Vietnamese names, the period after."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.operations.errors import ValidationFailed
from tracker.periods import Period, default_period, parse_period, suggested_periods


@pytest.mark.parametrize(("text", "start", "end", "label", "key"), [
    ("2025", date(2025, 1, 1), date(2025, 12, 31), "năm 2025", "2025"),
    ("2025-H1", date(2025, 1, 1), date(2025, 6, 30), "6 tháng đầu năm 2025", "2025-H1"),
    ("2025-h2", date(2025, 7, 1), date(2025, 12, 31), "6 tháng cuối năm 2025", "2025-H2"),
    ("2025-Q3", date(2025, 7, 1), date(2025, 9, 30), "quý III năm 2025", "2025-Q3"),
    ("2024-Q1", date(2024, 1, 1), date(2024, 3, 31), "quý I năm 2024", "2024-Q1"),
    ("2025-01-01..2025-06-30", date(2025, 1, 1), date(2025, 6, 30), "6 tháng đầu năm 2025", "2025-H1"),
    (" 2025-02-10 .. 2025-05-20 ", date(2025, 2, 10), date(2025, 5, 20), "từ ngày 10/02/2025 đến ngày 20/05/2025",
     "2025-02-10..2025-05-20"),
])
def test_periods_are_read_in_every_form_and_named_as_reports_name_them(text, start, end, label, key):
    period = parse_period(text)
    assert (period.start, period.end, period.label, period.key) == (start, end, label, key)
    assert period.target_year == end.year


@pytest.mark.parametrize(("text", "following"), [
    ("2025", "2026"), ("2025-H1", "2025-H2"), ("2025-H2", "2026-H1"), ("2025-Q3", "2025-Q4"), ("2025-Q4", "2026-Q1"),
    ("2025-03-01..2025-03-10", "2025-03-11..2025-03-20"),
])
def test_the_next_period_is_of_the_same_kind(text, following):
    assert parse_period(text).next() == parse_period(following)


@pytest.mark.parametrize("text", ["", "2025-H3", "2025-Q5", "25", "2025-13-01..2025-12-31", "2025-06-30..2025-01-01",
                                  "1900", "2010-01-01..2025-01-01", "năm 2025", "2025-H1; DROP TABLE plans"])
def test_anything_else_is_refused_in_vietnamese(app, text):
    with app.test_request_context(headers={"Accept-Language": "vi"}), pytest.raises(ValidationFailed) as raised:
        parse_period(text)
    assert raised.value.field == "period"
    message = raised.value.render()
    assert any(word in message for word in ("kỳ", "Kỳ", "mười năm", "Hãy chọn")), message


@settings(deadline=None)
@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)),
       st.integers(min_value=0, max_value=3000))
def test_a_period_reads_back_from_its_key(start, days):
    from datetime import timedelta

    end = min(start + timedelta(days=days), date(2100, 12, 31))
    period = Period(start, end)
    assert parse_period(period.key) == period


def test_the_page_offers_recent_periods_most_recent_first():
    periods = suggested_periods(date(2025, 8, 15), years=2)
    keys = [p.key for p in periods]
    assert keys[:4] == ["2025", "2025-H2", "2025-H1", "2025-Q3"]
    assert "2025-Q4" not in keys and "2024-Q4" in keys
    assert default_period(date(2025, 7, 10)).key == "2025-H1"
    assert default_period(date(2025, 1, 20)).key == "2024"
