"""The report as a .docx: the template's Decree-30 layout filled in, the body (parts I-IV) written at its
{noi_dung} paragraph with python-docx, and for a roll-up a landscape appendix with the units side by side."""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.text.paragraph import Paragraph

from tracker.reports.docxml import BodyWriter, TemplateError, expand, fill, single_paragraph
from tracker.reports.model import GroupEntry, ItemLine, ReportContent, UnitEntry
from tracker.reports.template import BUNDLED_TEMPLATE, ensure_styles, rule
from tracker.reports.text import dmy, join_names, number, percent, upper

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_COMPARATOR = {"at_least": "≥ ", "at_most": "≤ ", "equal": ""}
#: Indicators per table of the roll-up's appendix (three columns each, on a landscape page).
_INDICATORS_PER_TABLE = 3
#: Longest list of names a "not reported" line spells out before counting the rest.
_MAX_NAMES = 40


def render_docx(content: ReportContent, template: str | Path | None = None) -> bytes:
    """The report as .docx bytes, laid out by `template` (the bundled one by default)."""
    path = Path(template) if template else BUNDLED_TEMPLATE
    if not path.is_file():
        raise TemplateError(f"report template not found: {path}")
    document = Document(str(path))
    ensure_styles(document)
    anchor = single_paragraph(document, "noi_dung")
    h = content.heading
    expand(document, "noi_nhan", h.recipients)
    fill(document, {
        "co_quan_chu_quan": h.governing_body, "co_quan_ban_hanh": h.issuing_body, "so_ky_hieu": h.number,
        "dia_danh_ngay": h.place_and_date, "ten_loai": h.kind, "trich_yeu": h.subject,
        "quyen_han_ky": h.signer_authority, "chuc_vu_ky": h.signer_title, "nguoi_ky": h.signer_name,
    })
    writer = BodyWriter(document, anchor._p)
    _write_body(writer, content)
    anchor._p.getparent().remove(anchor._p)
    if content.rollup is not None and content.rollup.indicators:
        _write_rollup_appendix(document, content)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _write_body(w: BodyWriter, c: ReportContent) -> None:
    w.para(c.intro)
    w.para("I. KẾT QUẢ THỰC HIỆN", "Report Part")
    s = c.summary
    summary = (f"Trong {c.period.label}, {'các kế hoạch có' if c.multi_plan else 'Kế hoạch có'} {s.total} lượt "
               f"nhiệm vụ đến hạn báo cáo của {s.units} đơn vị. Đến {dmy(c.as_of)}: {s.on_time} hoàn thành đúng hạn, "
               f"{s.late} hoàn thành chậm, {s.overdue} quá hạn chưa hoàn thành, {s.not_due} chưa đến hạn")
    if s.due:
        summary += (f"; tỷ lệ hoàn thành {percent(s.completion)}, tỷ lệ hoàn thành đúng hạn "
                    f"{percent(s.timeliness)} số nhiệm vụ đã đến hạn")
    w.para(summary + ".")
    if c.late_units:
        w.para([("Đơn vị báo cáo chậm: ", "i"), (join_names(c.late_units, _MAX_NAMES) + ".", "")])
    if c.silent_units:
        w.para([("Đơn vị chưa báo cáo: ", "i"), (join_names(c.silent_units, _MAX_NAMES) + ".", "")])

    heading = 1
    for block in c.plans:
        if c.multi_plan:
            w.para(f"{heading}. Kết quả thực hiện {block.reference}", "Report Heading")
        else:
            w.para(f"{heading}. Kết quả thực hiện theo nội dung Kế hoạch", "Report Heading")
        for n, section in enumerate(block.sections, start=1):
            label = f"Mục {section.code}: " if section.code else ""
            w.para([(f"{heading}.{n}. {label}", "b"), (section.title, "i")], "Report Item")
            for entry in section.entries:
                if isinstance(entry, GroupEntry):
                    _write_group(w, entry)
                else:
                    w.para([("- ", ""), (entry.unit_name, "b"), (": ", ""), (_entry_text(entry), "")], "Report Item")
        heading += 1

    w.para(f"{heading}. Kết quả thực hiện các chỉ tiêu năm {c.period.target_year}", "Report Heading")
    if c.indicators:
        _indicator_table(w, c)
    else:
        w.para(f"Không có chỉ tiêu năm {c.period.target_year} trong phạm vi báo cáo.")
    heading += 1

    if c.rollup is not None:
        w.para(f"{heading}. Kết quả thực hiện nhiệm vụ theo đơn vị", "Report Heading")
        rows = []
        for i, r in enumerate(c.rollup.rows, start=1):
            st = r.stats
            name = f"{r.unit_name} (nhiệm vụ của đơn vị)" if r.is_self else r.unit_name
            rows.append([str(i), name, str(st.expected), str(st.on_time), str(st.late), str(st.overdue),
                         str(st.open_not_due), percent(st.completion), percent(st.timeliness)])
        w.table(["STT", "Đơn vị", "Đến hạn", "Đúng hạn", "Chậm", "Quá hạn", "Chưa đến hạn", "Hoàn thành",
                 "Đúng hạn (%)"], rows, [1.3, 4.3, 1.5, 1.5, 1.4, 1.5, 1.7, 1.8, 1.8], numeric=range(2, 9))
        if c.rollup.indicators:
            w.para([("(Số liệu các chỉ tiêu của từng đơn vị tại Phụ lục kèm theo.)", "i")])

    w.para("II. TỒN TẠI, HẠN CHẾ", "Report Part")
    _items(w, f"1. Nhiệm vụ quá hạn chưa hoàn thành ({len(c.overdue)})", c.overdue, c.multi_plan,
           lambda i: f"hạn {dmy(i.due_on)}, quá hạn {i.days} ngày" + (f"; {i.note}" if i.note else ""),
           "Không có nhiệm vụ quá hạn.")
    _items(w, f"2. Nhiệm vụ hoàn thành chậm so với thời hạn ({len(c.late)})", c.late, c.multi_plan,
           lambda i: f"hạn {dmy(i.due_on)}, {i.note}, chậm {i.days} ngày", "Không có nhiệm vụ hoàn thành chậm.")
    w.para(f"3. Báo cáo bị trả lại ({len(c.returned)})", "Report Heading")
    if not c.returned:
        w.para("Không có báo cáo bị trả lại.")
    for r in c.returned:
        why = f", lý do: “{r.comment}”" if r.comment else ""
        state = "đơn vị đã nộp lại" if r.resubmitted else "đơn vị chưa nộp lại"
        w.para([("- ", ""), (r.unit_name, "b"), (f": {_with_plan(r.title, r.plan_number, c.multi_plan)}: báo cáo "
                f"ngày {dmy(r.submitted_on)} bị trả lại ngày {dmy(r.returned_on)}{why}; {state}.", "")], "Report Item")
    w.para(f"4. Gia hạn đã được chấp thuận ({len(c.extensions)})", "Report Heading")
    if not c.extensions:
        w.para("Không có nhiệm vụ được gia hạn.")
    for e in c.extensions:
        why = f" (lý do: {e.reason})" if e.reason else ""
        w.para([("- ", ""), (e.unit_name, "b"), (f": {_with_plan(e.title, e.plan_number, c.multi_plan)}: gia hạn từ "
                f"ngày {dmy(e.from_on)} đến ngày {dmy(e.to_on)}{why}.", "")], "Report Item")
    w.para("5. Nguyên nhân", "Report Heading")
    w.para([("[Nêu nguyên nhân của những tồn tại, hạn chế nêu trên.]", "h")], "Report Placeholder")

    w.para(f"III. NHIỆM VỤ TRỌNG TÂM {upper(c.next_period.label)}", "Report Part")
    by_unit = _by_unit(c.next_items)
    if not by_unit:
        w.para(f"Không có nhiệm vụ đến hạn báo cáo trong {c.next_period.label}; các đơn vị tiếp tục thực hiện "
               f"các nhiệm vụ được giao tại Kế hoạch.")
    for unit, items in by_unit.items():
        text = "; ".join(f"{_with_plan(i.title, i.plan_number, c.multi_plan)} (hạn {dmy(i.due_on)})" for i in items)
        w.para([("- ", ""), (unit, "b"), (f": {text}.", "")], "Report Item")
    w.para([("[Bổ sung các nhiệm vụ trọng tâm khác (nếu có).]", "h")], "Report Placeholder")

    w.para("IV. ĐỀ XUẤT, KIẾN NGHỊ", "Report Part")
    w.para([("[Nêu các đề xuất, kiến nghị với cấp trên (nếu có).]", "h")], "Report Placeholder")
    w.para(c.closing)


