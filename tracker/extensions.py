"""Extension singletons, created unbound and attached to the app in `create_app`.

The database, mail, translations and sign-in are created here; the ones only a web process uses (migrations,
CSRF, the API, rate limits) are created the first time something imports them (PEP 562 `__getattr__`), so a
job process, which never does, does not pay for importing Alembic, WTForms, flask-smorest and flask-limiter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import request
from flask_babel import Babel
from flask_login import LoginManager
from flask_mail import Mail
from flask_sqlalchemy import SQLAlchemy

from tracker.models.base import Base

if TYPE_CHECKING:
    from flask_limiter import Limiter
    from flask_migrate import Migrate
    from flask_smorest import Api
    from flask_wtf import CSRFProtect

    migrate: Migrate
    csrf: CSRFProtect
    api: Api
    limiter: Limiter

db = SQLAlchemy(model_class=Base)
mail = Mail()
login_manager = LoginManager()
babel = Babel()


def rate_limit_key() -> str:
    """Whom a rate limit counts: the API token (its hash) when one is sent, else the client's address."""
    import hashlib

    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "token:" + hashlib.sha256(token.strip().encode()).hexdigest()[:32]
    return "addr:" + (request.remote_addr or "unknown")


def _migrate() -> Any:
    from flask_migrate import Migrate

    return Migrate()


def _csrf() -> Any:
    from flask_wtf import CSRFProtect

    return CSRFProtect()


def _api() -> Any:
    from flask_smorest import Api

    return Api()


def _limiter() -> Any:
    from flask_limiter import Limiter

    # Rate limits (Flask-Limiter) on the API and on signing in; storage from RATELIMIT_STORAGE_URI (Redis or
    # memcached across processes, memory for one process).
    return Limiter(key_func=rate_limit_key)


_WEB_ONLY: dict[str, Callable[[], Any]] = {"migrate": _migrate, "csrf": _csrf, "api": _api, "limiter": _limiter}


def __getattr__(name: str) -> Any:
    """Create a web-only extension on first use; the same object ever after."""
    factory = _WEB_ONLY.get(name)
    if factory is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = factory()
    return value
