"""Vietnamese syllables: tell a whole written syllable from a fragment that OCR split off one.

Scanned documents come back with spaces inside words ("ỦY B AN NHÂN D Â N", "T hủ tướ ng"). Vietnamese
writes one syllable per word, and a syllable has a fixed shape: an optional initial consonant, a rhyme
(vowel nucleus and optional final) and at most one tone mark. A fragment such as "B", "tướ" or "nh" has
no such shape, so it can only be part of a neighbouring word.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from functools import lru_cache

# Tone marks (grave, acute, hook above, tilde, dot below). The circumflex, breve and horn that make
# â ă ê ô ơ ư are letters of their own and stay.
_TONES = {"\u0300", "\u0301", "\u0309", "\u0303", "\u0323"}
_INITIALS = (
    "ngh", "ng", "gh", "gi", "kh", "nh", "ph", "th", "tr", "ch", "qu",
    "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
)
# The rhymes (vowel nucleus and final) Vietnamese spelling allows, tone marks left out.
_RHYME_TEXT = """
a ai ao au ay ac ach am an ang anh ap at
ăc ăm ăn ăng ăp ăt
âc âm ân âng âp ât âu ây
e eo ec em en eng ep et
ê êch êm ên ênh êp êt êu
i ia iu ich im in inh ip it iêc iêm iên iêng iêp iêt iêu
o oa oai oao oay oac oach oam oan oang oanh oap oat oăc oăm oăn oăng oăt oe oeo oen oet
oi oc om on ong op ot ooc oong
ô ôi ôc ôm ôn ông ôp ôt
ơ ơi ơm ơn ơp ơt
u ua uân uât uây uâng ui uc um un ung up ut uê uênh uêch uy uya uych uyên uyêt uynh uyt uyu
uôc uôi uôm uôn uông uôt uơ
ư ưa ưi ưu ưc ưm ưn ưng ưt ươc ươi ươm ươn ương ươp ươt ươu
y yêm yên yêt yêu
"""
_RHYMES = frozenset(_RHYME_TEXT.split())
_LETTERS = re.compile(r"^[^\W\d_]+$")


def _toneless(word: str) -> tuple[str, int]:
    """Return the word without tone marks, lower-cased, and how many tone marks it carried."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = sum(1 for char in decomposed if char in _TONES)
    bare = "".join(char for char in decomposed if char not in _TONES)
    return unicodedata.normalize("NFC", bare), tones


@lru_cache(maxsize=65536)
def is_syllable(word: str) -> bool:
    """Tell whether `word` is one well-formed Vietnamese syllable ("Nhân", "tướng", "y"; not "B", "tướ")."""
    if not word or not _LETTERS.match(word):
        return False
    bare, tones = _toneless(word)
    if tones > 1:
        return False
    for initial in _INITIALS:
        if bare.startswith(initial) and bare[len(initial):] in _RHYMES:
            rhyme = bare[len(initial):]
            # "qu" carries its own "u": "quy", "quân"; "gi" may stand before "a", "ư", "ê"...
            if initial == "qu" and rhyme.startswith(("u", "y")) and rhyme not in ("y", "yêt", "yên", "ynh"):
                continue
            return True
    return False


# One-letter words of the language ("y tế", "thú y", "ở", "ý kiến"); any other lone letter is a fragment.
_ONE_LETTER_WORDS = frozenset(["y", "ý", "ở", "ô", "ồ", "ơ", "à", "ạ", "ừ"])


def _weak(word: str) -> bool:
    """Tell whether `word` cannot stand on its own: not a syllable, or a lone letter (OCR's favourite split)."""
    if len(word) == 1:
        return word.lower() not in _ONE_LETTER_WORDS
    return not is_syllable(word)


_MAX_PIECES = 6


def document_lexicon(lines: list[str]) -> frozenset[str]:
    """The syllables a document writes whole somewhere: its own spelling list for rejoining fragments."""
    return frozenset(
        word.lower() for line in lines for word in line.split(" ") if len(word) > 1 and is_syllable(word)
    )


