"""The importer's result: typed records, stored as JSON in the contract of shared/plans/README.md.

Every stage of the pipeline hands the next one typed values; `PlanExtraction.to_dict()` is the one place
that writes the contract (the dry run's JSON, the draft's stored extraction) and `from_dict()` reads a
stored extraction back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

Recurrence = str | list[str] | None


@dataclass
class ExtractedDeadline:
    """A dated deadline of a task: the day, the words it came from, how precise and what kind."""

    date: str  # YYYY-MM-DD
    text: str
    precision: str = "day"  # "day" | "month" | "quarter" | "half" | "year"
    kind: str = "completion"  # "completion" | "report" | "target"
    before_issue: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the contract form; `before_issue` only when set."""
        out: dict[str, Any] = {"date": self.date, "text": self.text, "precision": self.precision, "kind": self.kind}
        if self.before_issue:
            out["before_issue"] = True
        return out


@dataclass
class FanoutMember:
    """One unit of a heading that names several ("Hội Nông dân xã, các thôn"), with its fan-out kind."""

    unit: str
    fanout_kind: str | None = None


@dataclass
class ExtractedTask:
    """One (section, assigned unit) of the document."""

    section: str
    unit: str
    title: str
    part: str = ""
    origin: str = "heading"  # "heading" | "lead_line" | "table" | "report"
    report_to: list[str] = field(default_factory=list)
    coordinating_units: list[str] = field(default_factory=list)
    deadlines: list[ExtractedDeadline] = field(default_factory=list)
    recurrence: Recurrence = None
    source: str = ""
    requested: bool = False
    fanout: bool = False
    fanout_kind: str | None = None
    members: list[FanoutMember] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    merged_sections: list[str] = field(default_factory=list)
    default_due: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the contract form, leaving out the optional keys that are unset."""
        out: dict[str, Any] = {
            "section": self.section,
            "unit": self.unit,
            "title": self.title,
            "report_to": list(self.report_to),
            "coordinating_units": list(self.coordinating_units),
            "deadlines": [d.to_dict() for d in self.deadlines],
            "recurrence": self.recurrence,
            "source": self.source,
            "part": self.part,
            "origin": self.origin,
        }
        if self.members:
            out["members"] = [{"unit": m.unit, "fanout_kind": m.fanout_kind} for m in self.members]
        if self.fanout:
            out["fanout"] = True
            if self.fanout_kind:
                out["fanout_kind"] = self.fanout_kind
        if self.requested:
            out["requested"] = True
        if self.aliases:
            out["aliases"] = list(self.aliases)
        if self.merged_sections:
            out["merged_sections"] = list(self.merged_sections)
        if self.default_due:
            out["default_due"] = self.default_due
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExtractedTask:
        """Read a stored task back (unknown keys are ignored, missing ones take their defaults)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["deadlines"] = [
            ExtractedDeadline(**{k: v for k, v in d.items() if k in {f.name for f in fields(ExtractedDeadline)}})
            for d in data.get("deadlines") or []
            if isinstance(d, dict) and d.get("date")
        ]
        values["members"] = [FanoutMember(m.get("unit", ""), m.get("fanout_kind")) for m in data.get("members") or []]
        values.setdefault("title", data.get("unit", ""))
        return cls(**values)


@dataclass
class ExtractedTarget:
    """An indicator's target values by year."""

    indicator: str
    unit_of_measure: str
    values: dict[str, float]
    comparator: str = "="
    responsible: str | None = None
    section: str = ""
    group: str = ""
    year_stated: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Return the contract form."""
        out: dict[str, Any] = {
            "indicator": self.indicator,
            "unit_of_measure": self.unit_of_measure,
            "values": dict(self.values),
            "responsible": self.responsible,
            "comparator": self.comparator,
            "section": self.section,
        }
        if self.group:
            out["group"] = self.group
        if not self.year_stated:
            out["year_stated"] = False
        return out


@dataclass
class ReportingEntry:
    """A reporting instruction: who reports to whom, how often, in which words."""

    section: str
    senders: list[str]
    receivers: list[str]
    recurrence: list[str] | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        """Return the contract form ({section, from, to, recurrence, text})."""
        return {"section": self.section, "from": self.senders, "to": self.receivers,
                "recurrence": self.recurrence, "text": self.text}


@dataclass
class PovertyRecord:
    """One area and year of a poverty table."""

    area: str
    year: int | None
    households: float | None
    poor: float | None
    rate: float | None


@dataclass
class PovertyTable:
    """A table of households, poor households and rates per area and year."""

    section: str
    title: str
    rows: list[PovertyRecord]

    COLUMNS = ("Tổng số hộ dân cư", "Tổng số hộ nghèo", "Tỷ lệ hộ nghèo (%)")

    def to_dict(self) -> dict[str, Any]:
        """Return the contract form."""
        return {
            "section": self.section,
            "title": self.title,
            "columns": list(self.COLUMNS),
            "rows": [
                {"area": r.area, "year": r.year, "households": r.households, "poor": r.poor, "rate": r.rate}
                for r in self.rows
            ],
        }


@dataclass
class PlanExtraction:
    """What the importer read in one document."""

    title: str
    kind: str  # "ke_hoach" | "quyet_dinh_ban_hanh_ke_hoach" | "nghi_quyet" | "cong_van" | "chi_thi" | ... | "unknown"
    issuer: str | None = None
    level: str | None = None  # "national" | "ministry" | "province" | "district" | "commune"
    plan_number: str | None = None
    issued: str | None = None
    issued_month: str | None = None
    year: int | None = None
    period: str | None = None
    period_end: str | None = None
    implements: list[str] = field(default_factory=list)
    tasks: list[ExtractedTask] = field(default_factory=list)
    targets: list[ExtractedTarget] = field(default_factory=list)
    reporting: list[ReportingEntry] = field(default_factory=list)
    poverty_tables: list[PovertyTable] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    source_format: str = "txt"
    pages: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the extraction contract (the dry run's JSON and what a draft stores)."""
        return {
            "title": self.title,
            "kind": self.kind,
            "issuer": self.issuer,
            "level": self.level,
            "plan_number": self.plan_number,
            "issued": self.issued,
            "year": self.year,
            "period_end": self.period_end,
            "tasks": [t.to_dict() for t in self.tasks],
            "targets": [t.to_dict() for t in self.targets],
            "warnings": list(self.warnings),
            "issued_month": self.issued_month,
            "period": self.period,
            "implements": list(self.implements),
            "reporting": [r.to_dict() for r in self.reporting],
            "poverty_tables": [p.to_dict() for p in self.poverty_tables],
            "source_format": self.source_format,
            "pages": self.pages,
        }
