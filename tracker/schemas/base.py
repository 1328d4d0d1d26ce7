"""The base schema and fields every API schema uses: unknown fields refused, strings stripped, messages translated.

marshmallow formats its error templates as soon as validation fails, in whatever language is current then, and
its templates are English. Ours are `Msg` strings: English msgids (marked with `N_` so `pybabel extract` finds
them) that translate themselves when marshmallow formats them, and again when the error handler turns them into
text, so a client gets them in the request's language.
"""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from flask import current_app
from flask_babel import gettext

from tracker.clock import FIRST_DATE, LAST_DATE


class Msg(str):
    """An English msgid that becomes the current language's text when formatted or turned into `str`."""

    __slots__ = ()

    def __str__(self) -> str:
        return gettext(str.__str__(self))

    def format(self, *args: Any, **kwargs: Any) -> str:
        return str(self).format(*args, **kwargs)


def N_(msgid: str) -> Msg:
    """Mark `msgid` for translation at the moment it is shown."""
    return Msg(msgid)


_FIELD_MESSAGES = {
    "required": N_("This field is required."),
    "null": N_("This field may not be empty."),
    "validator_failed": N_("Invalid value."),
}

#: Largest id a path or filter accepts (PostgreSQL INTEGER); larger ones are simply unknown.
MAX_ID = 2**31 - 1
#: The most items a list page may hold (API_PAGE_SIZE_MAX may only lower it).
MAX_PAGE_SIZE = 200
#: Largest BIGINT id (occurrences, reports, attachments, comments).
MAX_BIG_ID = 2**63 - 1
#: The largest figure taken for a NUMERIC(18, 4) column (targets, indicator values), which holds < 10^14.
MAX_FIGURE = 10**14 - 1

#: Characters no text may carry: C0 controls other than tab, new line and carriage return (PostgreSQL refuses
#: NUL, XML and so Excel files refuse the rest) and lone UTF-16 surrogates (not encodable as UTF-8).
FORBIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
#: A file name may carry no control character at all, nor the Unicode direction overrides that make
#: "hoa-don\u202efdp.exe" look like "hoa-donexe.pdf".
FORBIDDEN_IN_FILE_NAMES = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                                     "\ud800-\udfff]")


class BaseSchema(ma.Schema):
    """Refuse unknown fields; answer in the request's language."""

    class Meta:
        unknown = ma.RAISE

    error_messages = {
        "unknown": N_("Unknown field."),
        "type": N_("Invalid input type."),
    }


#: FORBIDDEN_CHARACTERS as the OpenAPI document states it (an ECMA-262 pattern; JSON cannot carry lone surrogates
#: as UTF-8 anyway), so clients and fuzzers know the rule.
TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f]*$"


