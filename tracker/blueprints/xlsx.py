"""Excel downloads: the sheets' helpers live in tracker.spreadsheets (shared with the periodic report)."""

from __future__ import annotations

import io
from typing import Any

from flask import send_file
from werkzeug.wrappers import Response

from tracker.spreadsheets import append_row, style_header, workbook_bytes, write_title

__all__ = ["XLSX_MIMETYPE", "append_row", "style_header", "write_title", "xlsx_response"]

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(workbook: Any, filename: str) -> Response:
    """Send an openpyxl workbook as a download."""
    return send_file(io.BytesIO(workbook_bytes(workbook)), as_attachment=True, download_name=filename,
                     mimetype=XLSX_MIMETYPE)
