"""Assignments written as sentences: a unit that opens a sentence with an action verb is told to act.

Wherever a plan hands out work, in its implementation part or inside a line of work under a heading that
names no one, it writes sentences such as "Các sở, ban, ngành; UBND các huyện, thành phố xây dựng kế hoạch
...", "Đề nghị Ủy ban MTTQ tỉnh phối hợp ...", "Mỗi sở, ban, ngành chủ động ...". The unit phrase before
the verb is the assignee as written: ";" separates units, "," and "và" keep a group whole. A sentence whose
subject is the item's own unit goes on with that unit's task; another unit named inside an item gets a
task of its own. Units only directed by the subject ("... chỉ đạo UBND các xã ...") are not assignees.
"""

from __future__ import annotations

import re

from tracker.importer.budget import checkpoint
from tracker.importer.relations import find_coordinating, find_report_to
from tracker.importer.sections import Node
from tracker.importer.tasks import TaskDraft, part_label
from tracker.importer.unitphrase import (
    is_generic,
    opens_with_verb,
    split_alias,
    starts_with_unit,
    strip_request,
    unit_list_at,
)
from tracker.importer.units import unit_similarity

# Parts whose sentences describe rather than assign: aims, requirements, the situation, objectives.
_DESCRIPTIVE = {"purpose", "background", "objective", "scope"}
_SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=[-+\"“(]?[A-ZĐÀ-Ỹa-zđà-ỹ])")
_CLAUSE = re.compile(r"(?<=[;:])\s+")
# A condition before the subject ("Trường hợp nhu cầu chi tăng, giảm mạnh ..., Sở ..."): read past it.
_CONDITION = re.compile(r"^(?:trong\s+quá\s+trình|trường\s+hợp|nếu|khi)\b[^;:]{0,240}?,\s*(?=\S)", re.IGNORECASE)
# Adverbial lead-ins before the subject: "Nhằm đạt được mục tiêu ..., trong thời gian tới, bên cạnh các nhiệm vụ
# thường xuyên, các Bộ ... tập trung ...", "Căn cứ nội dung Kế hoạch này, các sở ...", "Đồng thời, ...".
_OPENER = re.compile(
    r"^(?:[-+*•]\s*)?(?:(?:nhằm|để|trên\s+cơ\s+sở|căn\s+cứ|trong|bên\s+cạnh|theo|sau\s+khi|đối\s+với|với|qua|từ"
    r"|hằng\s+năm|hàng\s+năm|định\s+kỳ|đồng\s+thời|ngoài\s+ra|trước|khi|ngay\s+sau\s+khi|tùy\s+theo|mặt\s+khác"
    r"|theo\s+đó|trong\s+đó|tiếp\s+theo|sau\s+đó|cùng\s+với|thực\s+hiện)\b[^;:.]{0,160}?,\s*"
    # "Định kỳ 06 tháng các cơ quan ... báo cáo": a frequency needs no comma before its subject
    r"|định\s+kỳ\s+(?:\d+\s+tháng|(?:hằng|hàng|mỗi)\s+(?:năm|quý|tháng))\s*,?\s*)+",
    re.IGNORECASE,
)
# Words between a subject and its verb: "Sở Y tế chủ động ...", "UBND các xã có trách nhiệm ...".
_MODAL = re.compile(
    r"^(?:cần|phải|có\s+trách\s+nhiệm|chịu\s+trách\s+nhiệm|chủ\s+động|tích\s+cực|khẩn\s+trương|kịp\s+thời|thường\s+xuyên"
    r"|định\s+kỳ|tiếp\s+tục|căn\s+cứ|theo\s+chức\s+năng|trong\s+phạm\s+vi|tập\s+trung|quan\s+tâm|nghiêm\s+túc|tăng\s+cường"
    r"|đẩy\s+mạnh|chủ\s+trì|phối\s+hợp|tham\s+mưu)\b",
    re.IGNORECASE,
)
_SAME_UNIT = 0.85
_ENDS = (".", ";", ":", ",", "!", "?", "…")
# Subjects too broad to track: "các cấp ủy, chính quyền", "cả hệ thống chính trị", "các cấp, các ngành".
_COLLECTIVE = re.compile(
    r"^(?:các\s+|mọi\s+)?(?:cấp\s+ủy|cấp\s+ủy\s+đảng|chính\s+quyền(?:\s+các\s+cấp)?|cấp|cả\s+hệ\s+thống|hệ\s+thống\s+chính\s+trị"
    r"|thành\s+viên"
    r"|cán\s+bộ,?\s+đảng\s+viên|toàn\s+dân|nhân\s+dân)\b",
    re.IGNORECASE,
)
# The closing formula that asks everyone to carry out the plan ("Các sở, ngành căn cứ Kế hoạch chủ động triển
# khai thực hiện; báo cáo định kỳ ...") hands out no work of its own.
_CARRY_OUT = re.compile(
    r"^(?:(?:căn\s+cứ|theo|trên\s+cơ\s+sở)\s[^.;]{0,120}?)?"
    r"(?:(?:nghiêm\s+túc|chủ\s+động|khẩn\s+trương|tập\s+trung|tích\s+cực)\s+)*(?:triển\s+khai|tổ\s+chức)"
    r"(?:\s+triển\s+khai)?\s+thực\s+hiện(?:\s+(?:tốt|nghiêm\s+túc|có\s+hiệu\s+quả|đầy\s+đủ|kịp\s+thời))*"
    r"(?:\s+(?:các\s+nội\s+dung|nội\s+dung|kế\s+hoạch|chương\s+trình|các\s+nhiệm\s+vụ|chỉ\s+thị|quyết\s+định"
    r"|công\s+văn|thông\s+báo|nghị\s+quyết|văn\s+bản)[^.;]*)?\s*(?:[.;,]|$)",
    re.IGNORECASE,
)
# "Văn phòng UBND tỉnh thông báo để các cơ quan, đơn vị biết, thực hiện": how a notice ends, not a duty.
_NOTIFIES = re.compile(r"^(?:xin\s+)?thông\s+báo\s+(?:để|cho|đến)\b[^.;]{0,80}\bbiết", re.IGNORECASE)
# "... phối hợp thực hiện." and nothing more: a coordinator, not a task of its own.
_ONLY_COORDINATE = re.compile(r"^phối\s+hợp(?:\s+(?:thực\s+hiện|triển\s+khai))?\s*[.;]?$", re.IGNORECASE)
# A report with neither a date nor a period ("báo cáo định kỳ theo quy định") only repeats the usual duty.
_ONLY_REPORT = re.compile(r"^(?:thực\s+hiện\s+)?(?:chế\s+độ\s+)?báo\s+cáo\b", re.IGNORECASE)
_WHEN = re.compile(r"\d|hằng|hàng|tháng|quý|năm|tuần|ngày", re.IGNORECASE)
# The closing conditional that only invites questions ("Trong quá trình thực hiện, nếu có khó khăn, vướng mắc,
# các đơn vị phản ánh về ..."): no work of its own. Other conditions ("Trường hợp nhu cầu chi tăng mạnh, Sở ...
# giải trình") still hand a duty to the unit after them.
_CONDITIONAL = re.compile(
    r"^(?:trong\s+quá\s+trình[^,;]{0,80},?\s*)?(?:nếu|khi|trường\s+hợp)\s+(?:có|cần|gặp|phát\s+sinh|thấy)?\s*"
    r"[^,;.]{0,60}?(?:khó\s+khăn|vướng\s+mắc|sửa\s+đổi|bổ\s+sung|điều\s+chỉnh|phát\s+sinh|chưa\s+phù\s+hợp)",
    re.IGNORECASE,
)
# "Bộ yêu cầu các đồng chí Giám đốc Sở ...", "Ủy ban nhân dân tỉnh đề nghị ...": the issuer asks the unit after it.
_ISSUER_ASKS = re.compile(
    r"^(?:bộ|sở|ủy\s+ban\s+nhân\s+dân(?:\s+(?:tỉnh|thành\s+phố|xã|phường|huyện))?|ubnd(?:\s+(?:tỉnh|thành\s+phố|xã|phường|huyện))?"
    r"|chủ\s+tịch(?:\s+ủy\s+ban\s+nhân\s+dân|\s+ubnd)?(?:\s+(?:tỉnh|thành\s+phố|xã|phường|huyện))?|ban\s+chỉ\s+đạo)"
    r"\s+(?:yêu\s+cầu|đề\s+nghị|giao(?:\s+cho)?)\s+(?:các\s+đồng\s+chí\s+|đồng\s+chí\s+)?",
    re.IGNORECASE,
)


