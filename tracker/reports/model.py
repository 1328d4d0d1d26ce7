"""What a periodic report holds, as plain data: built by `content`, laid out by `document`, `workbook` and the
preview page, dumped by the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from tracker.periods import Period
from tracker.queries import dashboard as dq
from tracker.queries import reports as rq
from tracker.reports.heading import Heading


@dataclass
class Quote:
    """A unit's report quoted in part I."""

    text: str
    submitted_on: date
    days_late: int
    pending: bool  # submitted, not yet accepted
    period_label: str | None


@dataclass
class Owed:
    """A report of the period not (or no longer) in: overdue, or not yet due."""

    due_on: date
    overdue: bool
    days_late: int
    returned: bool
    period_label: str | None


@dataclass
class UnitEntry:
    unit_id: int
    unit_name: str
    quotes: list[Quote] = field(default_factory=list)
    owed: list[Owed] = field(default_factory=list)
    has_deadline: bool = False

    @property
    def reported(self) -> bool:
        return bool(self.quotes)

    @property
    def late(self) -> bool:
        return any(q.days_late for q in self.quotes)

    @property
    def missing(self) -> bool:
        return any(o.overdue for o in self.owed)


@dataclass
class GroupFigure:
    name: str
    unit_of_measure: str
    value: Decimal
    reporting: int
    total: int


@dataclass
class GroupEntry:
    """Several sibling units given the same task (the plan fans out: các thôn, UBND các xã)."""

    label: str
    members: list[UnitEntry]
    figures: list[GroupFigure] = field(default_factory=list)

    @property
    def reported(self) -> int:
        return sum(1 for m in self.members if m.reported)

    @property
    def total(self) -> int:
        return len(self.members)


@dataclass
class SectionBlock:
    code: str | None
    title: str
    entries: list[UnitEntry | GroupEntry] = field(default_factory=list)


@dataclass
class PlanBlock:
    plan_id: int
    number: str | None
    reference: str
    sections: list[SectionBlock] = field(default_factory=list)


@dataclass
class Summary:
    """The period's occurrences by status (the roll-up page's columns)."""

    due: int = 0  # done, or overdue: expected so far
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    not_due: int = 0
    units: int = 0

    @property
    def total(self) -> int:
        return self.due + self.not_due

    @property
    def completion(self) -> float | None:
        return (self.on_time + self.late) / self.due if self.due else None

    @property
    def timeliness(self) -> float | None:
        return self.on_time / self.due if self.due else None


@dataclass
class ItemLine:
    """One item of parts II and III."""

    unit_name: str
    title: str
    plan_number: str | None
    due_on: date
    days: int  # days late (overdue, late) or 0
    note: str = ""
    period_label: str | None = None


@dataclass
class ReturnedItem:
    unit_name: str
    title: str
    plan_number: str | None
    submitted_on: date
    returned_on: date | None
    comment: str
    resubmitted: bool


@dataclass
class ExtensionItem:
    unit_name: str
    title: str
    plan_number: str | None
    from_on: date
    to_on: date
    reason: str
    decided_on: date | None


@dataclass
class RollupPart:
    """The units below side by side: task counts (the roll-up page's rows) and each indicator's figures."""

    parent_id: int
    parent_name: str
    rows: list[dq.RollupRow]
    indicators: list[tuple[int, str, str]]  # (id, name, unit of measure)
    cells: dict[tuple[int, int], rq.ChildFigure]

    @property
    def figure_list(self) -> list[rq.ChildFigure]:
        return list(self.cells.values())


@dataclass
class ReportContent:
    heading: Heading
    period: Period
    next_period: Period
    as_of: date
    intro: str
    closing: str
    plans: list[PlanBlock]
    summary: Summary
    late_units: list[str]
    silent_units: list[str]
    indicators: list[dq.IndicatorProgress]
    targets: list[rq.TargetLine]
    overdue: list[ItemLine]
    late: list[ItemLine]
    returned: list[ReturnedItem]
    extensions: list[ExtensionItem]
    next_items: list[ItemLine]
    rollup: RollupPart | None
    file_stem: str

    @property
    def multi_plan(self) -> bool:
        return len(self.plans) > 1

    @property
    def plan_numbers(self) -> dict[int, str | None]:
        return {b.plan_id: b.number for b in self.plans}

    def target_years(self) -> list[int]:
        return sorted({t.year for t in self.targets})
