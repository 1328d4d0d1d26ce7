"""Readers turn an uploaded file into ordered text blocks, detecting the format by content."""

from __future__ import annotations

from tracker.importer import errors
from tracker.importer.budget import Deadline
from tracker.importer.readers.base import Block, Document, Limits
from tracker.importer.readers.text import read_text

__all__ = ["Block", "Document", "Limits", "detect_format", "read_document"]


def detect_format(data: bytes) -> str:
    """Name the format of `data` from its first bytes: "pdf", "docx" (any zip), "ole", "rtf" or "txt"."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "docx"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if data.lstrip().startswith(b"{\\rtf"):
        return "rtf"
    return "txt"


def read_document(
    data: bytes, filename: str = "", limits: Limits | None = None, deadline: Deadline | None = None
) -> Document:
    """Read an uploaded plan, whatever its extension says, within `limits` and the time `deadline`."""
    limits = limits or Limits()
    if not data or not data.strip():
        raise errors.empty_document()
    if len(data) > limits.max_bytes:
        raise errors.too_large(len(data), limits.max_bytes)
    kind = detect_format(data)
    if kind == "pdf":
        from tracker.importer.readers.pdf_reader import read_pdf

        document = read_pdf(data, limits, deadline)
    elif kind == "docx":
        from tracker.importer.readers.docx_reader import read_docx

        document = read_docx(data, limits, deadline)
    elif kind == "ole":
        raise errors.unsupported_format("tệp .doc/.xls cũ; hãy lưu lại thành .docx")
    elif kind == "rtf":
        raise errors.unsupported_format("tệp RTF; hãy lưu lại thành .docx")
    else:
        document = read_text(data)
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension in ("txt", "docx", "pdf") and extension != document.source_format:
        document.warnings.append(
            f"Tệp có đuôi .{extension} nhưng nội dung là {document.source_format.upper()}; đã đọc theo nội dung."
        )
    return document