def _clauses(text: str) -> list[str]:
    """Split a paragraph into sentences, then into ";"/":" clauses; a conditional sentence ("Trong quá trình
    thực hiện, nếu ...; các thôn chủ động đề xuất ...") is left out whole: it hands out no work."""
    out: list[str] = []
    for sentence in _SENTENCE.split(text):
        if _CONDITIONAL.match(_OPENER.sub("", sentence.strip())):
            continue
        pending = ""
        for part in (p.strip() for p in _CLAUSE.split(sentence) if p.strip()):
            if part.endswith(";") and _only_units(part):
                pending = f"{pending} {part}".strip()  # "Các sở, ban, ngành; UBND các huyện tổ chức ...": one subject
                continue
            out.append(f"{pending} {part}".strip())
            pending = ""
        if pending:
            out.append(pending)
    return out


def _only_units(clause: str) -> bool:
    """Tell whether a clause holds nothing but unit names ("Các sở, ban, ngành trực thuộc UBND tỉnh;")."""
    body, _ = strip_request(_OPENER.sub("", clause.strip()))
    names = unit_list_at(body)
    if not names:
        return False
    end = body.find(names[-1]) + len(names[-1])
    return not body[end:].strip(" ;,.")


def subject_of(sentence: str, *, closing: bool = True) -> tuple[list[str], bool, str] | None:
    """Read the units a sentence opens with and whether they are asked ("Đề nghị"); None when it does not
    open with units followed by an action verb. Returns (units, requested, the rest of the sentence).

    Line breaks are kept in `sentence`: a name never runs on into a line that opens with a verb ("Phòng Tài
    chính - Kế hoạch" / "Tham mưu UBND huyện ..."). With `closing`, the sentence may be the closing formula
    that asks everyone to carry out the document, which hands out no work; a numbered item of a directive
    ("6. Các sở, ban, ngành ... triển khai thực hiện có hiệu quả Chỉ thị này") is an assignment all the same.
    """
    text = _OPENER.sub("", sentence.strip())
    if _CONDITIONAL.match(text) or re.match(r"^đối\s+với\s[^,;]{0,120}:", text, re.IGNORECASE):
        return None  # conditional boilerplate, or a topic ("Đối với các cơ sở ...: Báo cáo ...")
    if text is not sentence.strip() and not starts_with_unit(strip_request(text)[0]):
        # The lead-in went on past its first comma ("Trên cơ sở đề nghị của UBND quận, huyện, Sở Xây dựng
        # chủ trì ..."): read on from the next comma after which a unit opens.
        for comma in re.finditer(r",\s+", text[:200]):
            if starts_with_unit(text[comma.end() :]):
                text = text[comma.end() :]
                break
    text = _CONDITION.sub("", text)
    asks = _ISSUER_ASKS.match(text)
    if asks:
        text = "Đề nghị " + text[asks.end() :] if "đề nghị" in asks.group(0).lower() else text[asks.end() :]
    explicit = bool(re.match(r"^(?:giao|đề\s+nghị|yêu\s+cầu)\s", text, re.IGNORECASE)) or bool(asks)
    body, requested = strip_request(text)
    body = re.sub(r"^(?:các\s+)?đồng\s+chí\s+", "", body, flags=re.IGNORECASE)
    if not starts_with_unit(body) or _COLLECTIVE.match(body):
        return None
    names = unit_list_at(body)
    if not names:
        return None
    end = body.find(names[-1]) + len(names[-1])
    for position in [m.start() for m in re.finditer(r"\n", body[:end])]:
        if opens_with_verb(body[position + 1 :]) or _MODAL.match(body[position + 1 :]):
            end = position
            break
    body = body.replace("\n", " ")
    rest = body[end:].lstrip(" ,")
    rest = re.sub(r"^\([^()]*\)\s*", "", rest)  # "UBND các xã (Chủ tịch UBND) chỉ đạo ..."
    # After "Giao"/"Đề nghị" the assignment is explicit: any lower-case predicate is the duty ("dự toán đầy đủ").
    acts = opens_with_verb(rest) or _MODAL.match(rest) or (explicit and rest[:1].islower())
    if not rest or not acts or (closing and _CARRY_OUT.match(rest)):
        return None
    if _NOTIFIES.match(rest):
        return None
    if _ONLY_COORDINATE.match(rest) or re.match(r"^(?:chủ\s+trì|phối\s+hợp|thực\s+hiện)\s*:", rest, re.IGNORECASE):
        return None  # a coordinator only, or a label ("Cơ quan chủ trì: ...") read elsewhere
    if _ONLY_REPORT.match(rest) and not _WHEN.search(re.sub(r"theo\s+quy\s+định.*", "", sentence)):
        return None
    phrase = body[:end].strip(" ,")
    units = [split_alias(piece.strip(" ,"))[0] for piece in phrase.split(";") if piece.strip(" ,")]
    return units, requested, rest


