"""Plain text (as extracted from PDFs): decoding and line splitting."""

from __future__ import annotations

import codecs

from tracker.importer import errors
from tracker.importer.readers.base import Block, Document
from tracker.importer.textnorm import clean_line, nfc

_CONTROL_OK = {"\n", "\r", "\t", "\f", "\v"}


def _looks_utf16(data: bytes) -> str | None:
    """Guess UTF-16 without a BOM from the zero bytes of ASCII characters."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0) / max(1, len(sample[0::2]))
    odd = sample[1::2].count(0) / max(1, len(sample[1::2]))
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


def decode_text(data: bytes) -> str:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16, else Windows-1258; return NFC."""
    if data.startswith(codecs.BOM_UTF8):
        text = data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    elif b"\x00" in data[:4096]:
        encoding = _looks_utf16(data)
        if not encoding:
            raise errors.unsupported_format("tệp nhị phân")
        text = data.decode(encoding, errors="replace")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Older Vietnamese Windows files; cp1258 writes tones as combining marks, NFC recomposes.
            text = data.decode("cp1258", errors="replace")
    _reject_binary(text)
    return nfc(text)


def _reject_binary(text: str) -> None:
    sample = text[:20000]
    if not sample:
        return
    bad = sum(1 for c in sample if (ord(c) < 32 and c not in _CONTROL_OK) or c == "\ufffd")
    letters = sum(1 for c in sample if c.isalpha())
    if bad / len(sample) > 0.02 or letters / len(sample) < 0.3:
        raise errors.unsupported_format("tệp nhị phân hoặc mã hóa không nhận ra")


def read_text(data: bytes) -> Document:
    """Read a .txt plan into one block per non-empty line."""
    text = decode_text(data).replace("\f", "\n")
    blocks = [Block(line) for line in (clean_line(raw) for raw in text.splitlines()) if line]
    if not blocks:
        raise errors.no_text()
    return Document(blocks, "txt")
