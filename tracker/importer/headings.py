"""Units that head an item: "2.6. Trạm Y tế xã", "3. Sở Tài chính: Tham mưu ...", "4. Đề nghị Hội LHPN huyện, ...".

PDF text breaks a heading anywhere, so a heading may run over several lines: inside a parenthesis, after
a connector ("Thương binh và" / "Xã hội"), in the middle of a standard name ("Hội Liên hiệp" / "Phụ nữ
huyện"), or after an org noun that needs its own name ("Viện" / "Kiểm sát nhân dân tỉnh"). The heading
ends where the item's duties begin: a colon, a dash before a verb, or a line that reads as a sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracker.importer.sections import Node
from tracker.importer.textnorm import lower_key
from tracker.importer.unitphrase import (
    find_units,
    has_verb,
    head_length_of,
    opens_with_verb,
    split_alias,
    starts_with_unit,
    strip_request,
    unit_list_at,
)
from tracker.importer.vocabulary import NAME_CONTINUATIONS, STOPS

_DASH_SPLIT = re.compile(r"\s+[-–]\s+(?=(?:Chủ trì|Phối hợp|Tham mưu|Thực hiện|Triển khai|Chịu|Có trách)\b)")
_MAX_HEADING_WORDS = 25


@dataclass(frozen=True)
class Heading:
    """A unit found at the head of an item."""

    unit: str
    requested: bool
    aliases: list[str]
    rest: str = ""
    style: str = "line"  # "colon", "dash", "line" or "verb": how the name was set off


_PARENTHESIS = re.compile(r"\([^()]*\)")


def _words(text: str) -> int:
    """Count the words of a name, leaving out its parentheses ("Công an tỉnh (Cơ quan Thường trực ...)")."""
    return len(_PARENTHESIS.sub(" ", text).split())


def heading_unit(node: Node, *, verb_split: bool, by_siblings: bool = False) -> Heading | None:
    """Return the unit heading an item, if its heading is a unit name."""
    if not node.lines:
        return None
    first, requested = strip_request(node.lines[0])
    used = 1
    while used < len(node.lines) and first.count("(") > first.count(")"):
        # A line break inside "(theo dõi ...)" is not the end of the heading.
        first = f"{first} {node.lines[used]}"
        used += 1
    own = " ".join([first, *node.lines[used:]])
    unit_like = by_siblings or starts_with_unit(first)
    if not unit_like:
        return None
    colon = own.find(":")
    if colon > 0 and _words(own[:colon]) <= _MAX_HEADING_WORDS and not has_verb(own[:colon]):
        return _heading(own[:colon], requested, own[colon + 1 :], "colon")
    dashed = _DASH_SPLIT.split(own, maxsplit=1)
    if len(dashed) == 2 and _words(dashed[0]) <= _MAX_HEADING_WORDS and not has_verb(dashed[0]):
        return _heading(dashed[0], requested, dashed[1], "dash")
    if _words(first) <= 20 and not first.rstrip().endswith(".") and not has_verb(first):
        name = first
        wrapped_sentence = False
        for line in node.lines[used:]:
            # "(sau đây gọi tắt là" / "Ban Chỉ huy xã)"; "Công chức Văn hóa xã hội" / "(theo dõi ...)".
            open_paren = name.count("(") > name.count(")") or line.startswith("(")
            # The outline kept "- xã hội" and "- Xây dựng và Môi trường" as wrapped lines, not bullets.
            lower = line[:1].islower() or line[:1] in "-–—"
            if not open_paren and not lower and not _heading_continues(name, line):
                if _cut_before_name(name, line):
                    wrapped_sentence = True  # "Tòa án nhân dân tỉnh, Viện" / "Kiểm sát ... phối hợp ..."
                break
            # The verb test reads the line in context: "Giáo dục" + "thường xuyên huyện" is a name.
            if _words(name + " " + line) > _MAX_HEADING_WORDS or (not open_paren and has_verb(f"{name} {line}")):
                # The first line was the start of a sentence ("Mặt trận ... các cấp tăng / cường ...").
                wrapped_sentence = True
                break
            name = f"{name} {line}"
            used += 1
        if not wrapped_sentence:
            return _heading(name, requested, " ".join(node.lines[used:]))
    if verb_split and not by_siblings:
        names = unit_list_at(own)
        if names:
            # "Hội LHPN huyện, Huyện đoàn phối hợp ...": the heading names every unit before the verb.
            end = own.find(names[-1]) + len(names[-1])
            if _words(own[:end]) < _words(own):
                return _heading(own[:end], requested, own[end:], "verb")
    return None


_CONNECTOR_END = re.compile(r"(?:\s(?:và|của|các|thuộc)|[-–,&])$")


def _heading_continues(name: str, line: str) -> bool:
    """Tell whether a capitalised `line` continues a unit name wrapped mid-name.

    "Công chức Lao động - Thương binh và" + "Xã hội", or "Ủy ban Mặt trận Tổ quốc Việt" + "Nam tỉnh ...":
    the name ends on a connector or a proper name, and the next line is a bare name, not a sentence.
    """
    if _CONNECTOR_END.search(name.rstrip()) or _standard_name_goes_on(name, line):
        return not has_verb(line)
    last = name.split()[-1] if name.split() else ""
    first = lower_key(line.split()[0]) if line.split() else ""
    return (
        (last[:1].isupper() or _name_runs_on(name, line))
        # "... thuộc Sở" + "Theo chức năng, nhiệm vụ được": a function word opens the duties, not a name.
        and first not in STOPS
        and not opens_with_verb(line)
        and not has_verb(line)
        and not line.rstrip().endswith((".", ";", ":"))
        and _words(line) <= 10
        and not starts_with_unit(line)
    )


def _standard_name_goes_on(name: str, line: str) -> bool:
    """Tell whether a line break cut a standard name: "Ủy ban Mặt trận Tổ quốc" + "Việt Nam tỉnh ..."."""
    end, start = lower_key(name), lower_key(line)
    return any(end.endswith(last) and start.startswith(nxt) for last, nxt in NAME_CONTINUATIONS)


def _cut_before_name(name: str, line: str) -> bool:
    """Tell whether `name` ends with an org noun whose own name is on the next line (", Viện" + "Kiểm sát")."""
    words = name.split()
    for count in (1, 2, 3):
        before = words[-count - 1] if len(words) > count else ""
        starts_unit = not before or before.endswith(",") or before.lower() in ("và", "&")
        tail = " ".join(words[-count:])
        # "Viện", "Sở" need a name after them; "Tỉnh đoàn" is a whole unit already.
        if starts_unit and not head_length_of(tail) and head_length_of(f"{tail} {line}") == count:
            return True
    return False


def _name_runs_on(name: str, line: str) -> bool:
    """Tell whether a unit named in `name` goes on into `line` ("Hội Liên hiệp" + "Phụ nữ huyện, ...").

    The rest of a name is mostly capitalised words ("Hương Trà, Trường THCS Hương Trà") and never opens
    with a function word ("Theo chức năng, nhiệm vụ ..." starts the duties).
    """
    words = line.split()
    if not words or lower_key(words[0]) in STOPS or sum(w[:1].isupper() for w in words) * 2 < len(words):
        return False
    return any(start < len(name) < end for _unit, start, end in find_units(f"{name} {line}"))


def _heading(name: str, requested: bool, rest: str, style: str = "line") -> Heading | None:
    unit, aliases = split_alias(name)
    return Heading(unit, requested, aliases, rest.strip(), style) if unit else None


def sibling_units(parent: Node, verb_split: bool) -> set[int]:
    """Find items that are units because most of their siblings are ("2.8. Công chứ Tư pháp")."""
    groups: dict[tuple[str, int], list[Node]] = {}
    for child in parent.children:
        groups.setdefault(child.style, []).append(child)
    extra: set[int] = set()
    for siblings in groups.values():
        headed = [s for s in siblings if heading_unit(s, verb_split=verb_split)]
        if len(headed) < 2 or len(headed) * 2 < len(siblings):
            continue
        for sibling in siblings:
            if sibling in headed or not sibling.lines:
                continue
            first = sibling.lines[0]
            short = _words(first) <= 8 and not first.rstrip().endswith(".") and not has_verb(first)
            if short and (sibling.children or len(sibling.lines) > 1):
                extra.add(id(sibling))
    return extra
