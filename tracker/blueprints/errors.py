"""One place that turns domain errors and HTTP errors into pages or the API's JSON error shape."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from tracker.extensions import db
from tracker.operations.errors import DomainError


def wants_json() -> bool:
    """API paths and clients asking for JSON get JSON errors; browsers get a page."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
        message = _("The form has expired or was not sent from this site. Reload the page and try again.")
        if wants_json():
            return jsonify(errors={"_general": [message]}, code="csrf"), 400
        return render_template("error.html", status=400, message=message), 400

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):  # type: ignore[no-untyped-def]
        # Nothing half-written: the error status makes the request's transaction roll back.
        if wants_json():
            return jsonify(errors=error.as_errors(), code=error.code), error.status
        db.session.rollback()  # now, not after: the page reads the database, and must not flush half an operation
        return render_template("error.html", status=error.status, message=error.render()), error.status

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        if (error.code or 500) >= 500:
            # A failed statement may have aborted the transaction (PostgreSQL refuses every query after it):
            # end it before the error page is rendered, which reads the signed-in person.
            db.session.rollback()
        messages = {
            400: _("The request could not be understood."),
            401: _("Please sign in."),
            403: _("You do not have permission for this page."),
            404: _("The page or item was not found."),
            405: _("This action is not allowed here."),
            413: _("The file is too large."),
            422: _("Some of the data is not valid."),
            429: _("Too many attempts. Please wait and try again."),
            500: _("Something went wrong on our side. Nothing was saved; please try again later."),
        }
        status = error.code or 500
        message = messages.get(status, error.description or "")
        if wants_json():
            body = getattr(error, "data", None)
            errors = (body or {}).get("messages") if isinstance(body, dict) else None
            payload = {"errors": _flatten(errors) if errors else {"_general": [str(message)]},
                       "code": (error.name or "error").lower().replace(" ", "_")}
            allowed = getattr(error, "valid_methods", None)  # a 405 names what is allowed (RFC 9110)
            return jsonify(payload), status, {"Allow": ", ".join(sorted(allowed))} if allowed else {}
        return render_template("error.html", status=status, message=message), status


def _flatten(messages: dict) -> dict[str, list[str]]:  # type: ignore[type-arg]
    """webargs nests errors by location ({"json": {"field": [...]}}); the API answers {"field": [...]}."""
    out: dict[str, list[str]] = {}
    for location_errors in messages.values():
        if isinstance(location_errors, dict):
            for field, errs in location_errors.items():
                out[str(field)] = [str(e) for e in errs] if isinstance(errs, list) else [str(errs)]
    return out or {"_general": [str(messages)]}
