"""Tasks from the outline: one per (section, assigned unit).

A unit is assigned where plans conventionally write it: an item headed by a unit ("2.6. Trạm Y tế
xã", "3. Sở Tài chính: Tham mưu ..."), in the implementation part also an item opening with a unit and
a verb ("11. Các sở, ban, ngành ... căn cứ chức năng ..."), and "Đơn vị chủ trì thực hiện: A; B." lines
under an item of the content part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tracker.importer.budget import checkpoint
from tracker.importer.headings import Heading, heading_unit, sibling_units
from tracker.importer.relations import find_coordinating, find_report_to
from tracker.importer.sections import TASK_KINDS, Node
from tracker.importer.unitphrase import (
    has_verb,
    leading_unit,
    split_alias,
    split_enumeration,
    starts_with_unit,
    strip_request,
    unit_list_at,
)

_LEAD_LABEL = re.compile(
    r"(?:(?:Đơn\s+vị|Cơ\s+quan|Bộ\s+phận)\s+(?:chủ\s+trì|thực\s+hiện|chịu\s+trách\s+nhiệm|tham\s+mưu|được\s+giao)"
    r"(?:\s+thực\s+hiện)?|(?:^|(?<=[\s;.(\-]))(?-i:Trách)\s+nhiệm\s+(?:thực\s+hiện|chính)"
    r"|(?:^|(?<=[\s;.(\-]))Chủ\s+trì(?:\s+thực\s+hiện)?)\s*:\s*",
    re.IGNORECASE,
)
_COORD_LABEL = re.compile(
    r"(?:(?:Đơn\s+vị|Cơ\s+quan)\s+phối\s+hợp|(?:^|(?<=[\s;.(\-]))Phối\s+hợp)(?:\s+thực\s+hiện)?\s*:\s*",
    re.IGNORECASE,
)
_LABEL_END = re.compile(
    r"\.(?:\s|$)|[;)](?=\s*(?:Phối\s+hợp|Thời\s+(?:gian|hạn)|Đơn\s+vị|Cơ\s+quan)[^:]{0,25}:)"
    r"|(?=(?:Đơn\s+vị|Cơ\s+quan)\s+phối\s+hợp)|(?=Phối\s+hợp\s*:)|(?=Thời\s+(?:gian|hạn)[^:]{0,25}:)",
    re.IGNORECASE,
)
# "(Sở Nội vụ chủ trì, phối hợp với các sở, ngành; hoàn thành trong quý II/2025)" ends many task lines.
_PAREN_ASSIGN = re.compile(
    r"\((?P<lead>[^()]{3,200}?)\s+(?:chủ\s+trì|phụ\s+trách|(?:tổ\s+chức\s+)?thực\s+hiện)\b(?P<tail>[^()]*)\)",
    re.IGNORECASE,
)
# Verbs that make a unit opening an item its assignee even outside the implementation part.
_STRONG_ASSIGNMENT = re.compile(
    r"^\s*(?:chủ\s+trì|chịu\s+trách\s+nhiệm|có\s+trách\s+nhiệm|phụ\s+trách|là\s+cơ\s+quan)\b", re.IGNORECASE
)
# "..., giao Phòng Y tế chủ trì thực hiện."
_INLINE_ASSIGN = re.compile(r"(?:^|[,;.]\s*|\s)giao(?:\s+cho)?\s+(?=\S)", re.IGNORECASE)
_ASSIGN_VERB = re.compile(r"^\s*(?:chủ\s+trì|thực\s+hiện|theo\s+dõi|tổ\s+chức|triển\s+khai)\b", re.IGNORECASE)
_ASSIGNING = re.compile(r"^(?:Giao|Đề\s+nghị)\s+")


@dataclass
class TaskDraft:
    """A task before dates and warnings are resolved."""

    section: str
    part: str
    unit: str
    text: str
    requested: bool = False
    aliases: list[str] = field(default_factory=list)
    coordinating: list[str] = field(default_factory=list)
    report_to: list[str] = field(default_factory=list)
    origin: str = "heading"
    deadline_cells: list[str] = field(default_factory=list)
    merged_from: list[str] = field(default_factory=list)
    body: str = ""
    # The "Thời gian hoàn tất: ..." of the section the task sits in, used when its own text gives no date.
    section_times: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.body = self.body or self.text


@dataclass
class _Assignment:
    """One "(X chủ trì, phối hợp với Y)" or "giao X chủ trì ..." found in a text, with where it starts."""

    leads: list[str]
    coordinating: list[str]
    start: int


def _assignments_in_text(text: str) -> list[_Assignment]:
    """Read every "(Sở Nội vụ chủ trì, phối hợp với ...)" and "..., giao Phòng Y tế chủ trì ..." in a text.

    A paragraph may hand out several duties: "Giao Sở A chủ trì hướng dẫn ...; giao Sở B chủ trì, phối hợp
    với C kiểm tra ..., hoàn thành trước ngày 30/9/2025." Each assignment runs to the next one.
    """
    found: list[_Assignment] = []
    for match in _PAREN_ASSIGN.finditer(text):
        if starts_with_unit(match.group("lead")):
            leads = [name for unit in unit_list_at(match.group("lead")) for name in [split_alias(unit)[0]]]
            found.append(_Assignment(leads, find_coordinating(match.group("tail")), match.start()))
    if found:
        return found
    for match in _INLINE_ASSIGN.finditer(text):
        tail = text[match.end() :]
        names = unit_list_at(tail)
        if names:
            end = tail.find(names[-1]) + len(names[-1])
            if _ASSIGN_VERB.match(tail[end:]):
                after = tail[end:]
                following = _INLINE_ASSIGN.search(after)
                scope = after[: following.start()] if following and _is_assignment_at(after, following) else after
                leads = [split_alias(n)[0] for n in names]
                found.append(_Assignment(leads, find_coordinating(scope), match.start()))
    return found


def _is_assignment_at(text: str, match: re.Match[str]) -> bool:
    tail = text[match.end() :]
    names = unit_list_at(tail)
    return bool(names) and bool(_ASSIGN_VERB.match(tail[tail.find(names[-1]) + len(names[-1]) :]))


def _assignment_in_text(text: str) -> tuple[list[str], list[str], tuple[int, int] | None]:
    """Read the first assignment of a sentence (see `_assignments_in_text`)."""
    found = _assignments_in_text(text)
    return (found[0].leads, found[0].coordinating, None) if found else ([], [], None)


def _lead_label_units(text: str) -> tuple[list[str], list[str], tuple[int, int] | None]:
    """Read "Đơn vị chủ trì thực hiện: A; B" and "Đơn vị phối hợp: C" from an item's text."""
    match = _LEAD_LABEL.search(text)
    if not match:
        return _assignment_in_text(text)
    end = _LABEL_END.search(text, match.end())
    listing = text[match.end() : end.start() if end else len(text)]
    leads: list[str] = []
    coordinating: list[str] = []
    for piece in re.split(r";", listing):
        piece = piece.strip(" .")
        if not piece:
            continue
        body, _ = strip_request(piece)
        if re.search(r"\bphối\s+hợp\b", body, re.IGNORECASE):
            unit = leading_unit(body)
            if unit:
                coordinating.append(unit)
            continue
        names = _listed_units(body)
        if names:
            leads.extend(split_alias(name)[0] for name in names)
            continue
        if has_verb(body):
            continue
        leads.append(split_alias(body)[0])
    coordinating.extend(label_coordinating(text))
    return leads, coordinating, (match.start(), end.end() if end else len(text))


