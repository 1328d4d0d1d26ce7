"""The importer's pipeline: bytes in, a typed `PlanExtraction` out, in visible stages.

1. read       readers/        bytes -> blocks (lines and table rows), format detected from content
2. normalise  normalize.py    web marks, pipe tables, OCR spacing, page furniture, wrapped headings
3. segment    segments.py     header, title, grounds, body, closing, appendices; header.py reads the header
4. sections   sections.py     the outline of the body (parts, numbered items, bullets)
5. assign     tasks.py        who is told to act where (headings.py, relations.py, reporting.py);
              tables.py       tables of rows (linetables.py for one cell per line, areatables.py)
6. dates      dates.py        deadlines and recurrence; targets.py for indicator values by year
7. assemble   assemble.py     typed tasks with deadlines, recurrence, fan-out and warnings

One time budget (`budget.Deadline`) covers every stage, reading included.
"""

from __future__ import annotations

import re
from datetime import date

from tracker.importer import errors
from tracker.importer.areatables import title_year
from tracker.importer.assemble import PlanTime, assemble_tasks
from tracker.importer.budget import Deadline
from tracker.importer.dates import roman_to_int
from tracker.importer.header import HeaderFacts, extract_header
from tracker.importer.linetables import find_line_tables, read_line_table
from tracker.importer.normalize import normalize_blocks
from tracker.importer.readers import Limits, read_document
from tracker.importer.readers.base import Block
from tracker.importer.reporting import apply_reporting
from tracker.importer.sections import ROMAN_HEADING, Node, build_tree
from tracker.importer.segments import split_segments
from tracker.importer.tables import ParsedTable, poverty_warnings, read_row_table
from tracker.importer.targets import (
    TargetDraft,
    merge_targets,
    table_targets,
    text_targets,
)
from tracker.importer.tasks import TaskDraft, build_tasks
from tracker.importer.unitphrase import leading_unit, split_alias, split_enumeration
from tracker.importer.units import unit_similarity


def _row_groups(blocks: list[Block]) -> list[list[Block]]:
    groups: dict[int, list[Block]] = {}
    for block in blocks:
        if block.is_row and block.table is not None:
            groups.setdefault(block.table, []).append(block)
    return list(groups.values())


def _cut_body_line_tables(body: list[Block], plan_year: int | None) -> tuple[list[Block], list[ParsedTable]]:
    """Take tables laid out one cell per line out of the body, so the outline sees only prose."""
    lines = [block.text for block in body]
    ranges = find_line_tables(lines)
    if not ranges:
        return body, []
    kept: list[Block] = []
    tables: list[ParsedTable] = []
    position = 0
    part = ""
    for start, end in ranges:
        kept.extend(body[position:start])
        for block in reversed(kept):
            heading = ROMAN_HEADING.match(block.text)
            if heading:
                part = heading.group("num")
                break
        table = read_line_table(lines[start:end], part or "Bảng", plan_year)
        if table:
            tables.append(table)
        position = end
    kept.extend(body[position:])
    return kept, tables


def _read_tables(root: Node, segments, plan_year: int | None) -> list[ParsedTable]:
    tables: list[ParsedTable] = []
    for node in root.walk():
        for rows in _row_groups(node.rows):
            table = read_row_table(rows, node.section() or "Bảng", plan_year)
            if table:
                tables.append(table)
    for appendix in segments.appendices:
        groups = _row_groups(appendix.blocks)
        titled = [appendix.title, *(b.text for b in appendix.blocks[:4] if not b.is_row)]
        for rows in groups:
            table = read_row_table(rows, appendix.label, title_year(titled, plan_year))
            if table:
                table.title = appendix.title
                tables.append(table)
        if not groups:
            table = read_line_table([b.text for b in appendix.blocks if not b.is_row], appendix.label, plan_year)
            if table:
                table.title = appendix.title
                tables.append(table)
    return tables