def _indicator_table(w: BodyWriter, c: ReportContent) -> None:
    """Target, value, share of the target and reporting units per indicator; the unit a target is set for in a
    column of its own only when targets are set for several units."""
    units = list(dict.fromkeys(p.target_unit for p in c.indicators))
    if len(units) == 1:
        w.para([(f"(Chỉ tiêu giao cho {units[0]}; số liệu tổng hợp từ báo cáo của các đơn vị.)", "i")])
    rows = []
    for i, p in enumerate(c.indicators, start=1):
        name = f"{p.name} (Kế hoạch số {c.plan_numbers.get(p.plan_id)})" \
            if c.multi_plan and c.plan_numbers.get(p.plan_id) else p.name
        row = [str(i), name, p.unit_of_measure, _COMPARATOR.get(p.comparator, "") + number(p.target),
               number(p.actual) if p.actual is not None else "Chưa có số liệu", percent(p.ratio),
               "" if p.achieved is None else ("Đạt" if p.achieved else "Chưa đạt"), str(p.reporting_units)]
        if len(units) > 1:
            row.insert(2, p.target_unit)
        rows.append(row)
    header = ["STT", "Chỉ tiêu", "ĐVT", f"Chỉ tiêu năm {c.period.target_year}", "Thực hiện", "Tỷ lệ so với chỉ tiêu",
              "Đánh giá", "Số đơn vị báo cáo"]
    widths = [1.3, 5.2, 1.3, 2.0, 1.9, 1.7, 1.6, 1.5]
    numeric: tuple[int, ...] = (3, 4, 5, 7)
    if len(units) > 1:
        header.insert(2, "Đơn vị")
        widths = [1.3, 3.8, 2.2, 1.2, 1.8, 1.7, 1.5, 1.5, 1.5]
        numeric = (4, 5, 6, 8)
    w.table(header, rows, widths, numeric=numeric)


