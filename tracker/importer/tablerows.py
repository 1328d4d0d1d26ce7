"""The records a table becomes, whatever its layout: assignment rows, target rows and poverty rows.

Kept apart from the readers (`tables` for rows of cells, `linetables` for one cell per line, `areatables`
for targets handed out per area) so that each reader depends on these records and none on another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


@dataclass
class AssignmentRow:
    """A row of a "Nhiệm vụ | Cơ quan chủ trì | Cơ quan phối hợp | Thời gian" table."""

    number: str
    task: str = ""
    lead: str = ""
    coordinating: str = ""
    time: str = ""
    product: str = ""


@dataclass
class TargetRow:
    """A row of a yearly target table: indicator, unit of measure, {year: (value, text)}, responsible."""

    number: str
    group: str
    indicator: str
    unit_of_measure: str
    values: dict[int, tuple[float, str]]
    responsible: str | None = None
    comparator: str = "="  # "decrease"/"increase" for a column of changes ("Số hộ nghèo giảm (hộ)")
    year_stated: bool = True


@dataclass
class PovertyRow:
    """One area and year of a poverty table: households, poor households and the stated rate."""

    area: str
    year: int | None
    households: float | None
    poor: float | None
    rate: float | None
    rate_text: str = ""


@dataclass
class ParsedTable:
    """A table read from the document, with the section prefix its rows are filed under."""

    kind: str
    prefix: str
    title: str = ""
    assignments: list[AssignmentRow] = field(default_factory=list)
    targets: list[TargetRow] = field(default_factory=list)
    poverty: list[PovertyRow] = field(default_factory=list)
