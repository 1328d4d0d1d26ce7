"""Word's automatic list numbers ("1.", "a)", "-"), which are not part of a paragraph's text.

The definitions come from word/numbering.xml (abstract lists and the num ids that use them) and
word/styles.xml ("List Number" and heading styles carry their numbering in the style); both are
streamed, so a bloated part costs time, not memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

from tracker.importer.budget import Deadline
from tracker.importer.readers.docx_xml import VAL, XmlStream, drop_done, w

_LEVELS = 9  # Word lists have levels 0-8
_FUSE = 1024 * 1024  # one w:abstractNum or w:style holds a few KB of XML

_ROMAN = [
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
]


def _roman(value: int) -> str:
    out = ""
    for number, letters in _ROMAN:
        while value >= number:
            out += letters
            value -= number
    return out


def _format_counter(value: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        letter = chr(ord("a") + (value - 1) % 26)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in ("lowerRoman", "upperRoman"):
        roman = _roman(min(value, 4999))
        return roman.lower() if fmt == "lowerRoman" else roman
    if fmt == "decimalZero":
        return f"{value:02d}"
    return str(value)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _val(node: Any, tag: str) -> str | None:
    child = node.find(w(tag))
    return child.get(VAL) if child is not None else None


@dataclass(frozen=True)
class NumPr:
    """A paragraph's or style's list reference: the num id (None when absent) and the level."""

    num_id: str | None
    level: int


_NUM_PR = w("numPr")


def num_pr_of(ppr: Any) -> NumPr | None:
    """Return the w:numPr of a w:pPr element, or None."""
    num_pr = ppr.find(_NUM_PR)
    if num_pr is None:
        return None
    num_id = _val(num_pr, "numId")
    return NumPr(str(_int(num_id, 0)) if num_id is not None else None, _int(_val(num_pr, "ilvl"), 0))


@dataclass(frozen=True)
class _Style:
    num_pr: NumPr | None
    based_on: str | None


class Numbering:
    """Render the list label Word displays before each numbered body paragraph."""

    def __init__(self) -> None:
        self._levels: dict[str, dict[int, tuple[int, str, str]]] = {}
        self._counters: dict[str, list[int]] = {}
        self._styles: dict[str, _Style] = {}
        self._paragraph_styles: set[str] = set()
        self._default_style: str | None = None
        self._resolved: dict[str | None, NumPr | None] = {}  # style id -> the list reference it gives

    def load_numbering(self, source: IO[bytes], deadline: Deadline) -> None:
        """Read the list definitions of word/numbering.xml."""
        abstract: dict[str, dict[int, tuple[int, str, str]]] = {}
        uses: list[tuple[str, str]] = []
        stream = XmlStream(source, ("end",), [w("abstractNum"), w("num")], deadline, _FUSE)
        for _, node in stream:
            if node.tag == w("abstractNum"):
                levels = {}
                for lvl in node.iterchildren(w("lvl")):
                    level = _int(lvl.get(w("ilvl")), 0)
                    if 0 <= level < _LEVELS:
                        levels[level] = (
                            _int(_val(lvl, "start"), 1),
                            _val(lvl, "numFmt") or "decimal",
                            _val(lvl, "lvlText") or "",
                        )
                abstract[node.get(w("abstractNumId")) or ""] = levels
            else:
                ref = _val(node, "abstractNumId")
                if ref is not None:
                    uses.append((str(_int(node.get(w("numId")), -1)), ref))
            drop_done(node)
            stream.progress()
        for num_id, ref in uses:
            self._levels[num_id] = abstract.get(ref, {})

    def load_styles(self, source: IO[bytes], deadline: Deadline) -> None:
        """Read the numbering that paragraph styles carry, and which style is the default."""
        stream = XmlStream(source, ("end",), [w("style")], deadline, _FUSE)
        for _, node in stream:
            style_id = node.get(w("styleId"))
            if style_id is not None and style_id not in self._styles:  # the first of duplicates, as Word
                ppr = node.find(w("pPr"))
                self._styles[style_id] = _Style(num_pr_of(ppr) if ppr is not None else None, _val(node, "basedOn"))
                if node.get(w("type")) == "paragraph":
                    self._paragraph_styles.add(style_id)
                    if node.get(w("default")) in ("1", "true", "on"):
                        self._default_style = style_id  # the last default wins, as in python-docx
            drop_done(node)
            stream.progress()

    def _style_num_pr(self, style_id: str | None, own: NumPr | None) -> NumPr | None:
        # A paragraph without its own list number takes its style's, up the chain of base styles, as
        # python-docx resolves them: an unknown or non-paragraph style means the default style.
        if own is None and style_id in self._resolved:
            return self._resolved[style_id]
        num_pr = own
        style = style_id if style_id in self._paragraph_styles else self._default_style
        seen: set[str] = set()
        while (num_pr is None or num_pr.num_id is None) and style is not None and style not in seen:
            seen.add(style)
            definition = self._styles.get(style)
            if definition is None:
                break
            num_pr, style = definition.num_pr, definition.based_on
        if own is None:
            self._resolved[style_id] = num_pr
        return num_pr

    def label(self, num_pr: NumPr | None, style_id: str | None) -> str:
        """Return the label of the next paragraph with this numbering and style, advancing the counters."""
        if num_pr is None or num_pr.num_id is None:
            num_pr = self._style_num_pr(style_id, num_pr)
        if num_pr is None or num_pr.num_id is None:
            return ""
        levels = self._levels.get(num_pr.num_id)
        level = num_pr.level
        if not levels or level not in levels:
            return ""
        counters = self._counters.setdefault(num_pr.num_id, [0] * _LEVELS)
        start, fmt, text = levels[level]
        counters[level] = start if counters[level] == 0 else counters[level] + 1
        for deeper in range(level + 1, _LEVELS):
            counters[deeper] = 0
        if fmt in ("bullet", "none"):
            return "-" if fmt == "bullet" else ""
        for index in range(level + 1):
            lvl_start, lvl_fmt, _ = levels.get(index, (1, "decimal", ""))
            value = counters[index] or lvl_start
            text = text.replace(f"%{index + 1}", _format_counter(value, lvl_fmt))
        return text
