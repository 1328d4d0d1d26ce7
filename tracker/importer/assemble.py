"""Turn task drafts into contract records: deadlines, recurrence, default due dates and warnings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from tracker.importer.budget import checkpoint
from tracker.importer.dates import (
    RECURRENCE_ORDER,
    duty_frequency,
    find_deadlines,
    find_recurrence,
    is_yearly,
    monthly_rule,
    parse_time_cell,
    without_yearly_days,
    yearly_days,
    yearly_recurrence,
)
from tracker.importer.relations import is_reportish
from tracker.importer.result import ExtractedDeadline, ExtractedTask, FanoutMember
from tracker.importer.targets import split_clauses
from tracker.importer.tasks import TaskDraft
from tracker.importer.unitphrase import is_generic, split_enumeration
from tracker.importer.units import plural_unit_kind

DEFAULT_RECURRENCE = "annual"
_DAILY = "RRULE:FREQ=DAILY"  # the contract writes daily reports as an RRULE
_TITLE_LIMIT = 240
_SOURCE_LIMIT = 2000
_TARGET_WORDS = ("phấn đấu", "đạt ", "%")
# "ít nhất 01 lần/tháng", "02 đợt/năm": a frequency stated outright, whatever the clause is about.
_FREQUENCY = re.compile(r"\d+\s*(?:lần|đợt|kỳ)\s*/\s*(?:tuần|tháng|quý|năm)", re.IGNORECASE)
_TIME_LABEL = re.compile(
    r"(?:thời\s+(?:gian|hạn)|tiến\s+độ)(?:\s+(?:thực\s+hiện|hoàn\s+thành|hoàn\s+tất|báo\s+cáo|triển\s+khai))*\s*:",
    re.IGNORECASE,
)
_RECURRING_WORDS = re.compile(r"\b(?:hằng|hàng|mỗi)\s+(?:ngày|tuần|tháng|quý|năm)\b|định\s+kỳ", re.IGNORECASE)


@dataclass
class PlanTime:
    """What the assembler needs to know about the plan's dates."""

    default_year: int | None
    period_end: date | None
    issued_floor: date | None
    issued_label: str | None


