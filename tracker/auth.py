"""Who is making the request: a session cookie (web) or an `Authorization: Bearer` token (API)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask import Request, current_app, session
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy.orm import joinedload

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import ApiToken, AttemptKind, AuthAttempt, Person, SignInSession


def init_auth(login_manager: LoginManager) -> None:
    """Teach Flask-Login how to load people from sessions and bearer tokens."""
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "warning"

    @login_manager.user_loader
    def _load_user(user_id: str) -> Person | None:
        # The session cookie names a server-side sign-in session, which signing out or a new password revokes.
        return person_for_session(user_id, session.get(SESSION_KEY))

    @login_manager.request_loader
    def _load_from_bearer(request: Request) -> Person | None:
        from tracker.operations.people import person_for_token

        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return person_for_token(token.strip())


# --- Server-side sign-in sessions and "keep me signed in" ----------------------------------------------

#: The Flask session key holding the sign-in session's selector.
SESSION_KEY = "sid"


@dataclass(frozen=True)
class StartedSession:
    row: SignInSession
    #: The "keep me signed in" cookie's value ("selector.secret"), when asked for; shown once, stored hashed.
    remember_value: str | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start_session(person: Person, *, remember: bool, remote_addr: str | None,
                  user_agent: str | None) -> StartedSession:
    """Open a sign-in session for `person` (the caller commits), dropping the person's dead ones."""
    now = utcnow()
    config = current_app.config
    lifetime = (timedelta(days=int(config.get("REMEMBER_DAYS", 30))) if remember
                else timedelta(hours=int(config.get("SESSION_MAX_HOURS", 24))))
    db.session.execute(sa.delete(SignInSession).where(
        SignInSession.person_id == person.id,
        sa.or_(SignInSession.expires_at < now, SignInSession.revoked_at < now - timedelta(days=1))))
    secret = secrets.token_urlsafe(32) if remember else None
    row = SignInSession(person_id=person.id, selector=secrets.token_urlsafe(18), created_at=now,
                        expires_at=now + lifetime, verifier_hash=_digest(secret) if secret else None,
                        remote_addr=_address(remote_addr), user_agent=(user_agent or "")[:255] or None)
    db.session.add(row)
    db.session.flush()
    return StartedSession(row, f"{row.selector}.{secret}" if secret else None)


