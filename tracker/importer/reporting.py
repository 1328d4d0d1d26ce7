"""The reporting part ("CHẾ ĐỘ BÁO CÁO") and closing report instructions.

A unit named there usually already has a task: its reporting duty joins that task instead of
becoming a second one. Report instructions addressed to groups ("các sở, ngành ... báo cáo định kỳ về
Sở LĐTB&XH") are kept as reporting entries and joined to the tasks of the units they name.
"""

from __future__ import annotations

import re

from tracker.importer.dates import find_recurrence
from tracker.importer.headings import heading_unit
from tracker.importer.relations import find_report_to, sentences, units_before_report
from tracker.importer.result import ReportingEntry
from tracker.importer.sections import Node
from tracker.importer.tasks import TaskDraft
from tracker.importer.unitphrase import is_generic
from tracker.importer.units import unit_similarity

_REPORT = re.compile(r"báo\s+cáo", re.IGNORECASE)
SAME_UNIT = 0.85


def _best_task(unit: str, drafts: list[TaskDraft], impl_parts: set[str]) -> TaskDraft | None:
    """Find the unit's general task (from the implementation part) that a reporting duty belongs to."""
    scored = [
        (unit_similarity(unit, draft.unit), index)
        for index, draft in enumerate(drafts)
        if draft.origin in ("heading", "report") and draft.part in impl_parts
    ]
    scored = [pair for pair in scored if pair[0] >= SAME_UNIT]
    if not scored:
        return None
    return drafts[max(scored)[1]]


def _attach(draft: TaskDraft, text: str, section: str) -> None:
    draft.body = f"{draft.body} {text}".strip()
    draft.text = f"{draft.text}\n[{section}] {text}".strip()
    for name in find_report_to(text, draft.unit):
        if name not in draft.report_to:
            draft.report_to.append(name)
    if section not in draft.merged_from:
        draft.merged_from.append(section)


def apply_reporting(root: Node, report_nodes: list[Node], drafts: list[TaskDraft]) -> list[ReportingEntry]:
    """Merge report-part items into tasks and return the reporting entries."""
    entries: list[ReportingEntry] = []
    impl_parts = {node.label for node in root.children if node.kind in ("impl", "report")}
    for node in report_nodes:
        heading = heading_unit(node, verb_split=True)
        if heading is None:
            continue
        text = node.subtree_text()
        target = _best_task(heading.unit, drafts, impl_parts)
        if target is None:
            target = TaskDraft(
                node.section(),
                node.path()[0] if node.path() else "",
                heading.unit,
                text,
                heading.requested,
                heading.aliases,
                origin="report",
            )
            target.body = heading.rest
            target.report_to = find_report_to(text, heading.unit)
            drafts.append(target)
        else:
            _attach(target, heading.rest or text, node.section())
        entries.append(_entry(node.section(), [heading.unit], text, find_report_to(text, heading.unit)))
    handled = {id(node) for node in report_nodes}
    for node in root.walk():
        if id(node) in handled or node.style[0] == "root":
            continue
        loose = node.style[0] == "note" or (node.kind == "report" and node.style[0] != "roman")
        if not loose:
            continue
        for sentence in sentences(node.own_text()):
            if not _REPORT.search(sentence):
                continue
            senders = units_before_report(sentence)
            entry = _entry(node.section(), senders, sentence, find_report_to(sentence))
            entries.append(entry)
            for sender in senders:
                if is_generic(sender):
                    continue
                target = _best_task(sender, drafts, impl_parts)
                if target is not None:
                    _attach(target, sentence, node.section())
    return entries


def _entry(section: str, senders: list[str], text: str, to: list[str]) -> ReportingEntry:
    return ReportingEntry(section, senders, list(to), find_recurrence(text) or None, " ".join(text.split()))
