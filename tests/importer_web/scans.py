"""Scanned plans for the import-job tests: each line of text drawn as an image on a small page of its own.

Small pages keep OCR fast (a tenth of a second a page instead of a second for A4), while the reader
still has to render and recognise every page: a 150-page scan is 150 Tesseract runs.
"""

from __future__ import annotations

import io

from tests.importer.builders import DEJAVU


def scanned_pdf(lines: list[str], *, pages: int | None = None) -> bytes:
    """A PDF of image-only pages, one line each; padded to `pages` with appendix lines."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(DEJAVU), 30)
    texts = list(lines)
    while pages is not None and len(texts) < pages:
        texts.append(f"Phụ lục trang {len(texts) + 1}: số liệu rà soát")
    images = []
    for text in texts:
        width = max(400, int(font.getlength(text)) + 40)
        image = Image.new("L", (width, 60), 255)
        ImageDraw.Draw(image).text((20, 12), text, font=font, fill=0)
        images.append(image)
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:], resolution=300)
    return buffer.getvalue()