def _split_cell_units(cell: str) -> list[str]:
    pieces = [p.strip(" .") for p in re.split(r";|\n", cell) if p.strip(" .")]
    # "Sở Y tế, Sở Nội vụ" are two units; "Các thôn, tổ dân phố" and "Các cơ quan, đơn vị" are one.
    units = [unit for piece in pieces for unit in split_enumeration(piece)]
    return [split_alias(u)[0] for u in units]


def _table_tasks(tables: list[ParsedTable]) -> list[TaskDraft]:
    drafts = []
    for table in tables:
        for row in table.assignments:
            coordinating = _split_cell_units(row.coordinating) if row.coordinating else []
            for unit in _split_cell_units(row.lead) or []:
                draft = TaskDraft(
                    f"{table.prefix}.{row.number}",
                    table.prefix,
                    leading_unit(unit) or unit,
                    " | ".join(cell for cell in (row.task, row.lead, row.coordinating, row.time) if cell),
                    origin="table",
                    coordinating=list(coordinating),
                )
                draft.body = row.task
                draft.deadline_cells = [row.time] if row.time else []
                drafts.append(draft)
    return drafts


def _section_order(section: str) -> tuple:
    """Sort key putting sections in document order: parts by Roman number, appendices last."""
    parts = section.split(".")
    head = parts[0]
    if head.startswith("Phụ lục"):
        number = head.removeprefix("Phụ lục").strip()
        first: tuple = (2, int(number) if number.isdigit() else roman_to_int(number) or 0)
    else:
        first = (1, roman_to_int(head) or 0) if roman_to_int(head) else (1, 0)
        parts = parts[1:] if roman_to_int(head) else parts
    return first + tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def _responsible_of(root: Node, drafts: list[TaskDraft]) -> dict[int, str]:
    by_section = {d.section: d.unit for d in drafts if d.origin == "heading"}
    return {id(node): by_section[node.section()] for node in root.walk() if node.section() in by_section}


def _target_dict(draft: TargetDraft) -> dict:
    record: dict = {
        "indicator": draft.indicator,
        "unit_of_measure": draft.unit_of_measure,
        "values": {str(year): value for year, value in sorted(draft.values.items())},
        "responsible": draft.responsible,
        "comparator": draft.comparator,
        "section": draft.section,
    }
    if draft.group:
        record["group"] = draft.group
    if not draft.year_stated:
        record["year_stated"] = False
    return record


def _poverty_dict(table: ParsedTable) -> dict:
    return {
        "section": table.prefix,
        "title": table.title,
        "columns": ["Tổng số hộ dân cư", "Tổng số hộ nghèo", "Tỷ lệ hộ nghèo (%)"],
        "rows": [
            {"area": r.area, "year": r.year, "households": r.households, "poor": r.poor, "rate": r.rate}
            for r in table.poverty
        ],
    }


def _issuer_warning(facts: HeaderFacts, issuer_hint: str | None, warnings: list[str]) -> None:
    if issuer_hint and facts.issuer and unit_similarity(issuer_hint, facts.issuer) < 0.8:
        warnings.append(f"Đơn vị ban hành trong văn bản ({facts.issuer}) khác đơn vị đã chọn ({issuer_hint}).")
    if issuer_hint and not facts.issuer:
        facts.issuer = issuer_hint
    if not facts.issuer:
        warnings.append("Không xác định được đơn vị ban hành kế hoạch.")
    if facts.number_blank:
        warnings.append("Số hiệu kế hoạch để trống (văn bản chưa lấy số hoặc bản dự thảo).")
    if facts.issued is None:
        note = f" (chỉ rõ tháng {facts.issued_month[5:]}/{facts.issued_month[:4]})" if facts.issued_month else ""
        warnings.append(f"Không đọc được ngày ban hành đầy đủ{note}.")