def _live(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(SignInSession.revoked_at.is_(None), SignInSession.expires_at > now)


def person_for_session(user_id: str, selector: object) -> Person | None:
    """The active person of a live sign-in session, with their roles and the roles' units (one query: every
    request's permission checks read them)."""
    if not user_id.isdigit() or not isinstance(selector, str) or not selector:
        return None
    return db.session.scalars(
        sa.select(Person).join(SignInSession, SignInSession.person_id == Person.id)
        .options(joinedload(Person.roles))  # RoleAssignment.unit is itself joined
        .where(Person.id == int(user_id), Person.is_active, SignInSession.selector == selector[:32],
               _live(utcnow()))
    ).unique().first()


def session_for_cookie(value: str) -> SignInSession | None:
    """The live session a "keep me signed in" cookie names, if its secret matches (compared in constant time)."""
    selector, _, secret = (value or "").partition(".")
    if not selector or not secret or len(value) > 200:
        return None
    row = db.session.scalar(sa.select(SignInSession).where(SignInSession.selector == selector[:32],
                                                           _live(utcnow())))
    if row is None or row.verifier_hash is None or not hmac.compare_digest(row.verifier_hash, _digest(secret)):
        return None
    person = db.session.get(Person, row.person_id)
    return row if person is not None and person.is_active else None


def end_session(selector: object) -> None:
    """Revoke one sign-in session: its session cookie and its "keep me signed in" cookie stop working."""
    if isinstance(selector, str) and selector:
        db.session.execute(sa.update(SignInSession).where(SignInSession.selector == selector[:32],
                                                          SignInSession.revoked_at.is_(None))
                           .values(revoked_at=utcnow()))


# --- Sign-in: equal cost for unknown names, and an atomic failure count ----------------------------------

@cache
def _dummy_hash(method: str) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def authenticate(username: str, password: str) -> Person | None:
    """The active person with this name and password, or None, at the same cost either way: an unknown name
    is checked against a dummy hash of the same method, so timing does not tell which names exist."""
    from werkzeug.security import check_password_hash

    person = find_person_for_login(username)
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    stored = person.password_hash if person is not None and person.password_hash else _dummy_hash(method)
    matches = check_password_hash(stored, password or "")
    if person is None or not person.password_hash or not person.is_active or not matches:
        return None
    return person


def count_attempt(username: str, remote_addr: str | None) -> bool:
    """Count this sign-in attempt before its password is checked, in a commit of its own, then tell whether it
    is still within the limits (its own row included).

    Counting first makes the limit exact under parallel requests: each attempt is visible to every later
    count before any password is checked, so at most LOGIN_MAX_FAILURES attempts per name (and
    LOGIN_MAX_FAILURES_PER_IP per address) in a window get their password checked. A successful sign-in
    removes the name's rows, this one included.
    """
    record_failed_login(username, remote_addr)
    db.session.commit()
    since = _window_start()
    config = current_app.config
    if _count(AttemptKind.SIGN_IN_FAILURE, _norm(username), since) > int(config.get("LOGIN_MAX_FAILURES", 5)):
        return False
    address = _address(remote_addr)
    if address is None:
        return True
    from_address = db.session.scalar(sa.select(sa.func.count(AuthAttempt.id)).where(
        AuthAttempt.kind == AttemptKind.SIGN_IN_FAILURE, AuthAttempt.remote_addr == address,
        AuthAttempt.attempted_at >= since))
    return int(from_address or 0) <= int(config.get("LOGIN_MAX_FAILURES_PER_IP", 50))


# --- Sign-in rate limit and audit (in the database, so every web process agrees) ---------------------

def _window_start() -> datetime:
    seconds = int(current_app.config.get("LOGIN_WINDOW_SECONDS", 900))
    return utcnow() - timedelta(seconds=seconds)


def _norm(username: str) -> str:
    return (username or "").strip().lower()[:64]


def _count(kind: AttemptKind, subject: str, since: datetime) -> int:
    return int(db.session.scalar(sa.select(sa.func.count(AuthAttempt.id)).where(
        AuthAttempt.kind == kind, AuthAttempt.subject == subject, AuthAttempt.attempted_at >= since)) or 0)


def login_blocked(username: str, remote_addr: str | None = None) -> bool:
    """Whether `username`, or the client at `remote_addr` whatever names it tried, has failed too often
    within the window."""
    since = _window_start()
    config = current_app.config
    if _count(AttemptKind.SIGN_IN_FAILURE, _norm(username), since) >= int(config.get("LOGIN_MAX_FAILURES", 5)):
        return True
    address = _address(remote_addr)
    if address is None:
        return False
    from_address = db.session.scalar(sa.select(sa.func.count(AuthAttempt.id)).where(
        AuthAttempt.kind == AttemptKind.SIGN_IN_FAILURE, AuthAttempt.remote_addr == address,
        AuthAttempt.attempted_at >= since))
    return int(from_address or 0) >= int(config.get("LOGIN_MAX_FAILURES_PER_IP", 50))


def _forget_older(kinds: tuple[AttemptKind, ...], since: datetime) -> None:
    """Drop every row of these kinds older than the window: the table holds one window's attempts, however
    many names a hostile client tries."""
    db.session.execute(sa.delete(AuthAttempt).where(AuthAttempt.kind.in_(kinds), AuthAttempt.attempted_at < since))


def record_failed_login(username: str, remote_addr: str | None) -> None:
    """Remember one failed sign-in (the caller commits)."""
    _forget_older((AttemptKind.SIGN_IN_FAILURE,), _window_start())
    db.session.add(AuthAttempt(kind=AttemptKind.SIGN_IN_FAILURE, subject=_norm(username),
                               remote_addr=_address(remote_addr), attempted_at=utcnow()))


def clear_failed_logins(username: str) -> None:
    """Forget a username's failures after a successful sign-in (the caller commits)."""
    db.session.execute(sa.delete(AuthAttempt).where(AuthAttempt.kind == AttemptKind.SIGN_IN_FAILURE,
                                                    AuthAttempt.subject == _norm(username)))


def find_person_for_login(username: str) -> Person | None:
    return db.session.scalar(sa.select(Person).where(Person.username == _norm(username)))


def _address(remote_addr: str | None) -> str | None:
    return (remote_addr or "")[:64] or None


def record_sign_in(person: Person, remote_addr: str | None) -> None:
    """Note a successful sign-in: forget the failures, stamp the time, audit it with the address (caller commits)."""
    from tracker.operations import audit

    clear_failed_logins(person.username)
    person.last_login_at = utcnow()
    audit.record("person.sign_in", person, person, after={"at": person.last_login_at, "ip": _address(remote_addr)})


def record_sign_out(person: Person, remote_addr: str | None) -> None:
    """Audit a sign-out with its time and address (the caller commits)."""
    from tracker.operations import audit

    audit.record("person.sign_out", person, person, after={"at": utcnow(), "ip": _address(remote_addr)})


# --- Password-reset request limit (apart from sign-ins: asking for a link never blocks signing in) --------

def _reset_subjects(given: str, remote_addr: str | None) -> list[tuple[AttemptKind, str]]:
    """What one request counts against: the name or e-mail address given (hashed: it may be long, and
    it is not ours to keep in clear) and, when known, the client's address."""
    digest = hashlib.sha256((given or "").strip().lower().encode()).hexdigest()
    subjects = [(AttemptKind.RESET_BY_NAME, digest)]
    address = _address(remote_addr)
    if address:
        subjects.append((AttemptKind.RESET_BY_ADDRESS, address))
    return subjects


def _reset_window_start() -> datetime:
    seconds = int(current_app.config.get("PASSWORD_RESET_WINDOW_SECONDS", 3600))
    return utcnow() - timedelta(seconds=seconds)


def reset_request_allowed(given: str, remote_addr: str | None) -> bool:
    """Whether another password-reset request for `given` from `remote_addr` is within the limits.

    The answer depends only on earlier requests, never on whether the account exists.
    """
    config = current_app.config
    limits = {AttemptKind.RESET_BY_NAME: int(config.get("PASSWORD_RESET_MAX_PER_USERNAME", 3)),
              AttemptKind.RESET_BY_ADDRESS: int(config.get("PASSWORD_RESET_MAX_PER_IP", 20))}
    since = _reset_window_start()
    return all(_count(kind, subject, since) < limits[kind] for kind, subject in _reset_subjects(given, remote_addr))


def record_reset_request(given: str, remote_addr: str | None) -> None:
    """Count one password-reset request against its name and its address (the caller commits).

    Requests older than the window are dropped here, so the table stays small.
    """
    _forget_older((AttemptKind.RESET_BY_NAME, AttemptKind.RESET_BY_ADDRESS), _reset_window_start())
    now = utcnow()
    for kind, subject in _reset_subjects(given, remote_addr):
        db.session.add(AuthAttempt(kind=kind, subject=subject, remote_addr=_address(remote_addr), attempted_at=now))


# --- Password reset tokens ---------------------------------------------------------------------------

_RESET_SALT = "tracker.password-reset"


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_RESET_SALT)


