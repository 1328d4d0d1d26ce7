"""Domain errors: each carries an HTTP status, a stable code and a translated message."""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString


class DomainError(Exception):
    """Base of the errors an operation raises for bad input or a forbidden action."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str | LazyString, *, field: str | None = None, **params: Any) -> None:
        self.message = message
        self.field = field
        self.params = params
        super().__init__(str(message))

    def render(self) -> str:
        """The message in the current language, with its parameters filled in."""
        text = str(self.message)
        return text % self.params if self.params else text

    def as_errors(self) -> dict[str, list[str]]:
        """The API's one error shape: {"field": ["message"]}."""
        return {self.field or "_general": [self.render()]}


class ValidationFailed(DomainError):
    status = 422
    code = "invalid"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The action does not fit the object's current state (marking done twice, a cancelled task)."""

    status = 409
    code = "conflict"
