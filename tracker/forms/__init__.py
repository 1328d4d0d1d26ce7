"""Flask-WTF forms of the web pages: input is stripped and checked here, rules live in the operations."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms.validators import DataRequired, Length


def strip(value: Any) -> Any:
    """A filter removing surrounding blanks from text input."""
    return value.strip() if isinstance(value, str) else value


def required() -> DataRequired:
    return DataRequired(message=_l("This field is required."))


def at_most(n: int) -> Length:
    return Length(max=n, message=_l("At most %(max)d characters."))


def first_error(form: Any) -> str:
    """The first error of a form, as one line for a flash or a 422 page."""
    for field in form:
        if field.errors:
            error = field.errors[0]
            label = field.label.text if field.type not in ("CSRFTokenField", "HiddenField") else ""
            return f"{label}: {error}" if label else str(error)
    return str(_l("Some of the data is not valid."))


def choices(pairs: Any) -> list[Any]:
    """Select options from (value, label) pairs, as WTForms wants them."""
    try:
        from wtforms.fields.choices import SelectChoice
    except ImportError:  # WTForms before 3.3 takes tuples
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]


INVALID_CHOICE = _l("Choose one of the options.")