class String(ma.fields.String):
    """A string with surrounding white space removed on input, refusing characters no text may carry."""

    def __init__(self, **kwargs: Any) -> None:
        if not kwargs.get("dump_only"):
            kwargs["metadata"] = {"pattern": TEXT_PATTERN, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    default_error_messages = {**_FIELD_MESSAGES, "invalid": N_("Not a valid text."),
                              "invalid_utf8": N_("Not a valid text."),
                              "forbidden_characters": N_("The text contains characters that are not allowed.")}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if FORBIDDEN_CHARACTERS.search(text):
            raise self.make_error("forbidden_characters")
        return text.strip()


class Integer(ma.fields.Integer):
    """A whole number; in a JSON body it must be a JSON integer (not "12", not 12.0)."""

    default_error_messages = {**_FIELD_MESSAGES, "invalid": N_("Not a valid integer."),
                              "too_large": N_("The number is too large.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strict", True)
        super().__init__(**kwargs)


class QueryInteger(Integer):
    """A whole number in a query string, where every value arrives as text."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strict", False)
        super().__init__(**kwargs)


class Id(Integer):
    """A positive database id in a JSON body."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)


class QueryId(Id):
    """A positive database id in a query string."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strict", False)
        super().__init__(**kwargs)


class QueryBigId(QueryId):
    """A positive BIGINT id (an occurrence, a report) in a query string."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", Range(min=1, max=MAX_BIG_ID))
        super().__init__(**kwargs)


class Decimal(ma.fields.Decimal):
    default_error_messages = {**_FIELD_MESSAGES, "invalid": N_("Not a valid number."),
                              "too_large": N_("The number is too large."),
                              "special": N_("Not a valid number.")}


class Figure(Decimal):
    """A target or a reported figure: a number NUMERIC(18, 4) holds (documented as a range, checked here)."""

    default_error_messages = {**Decimal.default_error_messages, "too_large": N_("The number is too large.")}

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"minimum": -MAX_FIGURE, "maximum": MAX_FIGURE, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _validated(self, value: Any) -> Any:
        number = super()._validated(value)
        if number is not None and abs(number) > MAX_FIGURE:
            raise self.make_error("too_large")
        return number


class Float(ma.fields.Float):
    """Dump-only numbers (indicator values and targets) as JSON numbers."""

    default_error_messages = {**_FIELD_MESSAGES, "invalid": N_("Not a valid number."),
                              "too_large": N_("The number is too large."), "special": N_("Not a valid number.")}


class Boolean(ma.fields.Boolean):
    """A JSON true or false: 0, 1, "yes" and "true" are not booleans in a JSON body."""

    default_error_messages = {**_FIELD_MESSAGES, "invalid": N_("Not a valid boolean (true or false).")}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if isinstance(value, bool):
            return value
        raise self.make_error("invalid")


class QueryBoolean(ma.fields.Boolean):
    """true or false in a query string (1 and 0 too)."""

    default_error_messages = Boolean.default_error_messages
    truthy = frozenset({"true", "1"})
    falsy = frozenset({"false", "0"})


class Date(ma.fields.Date):
    """An ISO calendar date, YYYY-MM-DD."""

    default_error_messages = {**_FIELD_MESSAGES, "invalid": N_("Not a valid date (YYYY-MM-DD)."),
                              "format": N_("Not a valid date (YYYY-MM-DD).")}


def plausible_dates() -> Range:
    """The validator of deadlines and plan dates: 1990-01-01 to 2100-12-31."""
    return Range(min=FIRST_DATE, max=LAST_DATE, error=N_("Must be a date between {min} and {max}."))


class DateTime(ma.fields.DateTime):
    """An ISO 8601 instant with its UTC offset."""

    default_error_messages = {**_FIELD_MESSAGES, "invalid": N_("Not a valid date and time."),
                              "invalid_awareness": N_("Not a valid date and time."),
                              "format": N_("Not a valid date and time.")}


class Enum(ma.fields.Enum):
    """An enum by value."""

    default_error_messages = {**_FIELD_MESSAGES, "unknown": N_("Must be one of: {choices}.")}

    def __init__(self, enum: Any, **kwargs: Any) -> None:
        super().__init__(enum, by_value=True, **kwargs)


class List(ma.fields.List):
    default_error_messages = {**_FIELD_MESSAGES, "invalid": N_("Not a valid list.")}


class Nested(ma.fields.Nested):
    default_error_messages = {**_FIELD_MESSAGES, "type": N_("Invalid input type.")}


class Range(ma.validate.Range):
    """A number range with translated messages."""

    message_min = N_("Must be at least {min}.")
    message_max = N_("Must be at most {max}.")
    message_all = N_("Must be between {min} and {max}.")

    def __init__(self, min: Any = None, max: Any = None, *, error: str | None = None) -> None:
        # Not the parent's __init__: it pre-formats English operator words into the templates; ours have none.
        self.min, self.max, self.error = min, max, error
        self.min_inclusive = self.max_inclusive = True


class Length(ma.validate.Length):
    """A text length with translated messages."""

    message_min = N_("Must be at least {min} characters long.")
    message_max = N_("Must be at most {max} characters long.")
    message_all = N_("Must be between {min} and {max} characters long.")
    message_equal = N_("Must be {equal} characters long.")


class Items(ma.validate.Length):
    """How many items a list may hold, with translated messages (Length speaks of characters)."""

    message_min = N_("Must have at least {min} items.")
    message_max = N_("Must have at most {max} items.")
    message_all = N_("Must have between {min} and {max} items.")
    message_equal = N_("Must have {equal} items.")


class PageQuerySchema(BaseSchema):
    """`page` and `page_size` of a list; the answer's X-Pagination header tells the totals."""

    page = QueryInteger(load_default=1, validate=Range(min=1, max=MAX_ID),
                        metadata={"description": "Page number, from 1."})
    page_size = QueryInteger(load_default=50, validate=Range(min=1, max=MAX_PAGE_SIZE),
                        metadata={"description": "Items per page (the deployment's API_PAGE_SIZE_MAX may lower the "
                                                 f"maximum of {MAX_PAGE_SIZE})."})

    @ma.validates("page_size")
    def _at_most_configured_maximum(self, value: int, **_kw: Any) -> None:
        limit = int(current_app.config.get("API_PAGE_SIZE_MAX", MAX_PAGE_SIZE))
        if limit < value <= MAX_PAGE_SIZE:
            raise ma.ValidationError(N_("Must be at most {max}.").format(max=limit))


class UnitRefSchema(BaseSchema):
    """A unit as other resources mention it."""

    id = Integer(dump_only=True)
    name = String(dump_only=True)


class ErrorSchema(BaseSchema):
    """The one error body: messages by field (`_general` when not about one field) and a stable code."""

    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
                            metadata={"description": 'Messages by field, e.g. {"title": ["..."]}; '
                                                     '"_general" when not about one field.'})
    code = ma.fields.String(metadata={"description": "invalid, malformed_json, unauthorized, forbidden, not_found, "
                                           "conflict, method_not_allowed, unsupported_media_type ..."})
