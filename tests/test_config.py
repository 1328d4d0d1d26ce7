import pytest

from tracker import create_app
from tracker.config import ConfigError


def test_production_refuses_the_default_secret(tmp_path):
    with pytest.raises(ConfigError):
        create_app({"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_production_starts_with_a_real_secret(tmp_path):
    app = create_app({"ENV_NAME": "production", "SECRET_KEY": "x" * 40,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_environment_variables_override_config(monkeypatch, tmp_path):
    monkeypatch.setenv("MAIL_SERVER", "127.0.0.1")
    monkeypatch.setenv("MAIL_PORT", "2525")
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    app = create_app({"ENV_NAME": "testing"})
    assert app.config["MAIL_SERVER"] == "127.0.0.1" and app.config["MAIL_PORT"] == 2525
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.db")


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    app = create_app({"ENV_NAME": "testing"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{app.instance_path}/tracker.db"