def label_coordinating(text: str) -> list[str]:
    """Read "Đơn vị phối hợp: A, B; C" (each unit on its own; "Các sở, ban, ngành" stays whole)."""
    coord = _COORD_LABEL.search(text)
    if not coord:
        return []
    tail_end = _LABEL_END.search(text, coord.end())
    pieces = text[coord.end() : tail_end.start() if tail_end else None].split(";")
    return [unit.strip(" .") for piece in pieces for unit in split_enumeration(piece.strip(" .")) if unit.strip(" .")]


def _listed_units(text: str) -> list[str]:
    """Read "Phòng LĐTB&XH, Phòng Giao dịch NHCSXH huyện" as two units; "UBND huyện, thị xã" stays one."""
    names = unit_list_at(text)
    if len(names) > 1 and not all(name[:1].isupper() for name in names):
        # "Phòng Y tế và các đơn vị liên quan": the lead is the first; the rest are helpers.
        return names[:1]
    return names


def part_label(node: Node) -> str:
    """Return the top-level part an item sits in (\"III\")."""
    path = node.path()
    return path[0] if path else ""


def _find_headings(root: Node, skip: set[int]) -> dict[int, tuple[Node, Heading]]:
    """Find every item headed by a unit, by id(node), leaving out the nodes in `skip`."""
    sibling_ids: set[int] = set()
    for node in root.walk():
        if node.children and node.kind in TASK_KINDS:
            sibling_ids |= sibling_units(node, node.kind in ("impl", "report"))
    headed: dict[int, tuple[Node, Heading]] = {}
    for node in root.walk():
        checkpoint()
        if id(node) in skip or node.style[0] in ("root", "roman", "note") or node.kind not in TASK_KINDS:
            continue
        # In the implementation part an item may open with its unit and a verb; elsewhere only an
        # explicit assignment does ("Giao Phòng Y tế chủ trì ...", "Đề nghị Hội Nông dân ...").
        verb_split = node.kind in ("impl", "report") or bool(_ASSIGNING.match(node.heading))
        heading = heading_unit(node, verb_split=verb_split, by_siblings=id(node) in sibling_ids)
        if heading is None and id(node) not in sibling_ids:
            heading = heading_unit(node, verb_split=verb_split)
        if heading is None and not verb_split:
            # "- Phòng Văn hóa và Thông tin chủ trì tổ chức tuyên truyền ..." in a content part.
            candidate = heading_unit(node, verb_split=True)
            if candidate and candidate.style == "verb" and _STRONG_ASSIGNMENT.match(candidate.rest):
                heading = candidate
        if heading is None:
            continue
        under_unit = any(id(a) in headed for a in node.ancestors())
        if under_unit and node.style[0] in ("dash", "plus", "star") and heading.style != "colon":
            continue  # "- Trạm Y tế xã phối hợp ..." under a unit's item is part of that unit's duties
        headed[id(node)] = (node, heading)
    return headed


