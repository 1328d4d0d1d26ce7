"""Tests: fast password hashing, CSRF off unless a test turns it on, no scheduler."""

TESTING = True
WTF_CSRF_ENABLED = False
SECRET_KEY = "test-secret"
PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
SCHEDULER_IN_PROCESS = False
MAIL_DEFAULT_SENDER = "tracker@example.org"
PUBLIC_BASE_URL = "http://127.0.0.1"
#: The suite signs in hundreds of times from 127.0.0.1; tests of the limits turn them on (with Redis).
RATELIMIT_ENABLED = False