def _with_plan(title: str, plan_number: str | None, multi: bool) -> str:
    return f"{title} (Kế hoạch số {plan_number})" if multi and plan_number else title


def _prefix(period_label: str | None, several: bool) -> str:
    """"6 tháng đầu năm 2024: " before each of a unit's several reports; a single deadline's label ("Hạn
    25/09/2024") is left out, the line gives the date anyway."""
    if not several or not period_label or period_label.startswith("Hạn "):
        return ""
    return f"{period_label}: "


def _measure(value: str, unit_of_measure: str) -> str:
    """"3,3%", "27 hộ"."""
    if not unit_of_measure:
        return value
    return value + unit_of_measure if unit_of_measure == "%" else f"{value} {unit_of_measure}"


def _entry_text(entry: UnitEntry) -> str:
    """A unit's line: its reports, lightly joined, with their dates; what it still owes, named as such."""
    parts = []
    several = len(entry.quotes) + len(entry.owed) > 1
    seen: set[str] = set()
    for q in entry.quotes:
        prefix = _prefix(q.period_label, several)
        when = f"báo cáo ngày {dmy(q.submitted_on)}"
        if q.days_late:
            when += f", chậm {q.days_late} ngày"
        if q.pending:
            when += ", chưa được xem xét"
        text = (q.text or "Đã hoàn thành").rstrip(".")
        if text in seen:  # the same words again (a template answer): the date is enough
            parts.append(f"{prefix}({when})")
        else:
            parts.append(f"{prefix}{text} ({when})")
        seen.add(text)
    for o in entry.owed:
        prefix = _prefix(o.period_label, several)
        if o.overdue:
            state = "báo cáo bị trả lại, chưa nộp lại" if o.returned else "chưa báo cáo"
            parts.append(f"{prefix}{state} (hạn {dmy(o.due_on)}, quá hạn {o.days_late} ngày)")
        else:
            parts.append(f"{prefix}chưa đến hạn báo cáo (hạn {dmy(o.due_on)})")
    if not parts:
        return "không có hạn báo cáo trong kỳ."
    return "; ".join(parts) + "."


