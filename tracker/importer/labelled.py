"""Assignments written as labelled lists under a section of work.

Programmes and plans of ministries lay out each line of work the same way:

    I. CÔNG TÁC QUÁN TRIỆT, TRIỂN KHAI THỰC HIỆN
    1. Nội dung, biện pháp ...
    2. Cơ quan chủ trì, phối hợp
       a) Cơ quan chủ trì
          - Bộ Quốc phòng; Bộ Lao động - Thương binh và Xã hội.
       b) Cơ quan phối hợp: Các cơ quan, đơn vị, địa phương.
    3. Thời gian thực hiện: Từ năm 2013 đến năm 2020.

Every unit listed under a lead label ("Cơ quan chủ trì", "Đơn vị thực hiện", "Chủ trì thực hiện") gets the
section's work as a task, each ";"-separated unit its own; the units under "Cơ quan phối hợp" coordinate;
the "Thời gian thực hiện" line dates every task of the section as a time column would.
"""

from __future__ import annotations

import re

from tracker.importer.sections import Node
from tracker.importer.tasks import TaskDraft, part_label
from tracker.importer.unitphrase import has_verb, leading_unit, split_alias, split_enumeration

_LABEL = re.compile(
    r"^(?:(?:cơ\s+quan|đơn\s+vị|bộ\s+phận)(?:,?\s+(?:đơn\s+vị|cá\s+nhân|tổ\s+chức))?\s+)?"
    r"(?P<role>chủ\s+trì|thực\s+hiện|phụ\s+trách|chịu\s+trách\s+nhiệm|được\s+giao|phối\s+hợp)"
    r"(?P<more>(?:\s*(?:,|và)\s*(?:phối\s+hợp|thực\s+hiện|chủ\s+trì))*)(?:\s+thực\s+hiện)?"
    r"\s*(?::\s*(?P<rest>.*))?$",
    re.IGNORECASE,
)
_TIME_LABEL = re.compile(
    r"^(?:thời\s+(?:gian|hạn)|tiến\s+độ)(?:\s+(?:thực\s+hiện|hoàn\s+thành|hoàn\s+tất|triển\s+khai|báo\s+cáo))*"
    r"\s*:\s*(?P<value>.+)$",
    re.IGNORECASE,
)


def _label(node: Node) -> re.Match[str] | None:
    """Match the label an item opens with; an inline list wrapped over several lines is read whole."""
    heading = node.heading.strip().rstrip(".")
    if not heading or not _LABEL.match(heading.split(":")[0] + (":" if ":" in heading else "")):
        return None
    return _LABEL.match(" ".join(node.own_text().split()).rstrip("."))


def is_label_item(node: Node) -> bool:
    """Tell whether an item is a lead or coordinating label ("a) Cơ quan chủ trì", "2. Chủ trì thực hiện")."""
    return node.style[0] not in ("root", "roman") and _label(node) is not None


def _units(text: str) -> list[str]:
    """The units one bullet of a label list names: ";" separates, "," and "và" keep a group.

    Whatever sits under "Cơ quan chủ trì" is a unit, known org noun or not ("Tư lệnh các quân khu", "Các
    quân khu"); a bullet that goes on with a duty keeps only the name before its verb.
    """
    out = []
    for piece in text.split(";"):
        piece = piece.strip(" .")
        if not piece or piece.startswith("(") or not piece[:1].isalpha():
            continue
        if has_verb(piece):
            unit = leading_unit(piece)
            if not unit:
                continue
        else:
            unit = piece if len(piece.split()) <= 20 else ""
        if unit:
            out.append(split_alias(unit)[0])
    return out


# "Chủ trì: Sở Nội vụ; Phối hợp: Sở TT&TT; Thời gian: Quý IV": the next label ends the list.
_NEXT_LABEL = re.compile(
    r"[;.,]?\s*(?=(?:(?:cơ\s+quan|đơn\s+vị)\s+)?(?:phối\s+hợp|thời\s+gian|thời\s+hạn|tiến\s+độ|sản\s+phẩm|kinh\s+phí)"
    r"[^:;.]{0,30}:)",
    re.IGNORECASE,
)


