"""Text for scanned PDFs: each page rendered by PDFium and read by Tesseract with its Vietnamese model.

Many plans reach a commune as a scan of the signed paper. When the server has Tesseract and its
Vietnamese data (Debian: `tesseract-ocr tesseract-ocr-vie`), such a PDF is read page by page instead of
being refused; without them the reader says the file needs OCR, as before. Tesseract runs as a
subprocess, one page at a time, single-threaded (two web workers must not fight over the cores), each
call bounded by what is left of the import's time budget. Recognised text is never trusted blindly:
the document carries a warning so the reviewer compares the draft with the paper.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from functools import cache
from typing import Any

from tracker.importer import errors
from tracker.importer.budget import Deadline, progress
from tracker.importer.readers.base import Block
from tracker.importer.textnorm import clean_line, nfc

LANGUAGE = "vie"
DPI = 300  # Tesseract's models are trained on about 300 dpi; lower loses the tone marks
# "Assume a single column of text of variable sizes": a plan's body is one column, and the two-column
# header (issuer left, national motto right) still comes out one line per side.
PAGE_SEGMENTATION = "4"


@cache
def tesseract_command() -> str | None:
    """The tesseract executable if it is installed with the Vietnamese model, else None."""
    command = shutil.which("tesseract")
    if command is None:
        return None
    try:
        listed = subprocess.run([command, "--list-langs"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    languages = {line.strip() for line in (listed.stdout + listed.stderr).splitlines()}
    return command if LANGUAGE in languages else None


def ocr_available() -> bool:
    return tesseract_command() is not None


def ocr_pages(pdf: Any, deadline: Deadline, max_pages: int) -> list[list[Block]]:
    """Recognise every page of an open pypdfium2 document; one list of line blocks per page.

    Raises DocumentError when the scan has more pages than `max_pages` or the budget runs out.
    """
    command = tesseract_command()
    if command is None:
        raise errors.scanned_pdf()
    pages = len(pdf)
    if pages > max_pages:
        raise errors.scan_too_long(pages, max_pages)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    out: list[list[Block]] = []
    progress("ocr", 0, pages)
    for index in range(pages):
        deadline.check()
        image = pdf[index].render(scale=DPI / 72, grayscale=True).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        try:
            result = subprocess.run(
                [command, "stdin", "stdout", "-l", LANGUAGE, "--psm", PAGE_SEGMENTATION],
                input=buffer.getvalue(), capture_output=True, timeout=max(1.0, deadline.remaining()),
                env=env, check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise errors.too_slow(deadline.seconds) from exc
        if result.returncode != 0:
            raise errors.corrupt("pdf", "OCR: " + result.stderr.decode("utf-8", "replace")[:200])
        text = nfc(result.stdout.decode("utf-8", "replace"))
        out.append([Block(line) for line in (clean_line(raw) for raw in text.splitlines()) if line])
        progress("ocr", index + 1, pages)
    return out
