"""Load settings in a fixed order: defaults, environment file, TRACKER_CONFIG, environment, override."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

#: The repository's config/ folder (the package is installed editable from the checkout).
CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"

DEFAULT_SECRET = "dev-insecure-secret-change-me"

# Conventional variable names read without the TRACKER_ prefix.
_PLAIN_ENV_KEYS = (
    "SECRET_KEY",
    "MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_USERNAME", "MAIL_PASSWORD",
    "MAIL_DEFAULT_SENDER",
    "ZALO_APP_ID", "ZALO_SECRET_KEY", "ZALO_OAUTH_URL", "ZALO_OPENAPI_URL", "ZALO_ZNS_URL",
)


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the app refuses to start."""


def load_config(app: Flask, override: dict[str, Any] | None) -> None:
    """Fill `app.config`; later sources win."""
    env_name = (override or {}).get("ENV_NAME") or os.environ.get("TRACKER_ENV", "development")
    app.config["ENV_NAME"] = env_name
    app.config.from_pyfile(str(CONFIG_DIR / "default.py"))
    env_file = CONFIG_DIR / f"{env_name}.py"
    if env_file.exists():
        app.config.from_pyfile(str(env_file))
    if os.environ.get("TRACKER_CONFIG"):
        app.config.from_envvar("TRACKER_CONFIG")
    for key in _PLAIN_ENV_KEYS:
        if key in os.environ:
            app.config[key] = _coerce(os.environ[key], app.config.get(key))
    app.config.from_prefixed_env("TRACKER")
    if override:
        app.config.update(override)
    _derive(app)


def _coerce(raw: str, current: Any) -> Any:
    """Give a plain environment value the type of the default it replaces."""
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(raw)
    return raw


def _derive(app: Flask) -> None:
    url = app.config.get("SQLALCHEMY_DATABASE_URI") or app.config.get("DATABASE_URL")
    if not url:
        os.makedirs(app.instance_path, exist_ok=True)
        url = f"sqlite:///{Path(app.instance_path) / 'tracker.db'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        # SQLite's default pool hands one connection per thread; a busy timeout lets writers queue.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {"timeout": 30})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def check_production(app: Flask) -> None:
    """Refuse to run production with a secret anyone can read in the repository."""
    if app.config["ENV_NAME"] != "production":
        return
    secret = app.config.get("SECRET_KEY") or ""
    if secret in {DEFAULT_SECRET, "test-secret"} or len(secret) < 24:
        raise ConfigError(
            "SECRET_KEY must be set from the environment to a random value of at least 24 characters "
            "in production (python -c 'import secrets; print(secrets.token_hex(32))')."
        )