def extract_plan(
    data: bytes,
    filename: str,
    *,
    max_bytes: int = 20 * 1024 * 1024,
    max_pages: int = 300,
    time_limit: float = 30.0,
    max_chars: int = 4_000_000,
    issuer_hint: str | None = None,
    ocr_max_pages: int = 40,
) -> dict:
    """Extract a plan's header facts, tasks and targets from an uploaded .txt, .docx or .pdf.

    Raises DocumentError for input that cannot be read. Writes nothing anywhere. Extraction time grows
    with the text (about 0.7 s per million characters), so text beyond `max_chars` (some 600 pages) is
    refused rather than read.
    """
    deadline = Deadline(time_limit)
    limits = Limits(max_bytes=max_bytes, max_pages=max_pages, time_limit=time_limit, ocr_max_pages=ocr_max_pages)
    document = read_document(data, filename, limits, deadline)
    chars = sum(len(block.text) for block in document.blocks)
    if chars > max_chars:
        raise errors.too_long(chars, max_chars)
    warnings = list(document.warnings)
    blocks = normalize_blocks(document.blocks, deadline)
    segments = split_segments(blocks)
    body_text = "\n".join(b.text for b in segments.body)
    whole_text = "\n".join(b.text for b in blocks)
    facts = extract_header(segments, body_text, whole_text)
    _issuer_warning(facts, issuer_hint, warnings)
    plan_year = (
        facts.year or (facts.issued.year if facts.issued else None) or (facts.period[0] if facts.period else None)
    )
    body, body_tables = _cut_body_line_tables(segments.body, plan_year)
    root = build_tree(body)
    tables = body_tables + _read_tables(root, segments, plan_year)
    drafts, report_nodes = build_tasks(root)
    drafts.extend(_table_tasks(tables))
    reporting = apply_reporting(root, report_nodes, drafts)
    drafts.sort(key=lambda draft: _section_order(draft.section))
    time = PlanTime(
        default_year=facts.year or (int(facts.issued_month[:4]) if facts.issued_month else None) or plan_year,
        period_end=facts.period_end,
        issued_floor=facts.issued_floor,
        issued_label=(
            facts.issued.strftime("%d/%m/%Y")
            if facts.issued
            else f"{facts.issued_month[5:]}/{facts.issued_month[:4]}"
            if facts.issued_month
            else None
        ),
    )
    assembled = assemble_tasks(drafts, time)
    target_year = facts.year or (facts.period[1] if facts.period else plan_year)
    target_drafts = text_targets(root, target_year, _responsible_of(root, drafts))
    for table in tables:
        target_drafts.extend(table_targets(table.targets, table.prefix))
    targets = merge_targets(target_drafts)
    for target in targets:
        if target.unit_of_measure == "%" and any(v > 100 for v in target.values.values()):
            warnings.append(f'Chỉ tiêu "{target.indicator}" vượt 100%.')
        if target.unit_of_measure == "%" and target.comparator == ">" and 100 in target.values.values():
            warnings.append(f'Chỉ tiêu "{target.indicator}": "trên 100%" không hợp lý; đã ghi nhận 100%.')
    poverty = [t for t in tables if t.kind == "poverty"]
    for table in poverty:
        warnings.extend(poverty_warnings(table.poverty, table.prefix))
    if not assembled.tasks:
        warnings.append("Không tìm thấy nhiệm vụ nào được giao cho đơn vị cụ thể.")
    return {
        "title": facts.title,
        "issuer": facts.issuer,
        "plan_number": facts.plan_number,
        "issued": facts.issued.isoformat() if facts.issued else None,
        "year": facts.year,
        "period_end": facts.period_end.isoformat() if isinstance(facts.period_end, date) else None,
        "tasks": assembled.tasks,
        "targets": [_target_dict(t) for t in targets],
        "warnings": warnings + assembled.warnings,
        "issued_month": facts.issued_month,
        "period": f"{facts.period[0]}-{facts.period[1]}" if facts.period else None,
        "implements": facts.implements,
        "reporting": reporting,
        "poverty_tables": [_poverty_dict(t) for t in poverty],
        "source_format": document.source_format,
        "pages": document.pages,
    }
