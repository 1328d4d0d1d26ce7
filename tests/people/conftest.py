"""Fixtures for people files: units with official codes, and builders of .xlsx / .csv people files."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest

from tracker.extensions import db
from tracker.models import Role
from tracker.people_sheet import COLUMNS

HEADER = [header for _key, header in COLUMNS]


def xlsx_file(rows: list[list[Any]], header: list[str] | None = None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_file(rows: list[list[Any]], header: list[str] | None = None, *, delimiter: str = ",",
             encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header or HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def person_row(username: str, full_name: str, *, unit_code: str = "", unit_name: str = "", roles: str = "Cán bộ",
               email: str = "", phone: str = "", title: str = "", digest: str = "") -> list[str]:
    return [username, full_name, title, email, phone, unit_code, unit_name, roles, digest]


@pytest.fixture
def coded(commune: Any, make_person: Callable[..., Any]) -> Any:
    """The commune fixture with official codes on its communes, and an admin of Xã Cao Ngọc only."""
    commune.xa.code = "W26734"
    commune.other_xa.code = "W26737"
    commune.province.code = "P33"
    commune.xa_admin = make_person("quantrixa", roles=[(Role.ADMIN, commune.xa)], full_name="Admin Xã")
    db.session.commit()
    return commune