# Words a name may be cut after by a line break ("... phối hợp với Trung tâm" / "Phục vụ hành chính công xã").
_NAME_OPENERS = {"trung", "tâm", "sở", "ban", "hội", "phòng", "ủy", "viện", "bộ", "cục", "và", "các", "của", "với",
                 "đồng", "văn", "liên", "đoàn", "chi", "tổng", "công", "về", "cho", "tại", "trên", "đến", "theo", "để"}


def _title_line(first: str, following: str) -> bool:
    """Tell whether an item's first line is its title, not the start of a sentence wrapped by the margin.

    It is when the next line opens a sentence of its own: a long paragraph, or a unit that is not the rest
    of a name cut at the line's end.
    """
    first = first.rstrip()
    words = first.split()
    if not words or len(words) > 15 or first.endswith((*_ENDS, "-", "–")) or first.count("(") != first.count(")"):
        return False
    if not following[:1].isupper() or words[-1].lower() in _NAME_OPENERS:
        return False
    return len(following) >= 150 or starts_with_unit(following)


def _without_heading(text: str, unit: str) -> str:
    """Drop the unit heading an item ("2. Phòng Tài chính - Kế hoạch" / "Tham mưu ..."): it is not a sentence."""
    words = unit.split()
    if not words:
        return text
    heading = re.search(r"\s+".join(re.escape(word) for word in words), text[: 80 + len(unit)])
    return text[heading.end() :].lstrip(" :.-–\n") if heading else text


