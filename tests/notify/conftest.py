"""Fixtures for the channel tests: real fake servers on loopback (tests/conftest.py guards the rest)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_mail import Mail

# `tests.fakes` is imported as a package from the repository root; pytest's default import mode
# does not put the root on sys.path (pyproject could say `pythonpath = ["."]` instead).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.fakes.smtp_server import FakeSmtpServer  # noqa: E402
from tests.fakes.zalo_server import FakeZaloServer  # noqa: E402


@pytest.fixture
def smtp_server() -> Iterator[FakeSmtpServer]:
    """A running recording SMTP server."""
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture
def mail_app(smtp_server: FakeSmtpServer) -> Iterator[Flask]:
    """A bare Flask app with Flask-Mail pointed at the fake SMTP server, inside an app context."""
    app = Flask("tracker-notify-tests")
    app.config.update(
        TESTING=True,
        MAIL_SERVER=smtp_server.host,
        MAIL_PORT=smtp_server.port,
        MAIL_DEFAULT_SENDER=("Hệ thống theo dõi nhiệm vụ", "noreply@ubnd.example.vn"),
        # Flask-Mail suppresses sending when TESTING; these tests want the real SMTP exchange.
        MAIL_SUPPRESS_SEND=False,
        MAIL_TIMEOUT_SECONDS=2.0,
    )
    mail = Mail()
    mail.init_app(app)
    app.extensions["tracker_test_mail"] = mail
    with app.app_context():
        yield app


@pytest.fixture
def mail(mail_app: Flask) -> Mail:
    """The Flask-Mail instance bound to `mail_app`."""
    return mail_app.extensions["tracker_test_mail"]


@pytest.fixture
def zalo_server() -> Iterator[FakeZaloServer]:
    """A running fake of Zalo's OAuth, OA and ZNS endpoints."""
    with FakeZaloServer() as server:
        yield server
