"""Extension singletons, created unbound and attached to the app in `create_app`."""

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from tracker.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
mail = Mail()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
api = Api()


def rate_limit_key() -> str:
    """Whom a rate limit counts: the API token (its hash) when one is sent, else the client's address."""
    import hashlib

    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "token:" + hashlib.sha256(token.strip().encode()).hexdigest()[:32]
    return "addr:" + (request.remote_addr or "unknown")


#: Rate limits (Flask-Limiter) on the API and on signing in; storage from RATELIMIT_STORAGE_URI (Redis or
#: memcached across processes, memory for one process).
limiter = Limiter(key_func=rate_limit_key)
