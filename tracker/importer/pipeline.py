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

from datetime import date

from tracker.importer import errors
from tracker.importer.assemble import PlanTime, assemble_tasks, settle_default_due
from tracker.importer.budget import Deadline, checkpoint, progress, within
from tracker.importer.dates import roman_to_int
from tracker.importer.header import HeaderFacts, extract_header, is_issuer, issuer_names
from tracker.importer.labelled import give_section_times, labelled_drafts, section_times
from tracker.importer.normalize import normalize_blocks
from tracker.importer.readers import Document, Limits, read_document
from tracker.importer.reporting import apply_reporting
from tracker.importer.result import ExtractedTarget, PlanExtraction, PovertyRecord, PovertyTable
from tracker.importer.sections import Node, build_tree
from tracker.importer.segments import split_segments
from tracker.importer.subjects import subject_drafts
from tracker.importer.tablerows import ParsedTable
from tracker.importer.tables import poverty_warnings
from tracker.importer.tabletasks import cut_line_tables, read_tables, table_drafts
from tracker.importer.targets import TargetDraft, merge_targets, table_targets, text_targets
from tracker.importer.tasks import TaskDraft, build_tasks
from tracker.importer.units import unit_similarity


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


def _target(draft: TargetDraft) -> ExtractedTarget:
    return ExtractedTarget(
        indicator=draft.indicator,
        unit_of_measure=draft.unit_of_measure,
        values={str(year): value for year, value in sorted(draft.values.items())},
        comparator=draft.comparator,
        responsible=draft.responsible,
        section=draft.section,
        group=draft.group,
        year_stated=draft.year_stated,
    )


def _poverty(table: ParsedTable) -> PovertyTable:
    rows = [PovertyRecord(r.area, r.year, r.households, r.poor, r.rate) for r in table.poverty]
    return PovertyTable(table.prefix, table.title, rows)


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


# Kinds that run for a period of their own; a letter or a directive lasts as long as its deadlines.
_PERIOD_KINDS = {"ke_hoach", "quyet_dinh_ban_hanh_ke_hoach", "chuong_trinh", "de_an", "nghi_quyet"}


def _settle_period(facts: HeaderFacts, tasks: list) -> None:
    """A document that states no period runs to its last deadline (a plan at least to the end of its year)."""
    if facts.year or facts.period or facts.horizon:
        return
    last = max((date.fromisoformat(d.date) for t in tasks for d in t.deadlines if d.kind != "target"), default=None)
    issued_year = facts.issued.year if facts.issued else int(facts.issued_month[:4]) if facts.issued_month else None
    year_end = date(issued_year, 12, 31) if issued_year and facts.kind in _PERIOD_KINDS else None
    facts.period_end = max(filter(None, (last, year_end)), default=None)


def _target_warnings(targets: list[TargetDraft]) -> list[str]:
    warnings = []
    for target in targets:
        if target.unit_of_measure == "%" and any(v > 100 for v in target.values.values()):
            warnings.append(f'Chỉ tiêu "{target.indicator}" vượt 100%.')
        if target.unit_of_measure == "%" and target.comparator == ">" and 100 in target.values.values():
            warnings.append(f'Chỉ tiêu "{target.indicator}": "trên 100%" không hợp lý; đã ghi nhận 100%.')
    return warnings


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
) -> PlanExtraction:
    """Extract a plan's header facts, tasks and targets from an uploaded .txt, .docx or .pdf.

    Raises DocumentError for input that cannot be read, and DocumentError("too_slow") when reading and
    extracting together take longer than `time_limit`. Writes nothing anywhere. Text beyond `max_chars`
    (some 600 pages) is refused rather than read.
    """
    deadline = Deadline(time_limit)
    with within(deadline):
        limits = Limits(
            max_bytes=max_bytes, max_pages=max_pages, time_limit=time_limit, ocr_max_pages=ocr_max_pages,
            max_chars=max_chars,
        )
        document = read_document(data, filename, limits, deadline)
        progress("extracting", document.pages or 0, document.pages or 0)
        chars = sum(len(block.text) for block in document.blocks)
        if chars > max_chars:
            raise errors.too_long(chars, max_chars)
        return _extract(document, issuer_hint)