def _write_group(w: BodyWriter, group: GroupEntry) -> None:
    w.para([("- ", ""), (group.label, "b"), (f" ({group.reported}/{group.total} đơn vị đã báo cáo):", "")],
           "Report Item")
    silent, idle = [], []
    for member in group.members:
        if member.quotes:
            w.para([("+ ", ""), (member.unit_name, "b"), (": ", ""), (_entry_text(member), "")], "Report Item")
        elif member.missing:
            silent.append(member.unit_name)
        elif member.owed:
            w.para([("+ ", ""), (member.unit_name, "b"), (": ", ""), (_entry_text(member), "")], "Report Item")
        else:
            idle.append(member.unit_name)
    if silent:
        w.para([("+ Chưa báo cáo (quá hạn): ", "i"), (join_names(silent, _MAX_NAMES) + ".", "")], "Report Item")
    if idle:
        w.para([("+ Không có hạn báo cáo trong kỳ: ", "i"), (join_names(idle, _MAX_NAMES) + ".", "")],
               "Report Item")
    if group.figures:
        w.para([("+ Số liệu tổng hợp:", "i")], "Report Item")
        for f in group.figures:
            w.para(f"* {f.name}: {_measure(number(f.value), f.unit_of_measure)} ({f.reporting}/{f.total} đơn vị "
                   f"báo cáo).", "Report Item")


def _by_unit(items: Sequence[ItemLine]) -> OrderedDict[str, list[ItemLine]]:
    out: OrderedDict[str, list[ItemLine]] = OrderedDict()
    for item in items:
        out.setdefault(item.unit_name, []).append(item)
    return out


def _items(w: BodyWriter, title: str, items: Sequence[ItemLine], multi: bool, describe: Any, empty: str) -> None:
    w.para(title, "Report Heading")
    if not items:
        w.para(empty)
    for unit, lines in _by_unit(items).items():
        text = "; ".join(f"{_with_plan(i.title, i.plan_number, multi)} ({describe(i)})" for i in lines)
        w.para([("- ", ""), (unit, "b"), (f": {text}.", "")], "Report Item")


# --- The roll-up's appendix ------------------------------------------------------------------------------------

def _write_rollup_appendix(document: Any, c: ReportContent) -> None:
    """A landscape section: each indicator's target, value and reporting units for every unit below."""
    assert c.rollup is not None
    section = document.add_section(WD_SECTION.NEW_PAGE)
    section.different_first_page_header_footer = False  # the page number shows on the appendix's first page
    section.orientation = WD_ORIENT.LANDSCAPE
    width, height = section.page_width, section.page_height
    if width < height:
        section.page_width, section.page_height = height, width
    w = BodyWriter(document, document.element.body.sectPr)
    w.para([("PHỤ LỤC", "b")], "Report Table", align="center", size=14)
    w.para([(f"SỐ LIỆU CÁC CHỈ TIÊU THEO ĐƠN VỊ {upper(c.period.label)}", "b")], "Report Table", align="center",
           size=14)
    w.para([(f"(Kèm theo Báo cáo số {c.heading.number.strip()} của {c.heading.issuer_short})", "i")],
           "Report Table", align="center", size=13)
    rule(Paragraph(w.para("", "Report Table", align="center"), document._body), indent_cm=10.5)
    rows = c.rollup.rows
    indicators = c.rollup.indicators
    for start in range(0, len(indicators), _INDICATORS_PER_TABLE):
        chunk = indicators[start:start + _INDICATORS_PER_TABLE]
        w.para("", "Report Table")
        spans = [("STT", 1), ("Đơn vị", 1)] + [(f"{name} ({uom})" if uom else name, 3) for _, name, uom in chunk]
        header = ["", ""] + ["Chỉ tiêu", "Thực hiện", "Số ĐV báo cáo"] * len(chunk)
        body = []
        for i, r in enumerate(rows, start=1):
            line = [str(i), f"{r.unit_name} (nhiệm vụ của đơn vị)" if r.is_self else r.unit_name]
            for indicator_id, _, _ in chunk:
                cell = c.rollup.cells.get((indicator_id, r.unit_id))
                line += [
                    _COMPARATOR.get(cell.comparator or "", "") + number(cell.target)
                    if cell and cell.target is not None else "",
                    number(cell.value) if cell and cell.value is not None else "",
                    str(cell.reporting_units) if cell and cell.reporting_units else "",
                ]
            body.append(line)
        widths = [1.3, 4.7] + [2.3, 2.3, 1.8] * len(chunk)
        w.table(header, body, widths, numeric=range(2, 2 + 3 * len(chunk)), header_rows=[spans])