def _group_cost(pieces: list[str], lexicon: frozenset[str]) -> float | None:
    """The cost of reading `pieces` as one word; None when they cannot be one.

    A lone fragment costs 1; a lone syllable nothing, or a little when the document never writes it
    elsewhere ("ại"). Pieces joined must make a syllable, hold a fragment and keep their case; absorbing a
    whole syllable costs a little ("HỒ C" is "HỒ" then "C...", not "HỒC"), and so does a joined word the
    document never writes whole ("Thà nhủy" loses to "Thành ủy").
    """
    unknown = 0.0 if not lexicon or "".join(pieces).lower() in lexicon else 0.2
    if len(pieces) == 1:
        return 1.0 if _weak(pieces[0]) else unknown * 0.75
    weak = [_weak(piece) for piece in pieces]
    if not any(weak) or not all(_same_case(a, b) for a, b in itertools.pairwise(pieces)):
        return None
    if not is_syllable("".join(pieces)):
        return None
    return 0.1 * weak.count(False) + unknown


def _segment(run: list[str], lexicon: frozenset[str]) -> list[str]:
    """Split a run of letter-only words into the cheapest sequence of words (dynamic programming)."""
    best: list[tuple[float, int]] = [(0.0, 0)] + [(float("inf"), 0)] * len(run)
    for end in range(1, len(run) + 1):
        for size in range(1, min(_MAX_PIECES, end) + 1):
            cost = _group_cost(run[end - size : end], lexicon)
            if cost is not None and best[end - size][0] + cost < best[end][0]:
                best[end] = (best[end - size][0] + cost, size)
    out: list[str] = []
    end = len(run)
    while end:
        size = best[end][1]
        out.append("".join(run[end - size : end]))
        end -= size
    return out[::-1]


def _may_join(words: list[str]) -> bool:
    """Tell cheaply whether any fragment could join a neighbour into a syllable (most lines: none could)."""
    cores = [m.group(1) if (m := _CORE.match(w)) else "" for w in words]
    for index, core in enumerate(cores):
        if not core or not _weak(core):
            continue
        before = cores[index - 1] if index else ""
        after = cores[index + 1] if index + 1 < len(cores) else ""
        if (before and is_syllable(before + core)) or (after and is_syllable(core + after)):
            return True
        if after and index + 2 < len(cores) and cores[index + 2] and is_syllable(core + after + cores[index + 2]):
            return True
    return False


def join_split_syllables(text: str, lexicon: frozenset[str] = frozenset()) -> str:
    """Rejoin syllables that OCR split with spaces ("ỦY B AN" -> "ỦY BAN", "t ỉ nh" -> "tỉnh").

    Fragments are joined only into a well-formed syllable, and only where one of them cannot stand alone,
    so ordinary text (every word a syllable), abbreviations ("UBND") and numbers are left as they are.
    `lexicon` (`document_lexicon`) breaks ties toward words the document writes whole elsewhere.
    """
    words = text.split(" ")
    if len(words) < 2 or not _may_join(words):
        return text
    out: list[str] = []
    run: list[str] = []
    for word in words:
        core = _CORE.match(word)
        if core is None:
            out.extend(_segment(run, lexicon))
            run = []
            out.append(word)
            continue
        run.append(core.group(1))
        if core.group(2):  # "nh;" ends the run: the mark stays after the word it closes
            out.extend(_segment(run, lexicon))
            out[-1] += core.group(2)
            run = []
    out.extend(_segment(run, lexicon))
    return " ".join(out)


# A word of letters, then any closing punctuation ("inh,", "nh;", "i)").
_CORE = re.compile(r"^([^\W\d_]+)([,;:.!?)\]]*)$")


def _same_case(first: str, following: str) -> bool:
    """A word goes on in its own case: "B AN" and "T hủ" join, "hộ I" (a lower word, a capital) does not."""
    return not (first[-1:].islower() and following[:1].isupper())
