"""One check on every page request: no text, and no file name, may carry characters nothing can store.

NUL makes PostgreSQL refuse the row (a 500 after the work was done), other C0 controls make the Excel
exports unwritable, and direction overrides in a file name disguise its type. The pages refuse such input
with a 422 in the person's language before any view runs; the API's schemas refuse it field by field
(tracker.schemas.base.String) and its uploads through `check_file_names`.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from tracker.operations.errors import ValidationFailed
from tracker.schemas.base import FORBIDDEN_CHARACTERS, FORBIDDEN_IN_FILE_NAMES

API_PREFIX = "/api/"


def check_file_names(field: str, files: Iterable[FileStorage]) -> None:
    """Refuse the upload when a file name carries control or direction characters."""
    for upload in files:
        if upload.filename and FORBIDDEN_IN_FILE_NAMES.search(upload.filename):
            raise ValidationFailed(_l("A file name contains characters that are not allowed."), field=field)


def _refuse_forbidden_characters() -> None:
    if request.path.startswith(API_PREFIX):
        return  # the API answers per field, after authentication (see the module docstring)
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if FORBIDDEN_CHARACTERS.search(key) or FORBIDDEN_CHARACTERS.search(value):
                raise ValidationFailed(_l("The text contains characters that are not allowed."),
                                       field=key if not FORBIDDEN_CHARACTERS.search(key) else None)
    for key in request.files:
        check_file_names(key, request.files.getlist(key))


def register_guard(app: Flask) -> None:
    """Run the check before every request (after CSRF protection, which the extensions registered first)."""
    app.before_request(_refuse_forbidden_characters)