def _inline(rest: str) -> tuple[str, str]:
    """Split an inline label list into its own units and what follows ("Phối hợp: ..."), if anything."""
    parts = _NEXT_LABEL.split(rest, maxsplit=1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def _listed(node: Node, rest: str | None) -> list[str]:
    """The units a label item lists, inline after its colon or one bullet per unit under it."""
    if rest:
        return _units(_inline(rest)[0])
    return [unit for child in node.children if not is_label_item(child) for unit in _units(child.heading)]


def _scope(node: Node) -> Node:
    """The section of work a label belongs to: the first ancestor that is not itself a label."""
    scope = node.parent
    while scope is not None and is_label_item(scope):
        scope = scope.parent
    return scope or node


def _time_cells(scope: Node, skip: set[int]) -> list[str]:
    cells = []
    for item in scope.walk():
        if id(item) in skip:
            continue
        match = _TIME_LABEL.match(" ".join(item.own_text().split()).strip(" -+*")) if item.lines else None
        if match:
            cells.append(match.group("value").strip(" ."))
    return cells


def _content(scope: Node, skip: set[int]) -> str:
    parts = [scope.heading]
    for child in scope.children:
        if id(child) in skip or _TIME_LABEL.match(child.heading.strip(" -+*")):
            continue
        parts.append(child.subtree_text())
    return " ".join(part for part in parts if part)


def labelled_drafts(root: Node) -> tuple[list[TaskDraft], set[int]]:
    """Tasks from label lists, and the ids of the nodes they used (no other rule reads them again)."""
    drafts: list[TaskDraft] = []
    used: set[int] = set()
    for node in root.walk():
        match = _label(node) if is_label_item(node) else None
        if match is None or match.group("role").lower().startswith("phối"):
            continue
        leads = _listed(node, match.group("rest"))
        if not leads:
            continue
        scope = _scope(node)
        container = node.parent if node.parent is not None and is_label_item(node.parent) else scope
        coordinating = [
            unit
            for sibling in container.children
            if sibling is not node and (m := _label(sibling)) and m.group("role").lower().startswith("phối")
            for listed in _listed(sibling, m.group("rest"))
            for unit in split_enumeration(listed)
        ]
        following = _inline(match.group("rest"))[1] if match.group("rest") else ""
        also = _LABEL.match(following.strip()) if following else None
        if also and also.group("role").lower().startswith("phối") and also.group("rest"):
            coordinating += [unit for listed in _units(_inline(also.group("rest"))[0])
                             for unit in split_enumeration(listed)]
        labels = {id(item) for item in scope.walk() if item is not scope and is_label_item(item)}
        subtree = {id(item) for label in scope.walk() if id(label) in labels for item in label.walk()}
        used |= subtree
        cells = _time_cells(scope, subtree)
        body = _content(scope, subtree)
        # "a) Cơ quan chủ trì" is a numbered part of the section and names its place; a "- Chủ trì: X"
        # bullet only labels the item it sits in.
        place = node if node.style[0] in ("dec", "alpha", "paren") else scope
        for unit in leads:
            draft = TaskDraft(place.section(), part_label(place), unit, body, coordinating=list(coordinating),
                              origin="lead_line")
            draft.deadline_cells = list(cells)
            drafts.append(draft)
    return drafts, used


def section_times(root: Node) -> dict[str, list[str]]:
    """The "Thời gian thực hiện/hoàn tất: ..." lines of each section, by section label.

    A time line closing the last item of a step ("2.1. Bước 1: / 2.1.a ... / 2.1.b ... / Thời gian hoàn tất:
    trước ngày 27/6/2014") times the whole step.
    """
    found: dict[str, list[str]] = {}
    for node in root.walk():
        if node.style[0] == "root":
            continue
        parent = node.parent
        heading = _TIME_LABEL.match(node.heading.strip(" -+*")) if node.style[0] != "roman" else None
        if heading and parent is not None and parent.style[0] != "root":
            # "3. Thời gian thực hiện: ..." or "- Thời gian: ..." as an item of its own: its section's time.
            found.setdefault(parent.section(), []).append(heading.group("value").strip(" ."))
            continue
        for line in node.lines[1:]:
            match = _TIME_LABEL.match(line.strip(" -+*"))
            if not match:
                continue
            last = parent is not None and parent.style[0] != "root" and parent.children and parent.children[-1] is node
            owner = parent if last and node.style[0] in ("dec", "alpha", "paren") else node
            found.setdefault(owner.section(), []).append(match.group("value").strip(" ."))
    return found


def give_section_times(drafts: list[TaskDraft], times: dict[str, list[str]]) -> None:
    """Let each task know the time line of the nearest section around it."""
    for draft in drafts:
        parts = draft.section.split(".")
        for size in range(len(parts), 0, -1):
            cells = times.get(".".join(parts[:size]))
            if cells:
                draft.section_times = list(cells)
                break