_CLAUSE_END = re.compile(r"(?<=[.;])\s+")


def _part_sentences(root: Node) -> list[TaskDraft]:
    """Assignments written as sentences right under an implementation heading, before any item.

    "V. TỔ CHỨC THỰC HIỆN / Giao Phòng Y tế chủ trì ...; Phòng Tài chính bố trí kinh phí; ..." A clause
    after ";" that names no unit ("...; tổng hợp, báo cáo UBND huyện trước ngày 10/7") goes on with the
    duty of the unit before it.
    """
    drafts: list[TaskDraft] = []
    for part in root.children:
        if part.kind != "impl" or part.style[0] != "roman" or len(part.lines) < 2:
            continue
        current: TaskDraft | None = None
        for clause in _CLAUSE_END.split(" ".join(part.lines[1:])):
            clause = clause.strip()
            body, requested = strip_request(clause)
            names = unit_list_at(body)
            end = body.find(names[-1]) + len(names[-1]) if names else 0
            if not names or not has_verb(body[end : end + 60]):
                if current is not None and current.text.endswith(";"):
                    current.text = f"{current.text} {clause}"
                    current.body = f"{current.body} {clause}"
                else:
                    current = None
                continue
            current = TaskDraft(part.label, part.label, body[:end].strip(" ,"), clause, requested, origin="heading")
            current.body = body[end:].strip()
            drafts.append(current)
    return drafts


