"""Attachments are what they claim: allowed extension, matching leading bytes, a storable name."""

from __future__ import annotations

import pytest

from tracker.operations.errors import ValidationFailed
from tracker.operations.uploads import check_upload

ALLOWED = {"pdf", "docx", "xls", "png", "jpg", "txt", "zip"}
LIMIT = 1024 * 1024


def _check(name: str, content: bytes):
    return check_upload(name, content, allowed=ALLOWED, max_bytes=LIMIT)


@pytest.mark.parametrize(("name", "content", "content_type"), [
    ("bao-cao.pdf", b"%PDF-1.7\n...", "application/pdf"),
    ("so-lieu.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "application/vnd.ms-excel"),
    ("bien-ban.docx", b"PK\x03\x04rest",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("anh.PNG", b"\x89PNG\r\n\x1a\nrest", "image/png"),
    ("anh.jpg", b"\xff\xd8\xff\xe0rest", "image/jpeg"),
    ("ghi-chu.txt", "Trạm Y tế báo cáo".encode(), "text/plain; charset=utf-8"),
    ("utf16.txt", "Báo cáo".encode("utf-16"), "text/plain; charset=utf-8"),
])
def test_real_files_are_accepted_with_a_content_type_from_their_extension(name, content, content_type):
    checked = _check(name, content)
    assert checked.filename == name and checked.content_type == content_type


@pytest.mark.parametrize(("name", "content"), [
    ("hoa-don.pdf", b"MZ\x90\x00 a Windows program"),
    ("bang.xls", b"<html><script>alert(1)</script>"),
    ("anh.png", b"GIF89a"),
    ("bao-cao.docx", b"%PDF-1.4 renamed"),
    ("ghi-chu.txt", b"MZ\x90\x00\x03\x00\x00\x00"),
])
def test_content_that_does_not_match_its_extension_is_refused(name, content):
    with pytest.raises(ValidationFailed) as caught:
        _check(name, content)
    assert caught.value.field == "attachments"


@pytest.mark.parametrize("name", [".pdf", " .pdf", "...pdf", "", "thu-muc/"])
def test_a_name_that_is_only_an_extension_is_refused(name):
    with pytest.raises(ValidationFailed):
        _check(name, b"%PDF-1.4")


@pytest.mark.parametrize("name", ["a\x00b.pdf", "hoa-don\u202efdp.pdf", "tab\there.pdf"])
def test_control_and_direction_characters_in_names_are_refused(name):
    with pytest.raises(ValidationFailed):
        _check(name, b"%PDF-1.4")


def test_directories_are_dropped_and_long_names_keep_their_extension():
    assert _check("..\\..\\windows\\báo cáo.pdf", b"%PDF-1.4").filename == "báo cáo.pdf"
    long = _check("x" * 400 + ".pdf", b"%PDF-1.4").filename
    assert len(long) == 255 and long.endswith(".pdf")
