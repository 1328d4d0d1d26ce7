"""Checking an uploaded attachment: a name we can store, a size we accept, content that is what it claims.

The client's file name and content type are not trusted: the extension must be allowed, the bytes must
start as that kind of file does, and the stored content type is derived from the extension.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from tracker.operations.errors import ValidationFailed

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc / .xls
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # .docx, .xlsx, .odt, .ods and .zip are zip containers

#: extension -> (content type we serve it as, accepted leading bytes; None: checked as text).
KNOWN_TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "doc": ("application/msword", (_OLE2,)),
    "xls": ("application/vnd.ms-excel", (_OLE2,)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    "odt": ("application/vnd.oasis.opendocument.text", _ZIP),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", _ZIP),
    "zip": ("application/zip", _ZIP),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "txt": ("text/plain; charset=utf-8", None),
}
_TEXT_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16 text legitimately holds NUL bytes


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    content: bytes


def check_upload(filename: str | None, content: bytes, *, allowed: set[str], max_bytes: int) -> CheckedFile:
    """Return the file with a safe name and a derived content type, or raise ValidationFailed."""
    name = _clean_name(filename)
    if not content:
        raise ValidationFailed(_l("The file %(name)s is empty."), field="attachments", name=name)
    if len(content) > max_bytes:
        raise ValidationFailed(_l("The file %(name)s is larger than %(mb)s MB."), field="attachments", name=name,
                               mb=max_bytes // (1024 * 1024))
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in allowed:
        raise ValidationFailed(_l("Files of type .%(ext)s are not accepted."), field="attachments",
                               ext=extension or "?")
    content_type, signatures = KNOWN_TYPES.get(extension, ("application/octet-stream", ()))
    if not _looks_like(content, signatures):
        raise ValidationFailed(_l("The file %(name)s is not a real .%(ext)s file."), field="attachments",
                               name=name, ext=extension)
    return CheckedFile(name, content_type, content)


def _clean_name(filename: str | None) -> str:
    # Keep only the last path component: "..\\..\\boot.ini" and "/etc/passwd" become plain names.
    name = unicodedata.normalize("NFC", (filename or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):  # control and direction-override characters
        raise ValidationFailed(_l("A file name contains characters that are not allowed."), field="attachments")
    if not name or not name.rsplit(".", 1)[0].strip(" ."):
        raise ValidationFailed(_l("The file has no name."), field="attachments")
    if len(name) > 255:  # keep the extension, shorten the stem
        stem, _, extension = name.rpartition(".")
        name = f"{stem[: 254 - len(extension)]}.{extension}" if stem else name[:255]
    return name


def _looks_like(content: bytes, signatures: tuple[bytes, ...] | None) -> bool:
    if signatures is None:  # text: no NUL bytes unless it is UTF-16 with its byte-order mark
        return content.startswith(_TEXT_BOMS) or b"\x00" not in content[:65536]
    if not signatures:  # an extension an admin allowed that we know nothing about
        return True
    return content.startswith(signatures)