def build_tasks(
    root: Node, taken: set[int] | None = None
) -> tuple[list[TaskDraft], list[tuple[Node, Heading]], dict[int, str]]:
    """Return the task drafts of the body, the report-part nodes left for the reporting pass and the items
    headed by a unit (id -> unit).

    Nodes in `taken` were read by another rule (label lists) and are not read again.
    """
    taken = taken or set()
    drafts: list[TaskDraft] = _part_sentences(root)
    report_nodes: list[tuple[Node, Heading]] = []
    headed = _find_headings(root, taken)
    headed_ids = set(headed)
    for node in root.walk():
        checkpoint()
        if id(node) in taken:
            continue
        if id(node) in headed:
            heading = headed[id(node)][1]
            if node.kind == "report":
                report_nodes.append((node, heading))
                continue
            body = _children_text(node, headed_ids, heading.rest)
            if not body and any(id(d) in headed_ids for d in node.walk() if d is not node):
                continue  # "1. Các phòng chuyên môn" only groups the units listed under it
            # "1. Sở Y tế; Sở Giáo dục và Đào tạo:" over a list of duties: the list is each unit's.
            for unit in [piece.strip(" ,.") for piece in heading.unit.split(";") if piece.strip(" ,.")]:
                draft = TaskDraft(
                    node.section(),
                    part_label(node),
                    unit,
                    _node_text(node, headed_ids),
                    heading.requested,
                    heading.aliases,
                )
                draft.body = body
                drafts.append(draft)
            continue
        if node.style[0] in ("root", "roman") or node.kind not in TASK_KINDS:
            continue
        own = node.own_text()
        several = [] if _LEAD_LABEL.search(own) else _assignments_in_text(own)
        if len(several) > 1:
            drafts.extend(_split_assignments(node, own, several, headed_ids))
            continue
        leads, coordinating, span = _lead_label_units(own)
        if leads:
            on_parent = bool(_LEAD_LABEL.match(node.own_text())) and node.parent is not None
            target = node.parent if on_parent else node
            # "- Chủ trì: Sở Nội vụ" under an item names the item's unit; it is not part of the task.
            skip = headed_ids | {id(node)} if on_parent else headed_ids
            text = _node_text(target, skip, drop_span=None if on_parent else span)
            if on_parent and not coordinating:
                # "- Đơn vị chủ trì: ..." then "- Đơn vị phối hợp: ..." as sibling bullets.
                siblings = [child for child in target.children if child is not node]
                coordinating = [unit for child in siblings for unit in label_coordinating(child.own_text())]
            for unit in leads:
                drafts.append(
                    TaskDraft(
                        target.section(),
                        part_label(target),
                        unit,
                        text,
                        coordinating=list(coordinating),
                        origin="lead_line",
                    )
                )
    for draft in drafts:
        draft.coordinating = _dedupe(draft.coordinating + find_coordinating(draft.body, draft.unit))
        draft.report_to = find_report_to(draft.body, draft.unit)
    return drafts, report_nodes, {key: heading.unit for key, (_node, heading) in headed.items()}


def _split_assignments(node: Node, own: str, found: list[_Assignment], headed_ids: set[int]) -> list[TaskDraft]:
    """One task per assignment of a paragraph; each keeps the paragraph's opening and its own clause."""
    opening = own[: found[0].start].strip()
    children = " ".join(child.subtree_text() for child in node.children if id(child) not in headed_ids)
    drafts = []
    for index, assignment in enumerate(found):
        end = found[index + 1].start if index + 1 < len(found) else len(own)
        clause = own[assignment.start : end].strip(" ;,")
        body = " ".join(part for part in (opening, clause, children if index + 1 == len(found) else "") if part)
        for unit in assignment.leads:
            draft = TaskDraft(
                node.section(),
                part_label(node),
                unit,
                _node_text(node, headed_ids),
                coordinating=list(assignment.coordinating),
                origin="lead_line",
            )
            draft.body = body
            drafts.append(draft)
    return drafts


def _children_text(node: Node, headed_ids: set[int], rest: str) -> str:
    parts = [rest]
    for child in node.children:
        if id(child) not in headed_ids:
            parts.append(child.subtree_text())
    return " ".join(part for part in parts if part)


def _node_text(node: Node, headed_ids: set[int], drop_span: tuple[int, int] | None = None) -> str:
    """Return an item's text for the reviewer: its own paragraph, then one line per sub-item."""
    own = node.own_text()
    if drop_span:
        own = (own[: drop_span[0]] + own[drop_span[1] :]).strip()
    return node.subtree_text(headed_ids, sep="\n").replace(node.own_text(), own, 1)


def _dedupe(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for name in names:
        if name and name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out
