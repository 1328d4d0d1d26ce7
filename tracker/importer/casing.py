"""Write an upper-case title as the document writes its words elsewhere.

Titles are set in capitals ("KẾ HOẠCH TRIỂN KHAI QUYẾT ĐỊNH SỐ 06/QĐ-TTG ... CỦA THỦ TƯỚNG CHÍNH PHỦ ... TỈNH ĐỒNG
NAI"); the body writes the same names in their own case ("Quyết định số 06/QĐ-TTg", "Thủ tướng Chính phủ",
"tỉnh Đồng Nai"). Each run of title words takes the spelling the body uses most for it, longest runs first;
words the body never writes keep lower case.
"""

from __future__ import annotations

import re
from collections import Counter

_WORD = re.compile(r"[^\s,;:.()“”\"]+")
_MAX_RUN = 5


def _spellings(reference: str, wanted: set[tuple[str, ...]]) -> dict[tuple[str, ...], Counter[tuple[str, ...]]]:
    """Count how the mixed-case text spells each run of the title's words (`wanted`, lower-cased), sentence
    starts left out."""
    firsts = {run[0] for run in wanted}
    seen: dict[tuple[str, ...], Counter[tuple[str, ...]]] = {}
    for line in reference.splitlines():
        if not line.strip() or sum(c.isupper() for c in line) > 0.6 * sum(c.isalpha() for c in line):
            continue  # another upper-case line teaches nothing
        words = [(m.group(0), m.start()) for m in _WORD.finditer(line)]
        lowered = [w.lower() for w, _ in words]
        for i, first in enumerate(lowered):
            if first not in firsts:
                continue
            before = line[: words[i][1]].rstrip()
            if not before or before.endswith((".", ":", ";", "-", "–", "(", "“", '"')):
                continue  # a sentence or item starts here: its capital says nothing about the word
            for n in range(1, _MAX_RUN + 1):
                key = tuple(lowered[i : i + n])
                if len(key) < n or key not in wanted:
                    break
                seen.setdefault(key, Counter())[tuple(w for w, _ in words[i : i + n])] += 1
    return seen


def restore_case(upper: str, reference: str) -> str:
    """Return `upper` (a title in capitals) in the spelling `reference` uses, else lower case."""
    words = _WORD.findall(upper)
    if not words:
        return upper
    lowered = [word.lower() for word in words]
    wanted = {tuple(lowered[i : i + n]) for n in range(1, _MAX_RUN + 1) for i in range(len(lowered) - n + 1)}
    spellings = _spellings(reference, wanted)
    out: list[str] = [word.lower() for word in words]
    i = 0
    while i < len(words):
        for n in range(min(_MAX_RUN, len(words) - i), 0, -1):
            key = tuple(w.lower() for w in words[i : i + n])
            counts = spellings.get(key)
            if counts:
                best = counts.most_common(1)[0][0]
                out[i : i + n] = list(best)
                i += n
                break
        else:
            i += 1
    # Put the words back in the title's own punctuation and spacing.
    result, position = [], 0
    for word, match in zip(out, _WORD.finditer(upper), strict=True):
        result.append(upper[position : match.start()])
        result.append(word)
        position = match.end()
    result.append(upper[position:])
    return "".join(result)
