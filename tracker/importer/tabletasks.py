"""Where the document's tables are and what tasks their rows assign.

Tables arrive as rows of cells inside the body or an appendix (DOCX, ruled PDF, `| a | b |` copies) or as
one cell per line in PDF text; both are read into the same records (`tablerows`), and each row of an
assignment table gives one task per lead unit.
"""

from __future__ import annotations

import re

from tracker.importer.areatables import title_year
from tracker.importer.linetables import find_line_tables, read_line_table
from tracker.importer.readers.base import Block
from tracker.importer.sections import ROMAN_HEADING, Node
from tracker.importer.segments import Segments
from tracker.importer.tablerows import ParsedTable
from tracker.importer.tables import read_row_table
from tracker.importer.tasks import TaskDraft
from tracker.importer.unitphrase import leading_unit, split_alias, split_enumeration


def _row_groups(blocks: list[Block]) -> list[list[Block]]:
    groups: dict[int, list[Block]] = {}
    for block in blocks:
        if block.is_row and block.table is not None:
            groups.setdefault(block.table, []).append(block)
    return list(groups.values())


def cut_line_tables(body: list[Block], plan_year: int | None) -> tuple[list[Block], list[ParsedTable]]:
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


def read_tables(root: Node, segments: Segments, plan_year: int | None) -> list[ParsedTable]:
    """Read the tables of rows in the body's outline and in the appendices."""
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


def split_cell_units(cell: str, *, enumerations: bool = False) -> list[str]:
    """Read the units of a lead or coordinating cell.

    ";" and line breaks separate units, each its own task; "," and "và" keep a group whole as written
    ("Sở Y tế, Sở Nội vụ" is one joint lead). Coordinating cells (`enumerations`) are split further, since
    each coordinating unit is matched on its own.
    """
    pieces = [p.strip(" .") for p in re.split(r";|\n", cell) if p.strip(" .")]
    if enumerations:
        pieces = [unit for piece in pieces for unit in split_enumeration(piece)]
    return [split_alias(u)[0] for u in pieces]


def table_drafts(tables: list[ParsedTable]) -> list[TaskDraft]:
    """One task per lead unit of every assignment row."""
    drafts = []
    for table in tables:
        for row in table.assignments:
            coordinating = split_cell_units(row.coordinating, enumerations=True) if row.coordinating else []
            for unit in split_cell_units(row.lead):
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
