"""Errors raised when a document cannot be read.

Every refusal carries a stable machine code, a Vietnamese message for the people who upload plans and
an English message for logs. The CLI prints the Vietnamese message; the web layer can choose.
"""

from __future__ import annotations


class DocumentError(Exception):
    """A document that cannot be imported: empty, corrupt, encrypted, too big, scanned..."""

    def __init__(self, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(message_vi)
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en

    def __str__(self) -> str:
        return self.message_vi

    def as_dict(self) -> dict[str, str]:
        """Return the error as a JSON-friendly dict."""
        return {"code": self.code, "message_vi": self.message_vi, "message_en": self.message_en}


def empty_document() -> DocumentError:
    """Refuse an empty upload."""
    return DocumentError("empty", "Tệp rỗng: không có nội dung để nhập.", "The file is empty.")


def too_large(size: int, limit: int) -> DocumentError:
    """Refuse a file over the size limit."""
    return DocumentError(
        "too_large",
        f"Tệp quá lớn ({size / 1048576:.1f} MB); giới hạn là {limit / 1048576:.0f} MB.",
        f"File too large ({size} bytes; limit {limit}).",
    )


def unsupported_format(detail: str = "") -> DocumentError:
    """Refuse a file that is not UTF-8 text, DOCX or a text-layer PDF."""
    suffix = f" ({detail})" if detail else ""
    return DocumentError(
        "unsupported_format",
        "Không nhận dạng được định dạng tệp. Chỉ hỗ trợ văn bản .txt (UTF-8), .docx và .pdf có lớp chữ" + suffix + ".",
        "Unrecognised file format; only UTF-8 text, .docx and text-layer .pdf are supported" + suffix + ".",
    )


def corrupt(kind: str, detail: str) -> DocumentError:
    """Refuse a damaged or truncated DOCX or PDF."""
    return DocumentError(
        f"corrupt_{kind}",
        f"Tệp {kind.upper()} bị hỏng hoặc không đầy đủ (có thể tải lên bị ngắt giữa chừng).",
        f"Corrupt or truncated {kind} file: {detail}",
    )


def encrypted_pdf() -> DocumentError:
    """Refuse a password-protected PDF."""
    return DocumentError(
        "encrypted_pdf",
        "Tệp PDF được bảo vệ bằng mật khẩu; hãy gỡ mật khẩu rồi tải lại.",
        "The PDF is password-protected.",
    )


def scanned_pdf() -> DocumentError:
    """Refuse a PDF without a text layer (it needs OCR)."""
    return DocumentError(
        "scanned_pdf",
        "Tệp PDF không có lớp chữ (bản scan/ảnh chụp), cần OCR trước khi nhập.",
        "The PDF has no text layer (a scan); it needs OCR first.",
    )


def scan_too_long(pages: int, limit: int) -> DocumentError:
    """Refuse to OCR a scan over the OCR page limit."""
    return DocumentError(
        "scan_too_long",
        f"Tệp là bản scan {pages} trang; chỉ nhận dạng chữ (OCR) tự động được tối đa {limit} trang. "
        "Hãy tải lên bản có lớp chữ (.docx hoặc PDF xuất từ Word), hoặc tách bản scan thành tệp nhỏ hơn.",
        f"The PDF is a scan of {pages} pages; OCR reads at most {limit}. Upload a text version (.docx or a PDF "
        "exported from Word), or split the scan.",
    )


def unreadable_scan() -> DocumentError:
    """OCR found (almost) no text on a scan."""
    return DocumentError(
        "unreadable_scan",
        "Tệp PDF là bản scan nhưng nhận dạng chữ (OCR) không đọc được nội dung; hãy scan lại rõ hơn "
        "(300 dpi, trang thẳng) hoặc tải lên bản .docx.",
        "The PDF is a scan, but OCR could not read its text; scan it again more clearly (300 dpi, straight "
        "pages) or upload the .docx.",
    )


def too_many_pages(pages: int, limit: int) -> DocumentError:
    """Refuse a PDF over the page limit."""
    return DocumentError(
        "too_many_pages",
        f"Tệp có {pages} trang, vượt giới hạn {limit} trang.",
        f"The document has {pages} pages; the limit is {limit}.",
    )


def too_slow(seconds: float) -> DocumentError:
    """Stop an import (reading and extracting) that overran its time budget."""
    limit = f"{seconds:g}"
    return DocumentError(
        "too_slow",
        f"Văn bản cần quá nhiều thời gian để đọc và phân tích (giới hạn {limit} giây) nên đã dừng; "
        "hãy tách văn bản thành các tệp nhỏ hơn.",
        f"Reading and extracting the document took longer than {limit} s and was stopped.",
    )


def _number(value: int) -> str:
    """Write a count as Vietnamese does, with dots between thousands (4.000.000)."""
    return f"{value:,}".replace(",", ".")


def too_long(chars: int, limit: int, *, partial: bool = False) -> DocumentError:
    """Refuse a text over the character limit (`partial`: reading stopped once `chars` passed it)."""
    if partial:
        count_vi, count_en = f"hơn {_number(limit)} ký tự", f"more than {limit} characters"
    else:
        count_vi, count_en = f"{_number(chars)} ký tự, giới hạn {_number(limit)}", f"{chars} characters; limit {limit}"
    return DocumentError(
        "too_long",
        f"Văn bản quá dài ({count_vi}); hãy tách thành các tệp nhỏ hơn.",
        f"The text is too long ({count_en}).",
    )


def too_many_blocks(limit: int) -> DocumentError:
    """Refuse a document with more paragraphs and table rows than a reader keeps."""
    return DocumentError(
        "too_many_blocks",
        f"Văn bản có quá nhiều đoạn văn và dòng bảng (hơn {_number(limit)}); hãy tách thành các tệp nhỏ hơn.",
        f"The document has more than {limit} paragraphs and table rows.",
    )


def too_many_cells(limit: int) -> DocumentError:
    """Refuse a DOCX table row with an impossible number of cells."""
    return DocumentError(
        "too_many_cells",
        f"Một bảng trong tệp DOCX có hàng gồm hơn {limit} ô (Word chỉ cho phép 63 cột); tệp bị hỏng hoặc "
        "bất thường nên đã bị từ chối.",
        f"A DOCX table row has more than {limit} cells (Word allows 63 columns).",
    )


def nested_too_deep() -> DocumentError:
    """Refuse a DOCX whose XML nests deeper than the parser allows (tables within tables...)."""
    return DocumentError(
        "too_deep",
        "Tệp DOCX có cấu trúc lồng nhau quá sâu (bảng lồng trong bảng quá nhiều tầng); hãy bỏ bớt các bảng lồng "
        "nhau rồi tải lại.",
        "The DOCX nests too deeply (tables within tables) for the XML parser.",
    )


def oversized_element(limit: int) -> DocumentError:
    """Refuse a DOCX with one paragraph or cell larger than any real document holds."""
    return DocumentError(
        "oversized_element",
        f"Tệp DOCX có một đoạn văn hoặc ô bảng lớn bất thường (hơn {limit / 1048576:.0f} MB dữ liệu); tệp bị "
        "hỏng hoặc nghi ngờ độc hại nên đã bị từ chối.",
        f"The DOCX holds one paragraph or cell of more than {limit} bytes of XML.",
    )


def zip_bomb(detail: str) -> DocumentError:
    """Refuse a DOCX whose declared sizes would inflate abnormally."""
    return DocumentError(
        "zip_bomb",
        "Tệp DOCX có kích thước giải nén bất thường (nghi ngờ tệp độc hại); đã từ chối.",
        f"The DOCX declares an abnormal uncompressed size (possible zip bomb): {detail}",
    )


def no_text() -> DocumentError:
    """Refuse a document with no text at all."""
    return DocumentError("no_text", "Văn bản không có nội dung chữ nào để nhập.", "The document contains no text.")