# The members a group heading covers: "Ủy ban MTTQ phường và các tổ chức chính trị - xã hội" covers "Đoàn
# Thanh niên phường"; "Các phòng, ban, ngành" covers "Phòng Y tế".
_GROUPS = [
    (re.compile(r"tổ chức chính trị|đoàn thể|hội đoàn thể|tổ chức thành viên", re.IGNORECASE),
     re.compile(r"^(?:hội|đoàn|liên đoàn|công đoàn|mặt trận|ủy ban mặt trận|ủy ban mttq|ubmttq|huyện đoàn|tỉnh đoàn"
                r"|thành đoàn|chi hội|chi đoàn)\b", re.IGNORECASE)),
    (re.compile(r"\b(?:các\s+)?(?:phòng|ban|ngành|sở)\b(?:,|\s+ban|\s+ngành)", re.IGNORECASE),
     re.compile(r"^(?:phòng|ban|sở)\b", re.IGNORECASE)),
    (re.compile(r"các\s+(?:thôn|tổ\s+dân\s+phố|khu\s+phố|ấp|bản)", re.IGNORECASE),
     re.compile(r"^(?:thôn|tổ\s+dân\s+phố|khu\s+phố|ấp|bản|trưởng\s+thôn)\b", re.IGNORECASE)),
]


