"""Every user-facing text of tracker/ has a Vietnamese translation, and the compiled .mo matches the .po."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "tracker/translations/vi/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2),
            "lazy_ngettext": (1, 2), "_n": (1, 2)}


def _extracted_ids() -> set[str]:
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    ids = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def _entries(catalog: object) -> dict[str, object]:
    out: dict[str, object] = {}
    for m in catalog:  # type: ignore[attr-defined]
        if not m.id:
            continue
        key = m.id[0] if isinstance(m.id, (tuple, list)) else m.id
        out[key] = tuple(m.string) if isinstance(m.string, (tuple, list)) else m.string
    return out


def _po() -> dict[str, object]:
    with open(PO, "rb") as f:
        return _entries(read_po(f, locale="vi"))


def test_every_message_of_tracker_has_a_vietnamese_translation():
    translations = _po()
    missing = sorted(
        i for i in _extracted_ids()
        if not translations.get(i) or (isinstance(translations[i], tuple) and not all(translations[i]))
    )
    assert not missing, "Add these to messages.po (then pybabel compile):\n" + "\n".join(missing)


def test_compiled_catalog_is_up_to_date():
    with open(MO, "rb") as f:
        compiled = _entries(read_mo(f))
    source = {k: v for k, v in _po().items() if v and (not isinstance(v, tuple) or all(v))}
    assert compiled == source, "Run: .venv/bin/pybabel compile -d tracker/translations -D messages"
