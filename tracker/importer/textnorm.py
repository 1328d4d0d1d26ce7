"""Small text helpers shared by the readers and the extractor."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u3000]+")

# Old-style ("hoá", "uỷ") and new-style ("hóa", "ủy") tone placement are both in use; compare on one.
_TONE_MOVES = {
    "oá": "óa",
    "oà": "òa",
    "oả": "ỏa",
    "oã": "õa",
    "oạ": "ọa",
    "oé": "óe",
    "oè": "òe",
    "oẻ": "ỏe",
    "oẽ": "õe",
    "oẹ": "ọe",
    "uý": "úy",
    "uỳ": "ùy",
    "uỷ": "ủy",
    "uỹ": "ũy",
    "uỵ": "ụy",
}
# Only an open syllable moves its mark ("hoá" -> "hóa"); "đoàn" and "toán" are written one way, and
# the "u" of "qu" is part of the consonant ("quý").
_TONE_RE = re.compile(r"(?<![qQ])(?:" + "|".join(_TONE_MOVES) + r")(?![^\W\d_])")


def nfc(text: str) -> str:
    """Return `text` in Unicode NFC, the form Vietnamese text is compared in."""
    return unicodedata.normalize("NFC", text)


def clean_line(text: str) -> str:
    """Collapse runs of spaces (PDF extraction leaves many) and strip the ends."""
    return _SPACES.sub(" ", text).strip()


def collapse(text: str) -> str:
    """Collapse all whitespace, newlines included, to single spaces."""
    return " ".join(text.split())


def fold_tones(text: str) -> str:
    """Move tone marks to the new-style position so "hoá" and "hóa" compare equal."""
    return _TONE_RE.sub(lambda m: _TONE_MOVES[m.group(0)], text)


def fold_dashes(text: str) -> str:
    """Turn en and em dashes (and the minus sign) into a plain hyphen."""
    return text.replace("\u2013", "-").replace("\u2014", "-").replace("\u2212", "-")


def lower_key(text: str) -> str:
    """Lower-case, NFC, tone-folded, dash-folded and space-collapsed: the key for keyword tests."""
    return collapse(fold_dashes(fold_tones(nfc(text).lower())))


def is_mostly_upper(text: str, threshold: float = 0.8) -> bool:
    """Tell whether the letters of `text` are mostly capitals (headings such as "V. TỔ CHỨC THỰC HIỆN")."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 3:
        return False
    return sum(1 for c in letters if c.isupper()) / len(letters) >= threshold


def title_case_name(text: str) -> str:
    """Turn an upper-case place name ("CAO NGỌC") into its written form ("Cao Ngọc")."""
    return " ".join(word[:1].upper() + word[1:].lower() for word in text.split())