@dataclass
class Assembled:
    """Task records and the warnings raised while building them."""

    tasks: list[ExtractedTask] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _vn_date(value: date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


def _next_occurrence(day: date, floor: date | None) -> date:
    """Move a yearly day ("trước ngày 31/01 hằng năm") to its first occurrence on or after the issue date."""
    while floor and day < floor:
        try:
            day = day.replace(year=day.year + 1)
        except ValueError:  # 29 February
            day = day.replace(year=day.year + 1, day=28)
    return day


def _deadlines(draft: TaskDraft, default_year: int | None, floor: date | None = None) -> list[ExtractedDeadline]:
    found: list[ExtractedDeadline] = []
    seen: set[tuple[str, str]] = set()
    for cell in draft.deadline_cells:
        for hit in parse_time_cell(cell, default_year):
            record = ExtractedDeadline(hit.date.isoformat(), cell.strip(), hit.precision, "completion")
            if (record.date, record.text) not in seen:
                seen.add((record.date, record.text))
                found.append(record)
    for sentence in split_clauses(draft.body):
        label = _TIME_LABEL.search(sentence)
        value = sentence[label.end() :] if label else ""
        if value and not _RECURRING_WORDS.search(value) and parse_time_cell(value, default_year):
            # "Thời gian thực hiện: Tháng 11 - 12/2025" reads as a time column: the period named ends it.
            kind = "report" if is_reportish(sentence[: label.end()]) else "completion"
            for hit in parse_time_cell(value, default_year):
                key = (hit.date.isoformat(), value.strip(" ."))
                if key not in seen:
                    seen.add(key)
                    found.append(ExtractedDeadline(hit.date.isoformat(), value.strip(" ."), hit.precision, kind))
            continue
        for hit in find_deadlines(sentence, default_year):
            if is_yearly(sentence, hit):
                hit = replace(hit, date=_next_occurrence(hit.date, floor))
            lowered = sentence.lower()
            kind = (
                "report"
                if is_reportish(sentence)
                else "target"
                if any(word in lowered for word in _TARGET_WORDS)
                else "completion"
            )
            key = (hit.date.isoformat(), hit.text)
            if key not in seen:
                seen.add(key)
                found.append(ExtractedDeadline(hit.date.isoformat(), hit.text, hit.precision, kind))
    if not any(d.kind != "target" for d in found):
        for cell in draft.section_times:  # the section's "Thời gian hoàn tất: ..." line
            for hit in parse_time_cell(cell, default_year):
                found.append(ExtractedDeadline(hit.date.isoformat(), cell.strip(), hit.precision, "completion"))
    return found


def _recurrence(draft: TaskDraft) -> tuple[list[str], str | None]:
    names: list[str] = []
    rule = None
    clauses = split_clauses(draft.body)
    sources = [s for s in clauses if is_reportish(s)]
    # "Thời gian thực hiện: Hằng quý" schedules the task itself, as a table's time cell does.
    sources += [s for s in clauses if _TIME_LABEL.search(s)]
    sources += [cell for cell in draft.deadline_cells if cell]
    # A recurring day ("trước ngày 20 hằng tháng", "trước ngày 31/01 hằng năm") or a stated frequency
    # ("01 lần/tháng") schedules the task even outside a reporting sentence.
    sources += [
        s
        for s in clauses
        if s not in sources and (monthly_rule(s) or yearly_days(s) or _FREQUENCY.search(s) or duty_frequency(s))
    ]
    for sentence in sources:
        yearly, yearly_rule = yearly_recurrence(sentence)
        found = find_recurrence(without_yearly_days(sentence)) + yearly
        for name in found:
            if name not in names:
                names.append(name)
        rule = rule or monthly_rule(sentence) or yearly_rule
    if "periodic" in names and len(names) > 1:
        names.remove("periodic")
    names.sort(key=lambda name: RECURRENCE_ORDER.index(name) if name in RECURRENCE_ORDER else len(RECURRENCE_ORDER))
    return names, rule


def _recurrence_value(names: list[str], rule: str | None) -> str | list[str] | None:
    if not names:
        return None
    if names == ["periodic"]:
        # The document says "định kỳ" without a period: keep that fact, and the assumed period.
        return ["periodic", DEFAULT_RECURRENCE]
    names = [_DAILY if name == "daily" else name for name in names]
    if rule and names == ["monthly" if rule.startswith("RRULE:FREQ=MONTHLY") else "annual"]:
        return rule
    return names[0] if len(names) == 1 else names


def _title(draft: TaskDraft) -> str:
    text = (draft.body or draft.text).strip()
    first = split_clauses(text.split("\n")[0])[0] if text else draft.unit
    first = first.lstrip("-+* ").strip()
    first = first[:1].upper() + first[1:]
    return first if len(first) <= _TITLE_LIMIT else first[:_TITLE_LIMIT].rsplit(" ", 1)[0] + "…"


def assemble_tasks(drafts: list[TaskDraft], time: PlanTime) -> Assembled:
    """Build the contract task records for `drafts`."""
    out = Assembled()
    for draft in drafts:
        checkpoint()
        label = f"{draft.section} ({draft.unit})"
        deadlines = _deadlines(draft, time.default_year, time.issued_floor)
        names, rule = _recurrence(draft)
        recurrence = _recurrence_value(names, rule)
        record = ExtractedTask(
            section=draft.section,
            unit=draft.unit,
            title=_title(draft),
            part=draft.part,
            origin=draft.origin,
            report_to=list(draft.report_to),
            coordinating_units=list(draft.coordinating),
            deadlines=deadlines,
            recurrence=recurrence,
            source=draft.text[:_SOURCE_LIMIT],
            requested=draft.requested,
            aliases=list(draft.aliases),
            merged_sections=list(draft.merged_from),
        )
        members = split_enumeration(draft.unit)
        if len(members) > 1:
            # "UBMTTQ phường và các ban ngành đoàn thể, các Tổ dân phố": each member fans out on its own.
            record.members = [FanoutMember(name, plural_unit_kind(name)) for name in members]
            record.fanout = True
        elif kind := plural_unit_kind(draft.unit):
            record.fanout = True
            record.fanout_kind = kind
        if is_generic(draft.unit):
            out.warnings.append(f"Mục {label}: đơn vị được giao chung chung, cần chỉ rõ đơn vị cụ thể.")
        if names == ["periodic"]:
            out.warnings.append(f'Mục {label}: báo cáo "định kỳ" nhưng không ghi rõ kỳ; mặc định hằng năm.')
        for deadline in deadlines:
            due = date.fromisoformat(deadline.date)
            if time.issued_floor and due < time.issued_floor:
                deadline.before_issue = True
                out.warnings.append(
                    f'Mục {label}: thời hạn {_vn_date(due)} ("{deadline.text}") sớm hơn ngày ban hành '
                    f"kế hoạch ({time.issued_label})."
                )
        out.tasks.append(record)
    return out


def settle_default_due(tasks: list[ExtractedTask], period_end: date | None) -> str | None:
    """Give every task with neither a dated deadline nor a recurrence the end of the plan as its default due
    date (not a deadline of its own), and return the warning that lists them, if any."""
    undated = []
    for task in tasks:
        if task.recurrence is None and not any(d.kind != "target" for d in task.deadlines):
            undated.append(f"{task.section} ({task.unit})")
            task.default_due = period_end.isoformat() if period_end else None
    if not undated:
        return None
    due = (
        f"mặc định hạn cuối kỳ kế hoạch {_vn_date(period_end)}"
        if period_end
        else "không xác định được kỳ kế hoạch để đặt hạn mặc định"
    )
    return f"{len(undated)} nhiệm vụ không ghi thời hạn, {due}: " + "; ".join(undated) + "."
