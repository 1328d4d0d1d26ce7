"""DOCX plans: paragraphs and table rows in document order, auto-numbering rendered as text.

A .docx is a zip: its declared sizes are checked before anything is decompressed, and Python's zipfile
never inflates a member past its declared size, so a zip bomb is refused cheaply. Within those limits a
document can still inflate to hundreds of MB of XML, so the parts are streamed (docx_body, docx_numbering)
rather than loaded whole as python-docx would: memory stays within tens of MB and time is linear in the
size of the XML, checked against the import's time budget as it goes.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass
from typing import IO

from lxml import etree

from tracker.importer import errors
from tracker.importer.budget import Deadline
from tracker.importer.readers.base import Document, Limits
from tracker.importer.readers.docx_body import BodyReader
from tracker.importer.readers.docx_numbering import Numbering

_MAX_MEMBERS = 5000
_BIG_MEMBER = 10 * 1024 * 1024
#: numbering.xml and styles.xml of real documents are well under 1 MB; past this they are skipped.
_MAX_SIDE_PART = 8 * 1024 * 1024
_MAX_RELATIONSHIPS = 1024 * 1024
_MAIN = "word/document.xml"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def check_zip(data: bytes, limits: Limits) -> None:
    """Refuse a zip that is corrupt, is not a DOCX, or would inflate abnormally."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise errors.corrupt("docx", str(exc)) from exc
    with archive:
        members = archive.infolist()
        if len(members) > _MAX_MEMBERS:
            raise errors.zip_bomb(f"{len(members)} members")
        total = sum(m.file_size for m in members)
        if total > limits.max_unzipped:
            raise errors.zip_bomb(f"{total} bytes uncompressed")
        for member in members:
            ratio = member.file_size / max(1, member.compress_size)
            if member.file_size > _BIG_MEMBER and ratio > limits.max_ratio:
                raise errors.zip_bomb(f"{member.filename}: ratio {ratio:.0f}")
        if _MAIN not in archive.namelist():
            raise errors.unsupported_format("tệp ZIP nhưng không phải DOCX")


def read_docx(data: bytes, limits: Limits, deadline: Deadline | None = None) -> Document:
    """Read a .docx into blocks: each paragraph line, and each table row with its cells."""
    check_zip(data, limits)
    deadline = deadline or Deadline(limits.time_limit)
    warnings: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = _locate_parts(archive)
        numbering = Numbering()
        side_parts = (
            (parts.numbering, numbering.load_numbering, "số thứ tự tự động của các mục (1., a), -)"),
            (parts.styles, numbering.load_styles, "số thứ tự tự động theo kiểu đoạn (Heading, List Number)"),
        )
        for name, load, lost in side_parts:
            if name is None:
                continue
            if archive.getinfo(name).file_size > _MAX_SIDE_PART:
                warnings.append(f"Phần {name} của tệp DOCX lớn bất thường nên đã bỏ qua: {lost} không được đọc.")
                continue
            with _open(archive, name) as source:
                load(source, deadline)
        with _open(archive, parts.document) as source:
            blocks = BodyReader(limits, numbering).read(source, deadline)
    if not blocks:
        raise errors.no_text()
    return Document(blocks, "docx", warnings=warnings)


def _open(archive: zipfile.ZipFile, name: str) -> IO[bytes]:
    try:
        return archive.open(name)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, ValueError) as exc:
        raise errors.corrupt("docx", f"{name}: {exc!r}") from exc


@dataclass(frozen=True)
class _Parts:
    document: str
    numbering: str | None
    styles: str | None


def _locate_parts(archive: zipfile.ZipFile) -> _Parts:
    """Find the main document and its numbering and styles parts through the package relationships."""
    names = set(archive.namelist())
    main = _relationships(archive, "_rels/.rels", "").get("officeDocument")
    if main not in names:
        main = _MAIN
    folder, base = posixpath.split(main)
    rels_name = posixpath.join(folder, "_rels", f"{base}.rels")
    if rels_name in names:
        targets = _relationships(archive, rels_name, folder)
        numbering, styles = targets.get("numbering"), targets.get("styles")
    else:
        numbering, styles = "word/numbering.xml", "word/styles.xml"
    return _Parts(main, numbering if numbering in names else None, styles if styles in names else None)


def _relationships(archive: zipfile.ZipFile, name: str, folder: str) -> dict[str, str]:
    """Map relationship kinds ("styles", "numbering"...) to the zip names of their internal targets."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return {}
    if info.file_size > _MAX_RELATIONSHIPS:
        return {}
    with _open(archive, name) as source:
        try:
            content = source.read()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise errors.corrupt("docx", f"{name}: {exc!r}") from exc
    try:
        root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    except etree.XMLSyntaxError as exc:
        raise errors.corrupt("docx", f"{name}: {exc}") from exc
    targets: dict[str, str] = {}
    for relationship in root.iter(_REL):
        kind = (relationship.get("Type") or "").rsplit("/", 1)[-1]
        target = relationship.get("Target") or ""
        if relationship.get("TargetMode") == "External" or not target or kind in targets:
            continue
        path = target[1:] if target.startswith("/") else posixpath.join(folder, target)
        targets[kind] = posixpath.normpath(path)
    return targets