def _password_fingerprint(person: Person) -> str:
    # The token dies once the password changes: it carries a piece of the current hash.
    return hashlib.sha256((person.password_hash or "").encode()).hexdigest()[:16]


def make_reset_token(person: Person) -> str:
    """A signed, expiring token that resets `person`'s password once."""
    return _reset_serializer().dumps({"p": person.id, "f": _password_fingerprint(person)})


def person_for_reset_token(token: str) -> Person | None:
    """The person a valid, unexpired, unused reset token belongs to, or None."""
    max_age = int(current_app.config.get("PASSWORD_RESET_MAX_AGE_SECONDS", 3600))
    try:
        data = _reset_serializer().loads(token, max_age=max_age)
    except BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("p"), int):
        return None
    person = db.session.get(Person, data["p"])
    if person is None or not person.is_active or data.get("f") != _password_fingerprint(person):
        return None
    return person


# --- Calendar feed tokens ----------------------------------------------------------------------------

_ICAL_SALT = "tracker.ical"
ICAL_TOKEN_NAME = "ical"


def make_ical_token(person: Person, api_token_id: int) -> str:
    """A signed URL token naming the person and their revocable "ical" ApiToken row."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_ICAL_SALT).dumps([person.id, api_token_id])


def person_for_ical_token(token: str) -> Person | None:
    """The active person of a calendar token whose "ical" ApiToken row is not revoked, or None."""
    try:
        data = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_ICAL_SALT).loads(token)
    except BadSignature:
        return None
    if not (isinstance(data, list) and len(data) == 2 and all(isinstance(x, int) for x in data)):
        return None
    person_id, token_id = data
    row = db.session.get(ApiToken, token_id)
    if row is None or row.person_id != person_id or row.name != ICAL_TOKEN_NAME or not row.is_usable(utcnow()):
        return None
    return row.person if row.person.is_active else None
