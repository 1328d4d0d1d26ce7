"""What every API resource shares: the blueprint class, bearer authentication, input errors, pagination.

Authentication: `Authorization: Bearer TOKEN` on every request. A signed-in browser session may also read
(GET/HEAD/OPTIONS, so the browsable documentation works for a signed-in person), but every change needs a
bearer token: the API is exempt from CSRF, and refusing cookies on unsafe methods is what makes that safe.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NoReturn, TypeVar

import flask_smorest
import marshmallow as ma
from flask import Response, current_app, g, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from webargs.flaskparser import FlaskParser, is_json_request

from tracker.extensions import db, limiter
from tracker.models import Person
from tracker.operations.errors import DomainError, NotFound, ValidationFailed
from tracker.queries.listing import Page
from tracker.schemas.base import MAX_BIG_ID, MAX_ID

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
M = TypeVar("M")


class Unauthenticated(DomainError):
    """No valid bearer token (or, for a read, no signed-in session)."""

    status = 401
    code = "unauthorized"


class MalformedJson(DomainError):
    status = 400
    code = "malformed_json"


class UnsupportedMediaType(DomainError):
    """A body the endpoint does not read (XML, text, a form where JSON is expected)."""

    status = 415
    code = "unsupported_media_type"


#: Bodies an endpoint taking "json_or_form" (a report with files) also reads.
FORM_MIMETYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


class InvalidInput(ValidationFailed):
    """Input the schemas refused: every message by field, in the one error shape."""

    def __init__(self, messages: Mapping[str, Any]) -> None:
        super().__init__(_l("Some of the data is not valid."))
        self.messages = messages

    def as_errors(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for location_errors in self.messages.values():  # webargs nests by location: {"json": {...}}
            _flatten_into(out, "", location_errors)
        return out or {"_general": [self.render()]}


def _flatten_into(out: dict[str, list[str]], path: str, errors: Any) -> None:
    """{"values": {0: {"value": [...]}}} becomes {"values.0.value": [...]}; "_schema" errors stay on the object."""
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            name = str(key)
            _flatten_into(out, path if name == "_schema" else (f"{path}.{name}" if path else name), value)
        return
    for message in errors if isinstance(errors, list) else [errors]:
        if isinstance(message, Mapping):
            _flatten_into(out, path, message)
        else:
            # `Msg` translates itself; gettext covers plain msgids (webargs' own).
            out.setdefault(path or "_general", []).append(gettext(str(message)))


class ApiParser(FlaskParser):
    """webargs parser whose failures are domain errors, answered by the one error handler."""

    # Every location honours the schema's `unknown = RAISE`: a mistyped filter is refused, not ignored.
    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = dict.fromkeys(FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION)

    def handle_error(self, error: ma.ValidationError, req: Any, schema: ma.Schema, *, error_status_code: Any,
                     error_headers: Any) -> NoReturn:
        messages = error.messages if isinstance(error.messages, Mapping) else {"_schema": error.messages}
        raise InvalidInput(messages)

    def _handle_invalid_json_error(self, error: Exception, req: Any, *args: Any, **kwargs: Any) -> NoReturn:
        raise MalformedJson(_l("The request body is not valid JSON."))

    def load_json(self, req: Any, schema: ma.Schema) -> Any:
        """The JSON body; a body of another type is refused (415) rather than read as no body at all."""
        if req.get_data(cache=True) and not is_json_request(req):
            raise UnsupportedMediaType(_l("Send the body as JSON (Content-Type: application/json)."))
        try:
            return super().load_json(req, schema)
        except RecursionError:  # json.loads gives up on thousands of nested brackets
            raise MalformedJson(_l("The request body is nested too deeply."))

    def load_json_or_form(self, req: Any, schema: ma.Schema) -> Any:
        if req.mimetype in FORM_MIMETYPES:
            return self.load_form(req, schema)
        return self.load_json(req, schema)


class ApiBlueprint(flask_smorest.Blueprint):
    """A resource of /api/v1: bearer authentication, our parser, our error shape in the documentation.

    `section` names the resource's group on /api/docs, Vietnamese first (the blueprint's own name stays the
    prefix of its endpoints).
    """

    ARGUMENTS_PARSER = ApiParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "json_or_form": "application/json",
    }

    def __init__(self, *args: Any, section: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.section = section or self.name
        self.before_request(authenticate)
        self.after_request(_after)
        # One budget per token (or address) across every resource (API_RATE_LIMIT, read at each request).
        # Declared here, once per blueprint object, not at each create_app: limits would add up.
        limiter.shared_limit(_api_limit, scope="api")(self)


    def route(self, rule: str, *, parameters: Any = None, tags: Any = None, **options: Any) -> Any:
        """Tag the resource's operations with its section name rather than the blueprint's."""
        return super().route(rule, parameters=parameters, tags=tags or [self.section], **options)


def _api_limit() -> str:
    return str(current_app.config["API_RATE_LIMIT"])


def authenticate() -> None:
    """Find the person behind the request (see the module docstring) or refuse it with 401."""
    header = request.headers.get("Authorization")
    if header is not None:
        from tracker.operations.people import person_for_token

        scheme, _, token = header.partition(" ")
        person = person_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        if person is None:
            raise Unauthenticated(_l("The API token is invalid, has expired or has been revoked."))
        g.api_actor = person  # the token's new last_used_at is committed with the request's work
        return
    if request.method in SAFE_METHODS and current_user.is_authenticated:
        g.api_actor = current_user._get_current_object()
        return
    if current_user.is_authenticated:
        raise Unauthenticated(_l("Changes through the API need a token: send Authorization: Bearer TOKEN."))
    raise Unauthenticated(_l("Send an API token: Authorization: Bearer TOKEN."))


def _after(response: Response) -> Response:
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="tracker"'
    return response  # the request's transaction (the token's last use, a change) ends in transaction.py


def actor() -> Person:
    """The person making the current API request."""
    return g.api_actor  # type: ignore[no-any-return]


def get_or_404(model: type[M], ident: int, message: Any, *, big: bool = False) -> M:
    """Load `model` by id or raise NotFound with `message` (ids beyond the column's range are unknown too)."""
    obj = db.session.get(model, ident) if 0 < ident <= (MAX_BIG_ID if big else MAX_ID) else None
    if obj is None:
        raise NotFound(message, id=ident)
    return obj


def paged(page: Page[Any], args: Mapping[str, Any]) -> tuple[list[Any], dict[str, str]]:
    """The page's items and the X-Pagination header (total, total_pages, first/last/previous/next page)."""
    metadata = flask_smorest.Blueprint._make_pagination_metadata(args["page"], args["page_size"], page.total)
    return page.items, {"X-Pagination": json.dumps(metadata)}


#: Documented on every list endpoint's 200 response. The value is JSON text, so it is a string to OpenAPI.
PAGINATION_HEADERS = {"X-Pagination": {
    "description": "JSON: total, total_pages, first_page, last_page, page, previous_page, next_page "
                   "(the page fields only when the list is not empty).",
    "schema": {"type": "string"},
    "example": '{"total": 120, "total_pages": 3, "first_page": 1, "last_page": 3, "page": 2, '
               '"previous_page": 1, "next_page": 3}',
}}