_HEAD_OF = re.compile(r"^(?:chủ\s+tịch|phó\s+chủ\s+tịch|thủ\s+trưởng|giám\s+đốc|trưởng)\s+", re.IGNORECASE)


def _covered_by(unit: str, owner: str) -> bool:
    """Tell whether `unit` is the item's own unit, its head ("Chủ tịch UBND các xã"), or a member of the group
    the item is headed by."""
    owner = re.sub(r"\s*\([^()]*\)", "", owner)  # "Công chức VHXH (theo dõi LĐTB&XH)" is "Công chức VHXH"
    if unit_similarity(unit, owner) >= _SAME_UNIT or unit_similarity(_HEAD_OF.sub("", unit), owner) >= _SAME_UNIT:
        return True
    return any(group.search(owner) and member.match(unit) for group, member in _GROUPS)


def _owner(node: Node, headed: dict[int, str]) -> str | None:
    for item in [node, *node.ancestors()]:
        if id(item) in headed:
            return headed[id(item)]
    return None


def subject_drafts(root: Node, existing: list[TaskDraft], taken: set[int], headed: dict[int, str]) -> list[TaskDraft]:
    """Tasks for units that open a sentence with an action verb, where no other rule found them.

    `headed` maps the id of an item headed by a unit to that unit: sentences about the same unit in it
    belong to its task. `taken` holds nodes another rule read whole (label lists, tables).
    """
    known = [(draft.section, draft.unit) for draft in existing]
    drafts: list[TaskDraft] = []
    for node in root.walk():
        checkpoint()
        if id(node) in taken or node.style[0] == "root" or not node.lines:
            continue
        if node.kind in _DESCRIPTIVE or any(a.kind in _DESCRIPTIVE and a.style[0] == "roman" for a in node.ancestors()):
            continue
        lines = node.lines[1:] if node.style[0] == "roman" else node.lines
        owner = _owner(node, headed)
        if node.style[0] in ("dec", "alpha", "paren") and len(lines) > 1 and _title_line(lines[0], lines[1]):
            lines = [f"{lines[0]}.", *lines[1:]]  # an item's title line ("2. Lập kế hoạch chi ...") ends there
        text = "\n".join(lines)
        if id(node) in headed:
            text = _without_heading(text, headed[id(node)])
        # Unnumbered paragraphs and the reporting part close the document; a numbered item assigns.
        closing = node.style[0] in ("root", "roman", "note") or node.kind == "report"
        current: list[TaskDraft] = []
        for sentence in _clauses(text):
            found = subject_of(sentence, closing=closing)
            if found is None:
                for draft in current:  # a sentence without a subject goes on with the duty before it
                    draft.body = f"{draft.body} {sentence}"
                    draft.text = f"{draft.text} {sentence}"
                continue
            current = []
            units, requested, _rest = found
            for unit in units:
                if owner and _covered_by(unit, owner):
                    continue
                section = node.section()
                if any(s == section and unit_similarity(unit, u) >= _SAME_UNIT for s, u in known):
                    continue
                if is_generic(unit) and any(s == section for s, _u in known):
                    continue  # "Các địa phương ..." beside the unit the section assigns: not a task of its own
                draft = TaskDraft(section, part_label(node), unit, sentence, requested, origin="sentence")
                draft.body = sentence  # with its lead-in: "Hằng năm, các sở ... xây dựng dự toán" recurs
                drafts.append(draft)
                known.append((section, unit))
                current.append(draft)
    for draft in drafts:
        draft.coordinating = find_coordinating(draft.body, draft.unit)
        draft.report_to = find_report_to(draft.body, draft.unit)
    return drafts