def _extract(document: Document, issuer_hint: str | None) -> PlanExtraction:
    warnings = list(document.warnings)
    blocks = normalize_blocks(document.blocks)
    segments = split_segments(blocks)
    dropped = segments.dropped_text()
    if dropped:
        warnings.append(
            f"Có {len(dropped)} dòng sau phần nơi nhận và chữ ký không thuộc phụ lục nào nên không được đọc "
            f'(bắt đầu: "{dropped[0][:80]}"). Nếu đó là phụ lục, hãy thêm tiêu đề "PHỤ LỤC".'
        )
    body_text = "\n".join(b.text for b in segments.body)
    whole_text = "\n".join(b.text for b in blocks)
    facts = extract_header(segments, body_text, whole_text)
    _issuer_warning(facts, issuer_hint, warnings)
    if facts.kind == "unknown":
        warnings.append(
            "Không nhận ra loại văn bản (kế hoạch, quyết định, nghị quyết, chương trình, công văn, chỉ thị, "
            "thông báo); tiêu đề để trống, hãy nhập tiêu đề khi xem lại."
        )
    plan_year = (
        facts.year or (facts.issued.year if facts.issued else None) or (facts.period[0] if facts.period else None)
    )
    checkpoint()
    body, body_tables = cut_line_tables(segments.body, plan_year)
    root = build_tree(body)
    tables = body_tables + read_tables(root, segments, plan_year)
    labelled, used = labelled_drafts(root)
    drafts, report_nodes, headed = build_tasks(root, used)
    drafts.extend(labelled)
    drafts.extend(subject_drafts(root, drafts, used, headed))
    give_section_times(drafts, section_times(root))
    drafts.extend(table_drafts(tables))
    # The issuer's own duties are not tasks ("Ban Chỉ đạo quốc gia" in a list of leads of its own plan).
    issuer = issuer_names(facts.issuer, whole_text)
    drafts = [draft for draft in drafts if not is_issuer(draft.unit, issuer)]
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
    _settle_period(facts, assembled.tasks)
    undated = settle_default_due(assembled.tasks, facts.period_end)
    if undated:
        assembled.warnings.append(undated)
    target_year = facts.year or (facts.period[1] if facts.period else facts.horizon or plan_year)
    target_drafts = text_targets(root, target_year, _responsible_of(root, drafts))
    for table in tables:
        target_drafts.extend(table_targets(table.targets, table.prefix))
    targets = merge_targets(target_drafts)
    warnings.extend(_target_warnings(targets))
    poverty = [t for t in tables if t.kind == "poverty"]
    for table in poverty:
        warnings.extend(poverty_warnings(table.poverty, table.prefix))
    if not assembled.tasks:
        warnings.append("Không tìm thấy nhiệm vụ nào được giao cho đơn vị cụ thể.")
    return PlanExtraction(
        title=facts.title,
        kind=facts.kind,
        issuer=facts.issuer,
        level=facts.level,
        plan_number=facts.plan_number,
        issued=facts.issued.isoformat() if facts.issued else None,
        issued_month=facts.issued_month,
        year=facts.year,
        period=f"{facts.period[0]}-{facts.period[1]}" if facts.period else None,
        period_end=facts.period_end.isoformat() if isinstance(facts.period_end, date) else None,
        implements=facts.implements,
        tasks=assembled.tasks,
        targets=[_target(t) for t in targets],
        reporting=reporting,
        poverty_tables=[_poverty(t) for t in poverty],
        warnings=warnings + assembled.warnings,
        source_format=document.source_format,
        pages=document.pages,
    )
