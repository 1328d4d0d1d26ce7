"""People, role assignments, passwords and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Literal

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import ApiToken, OrgUnit, Person, Role, RoleAssignment, SignInSession
from tracker.notify.links import revoke_links
from tracker.operations import audit
from tracker.operations.authz import Permission, require
from tracker.operations.errors import Conflict, NotFound, ValidationFailed
from tracker.operations.references import require_person_in_scope

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"


def clean_username(raw: object) -> str:
    """A username as stored (lowercase, trimmed), or ValidationFailed."""
    username = str(raw or "").strip().lower()
    if not _USERNAME.match(username):
        raise ValidationFailed(
            _l("A username has 2-64 lowercase letters, digits, '.', '_' or '-'."), field="username"
        )
    return username


def clean_full_name(raw: object) -> str:
    """A full name with its spaces collapsed, or ValidationFailed when empty."""
    full_name = " ".join(str(raw or "").split())
    if not full_name:
        raise ValidationFailed(_l("Enter the person's full name."), field="full_name")
    return full_name


def clean_email(raw: object) -> str | None:
    """An e-mail address (None when blank), or ValidationFailed."""
    email = str(raw or "").strip() or None
    if email and (len(email) > 255 or not _EMAIL.match(email)):
        raise ValidationFailed(_l("That is not a valid e-mail address."), field="email")
    return email


def clean_zalo_phone(raw: object) -> str | None:
    """A Vietnamese mobile number in its national form (0xxxxxxxxx, None when blank), or ValidationFailed.

    Stored national so people read it as they typed it; the Zalo channel turns it into 84xxxxxxxxx.
    """
    from tracker.notify.base import PermanentSendError
    from tracker.notify.zalo import normalize_phone

    text = str(raw or "").strip()
    if not text:
        return None
    try:
        return "0" + normalize_phone(text)[2:]
    except PermanentSendError:
        raise ValidationFailed(_l("%(phone)s is not a Vietnamese mobile number (for Zalo)."), field="phone",
                               phone=text) from None


def create_person(
    actor: Person | None,
    *,
    username: str,
    full_name: str,
    email: str | None = None,
    phone: str | None = None,
    title: str | None = None,
    password: str | None = None,
    locale: str = "vi",
) -> Person:
    """Create a person account (roles are assigned separately)."""
    username = clean_username(username)
    if db.session.scalar(sa.select(Person.id).where(Person.username == username)) is not None:
        raise Conflict(_l("The username %(username)s is taken."), field="username", username=username)
    full_name = clean_full_name(full_name)
    email = clean_email(email)
    person = Person(username=username, full_name=full_name, email=email, phone=(phone or "").strip() or None,
                    title=title, locale=locale)
    if password is not None:
        _set_password(person, password)
    db.session.add(person)
    db.session.flush()
    audit.record("person.create", person, actor, after={"username": username, "full_name": full_name})
    return person


#: Fields of a person an admin (or an import) may change with `update_person`.
UPDATABLE_FIELDS = ("full_name", "title", "email", "phone", "prefers_digest")


def update_person(actor: Person | None, person: Person, changes: dict[str, object], *,
                  audit_extra: dict[str, object] | None = None) -> dict[str, object]:
    """Change a person's contact fields (already cleaned); audit what changed; return the old values.

    The caller has checked `actor` administers the person's units (one check for a whole import); this
    checks again for single calls, which costs nothing when the roles are loaded.
    """
    require_person_in_scope(actor, person)
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    before = {k: getattr(person, k) for k, v in changes.items() if getattr(person, k) != v}
    for key in before:
        setattr(person, key, changes[key])
    if before or audit_extra:
        audit.record("person.update", person, actor, before=before,
                     after={**{k: changes[k] for k in before}, **(audit_extra or {})})
    return before


def _set_password(person: Person, password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            _l("A password needs at least %(n)s characters."), field="password", n=MIN_PASSWORD_LENGTH
        )
    person.password_hash = generate_password_hash(password, method=_hash_method())


def set_password(actor: Person | None, person: Person, password: str) -> None:
    """Set a new password (the person themself, an admin over one of their units, or the system)."""
    if actor is not None and actor.id != person.id:
        for assignment in person.roles:
            require(actor, Permission.ADMIN, assignment.unit)
    _set_password(person, password)
    ended = end_all_sessions(person)
    # A new password is often a response to a leak: the reminders' action links sent so far go too.
    links = revoke_links(recipient_id=person.id)
    audit.record("person.set_password", person, actor, after={"sessions_ended": ended, "links_revoked": links})


def end_all_sessions(person: Person) -> int:
    """Revoke every sign-in session of `person`, "keep me signed in" cookies included (the caller commits)."""
    result = db.session.execute(sa.update(SignInSession).where(SignInSession.person_id == person.id,
                                                               SignInSession.revoked_at.is_(None))
                                .values(revoked_at=utcnow()))
    return int(result.rowcount or 0)


def set_locale(actor: Person | None, person: Person, locale: str) -> bool:
    """Set the language of a person's pages and messages; return whether it changed."""
    languages = current_app.config.get("LANGUAGES", ["vi", "en"]) if has_app_context() else ["vi", "en"]
    if locale not in languages:
        raise ValidationFailed(_l("Unknown language."), field="locale")
    if actor is not None and actor.id != person.id:
        for assignment in person.roles:
            require(actor, Permission.ADMIN, assignment.unit)
    if person.locale == locale:
        return False
    before = person.locale
    person.locale = locale
    audit.record("person.set_locale", person, actor, before={"locale": before}, after={"locale": locale})
    return True


def set_digest_preference(actor: Person | None, person: Person, prefers_digest: bool) -> bool:
    """Choose immediate messages or one daily digest of a person's e-mail and Zalo reminders; say if it changed.

    With the daily digest, the sweep holds the person's reminders and the digest job sends them together
    once a day; in-app messages are never held.
    """
    if actor is not None and actor.id != person.id:
        for assignment in person.roles:
            require(actor, Permission.ADMIN, assignment.unit)
    if bool(person.prefers_digest) == bool(prefers_digest):
        return False
    before = bool(person.prefers_digest)
    person.prefers_digest = bool(prefers_digest)
    audit.record("person.set_digest_preference", person, actor, before={"prefers_digest": before},
                 after={"prefers_digest": bool(prefers_digest)})
    return True


def check_password(person: Person, password: str) -> bool:
    """Whether `password` is the person's (always False for a disabled account or none set)."""
    return bool(person.is_active and person.password_hash and check_password_hash(person.password_hash, password))


def assign_role(actor: Person | None, person: Person, unit: OrgUnit, role: Role) -> RoleAssignment:
    """Give `person` a role on `unit` and its subtree (an admin of the unit, over a person of their units or
    one with no role yet)."""
    require(actor, Permission.ADMIN, unit)
    require_person_in_scope(actor, person)
    if any(a.unit_id == unit.id and a.role == role for a in person.roles):
        raise Conflict(_l("%(person)s already has this role."), person=person.full_name)
    assignment = RoleAssignment(person=person, unit=unit, role=role)
    db.session.add(assignment)
    db.session.flush()
    audit.record("role.assign", assignment, actor, unit_id=unit.id,
                 after={"person_id": person.id, "role": role.value})
    return assignment


def revoke_role(actor: Person | None, assignment: RoleAssignment) -> None:
    """Take a role away (the assignment row goes; the audit event keeps the history)."""
    require(actor, Permission.ADMIN, assignment.unit)
    audit.record("role.revoke", assignment, actor, unit_id=assignment.unit_id,
                 before={"person_id": assignment.person_id, "role": assignment.role.value})
    assignment.person.roles.remove(assignment)
    db.session.flush()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def default_token_lifetime() -> timedelta | None:
    days = int(current_app.config.get("API_TOKEN_LIFETIME_DAYS", 365))
    return timedelta(days=days) if days > 0 else None


def create_api_token(actor: Person | None, person: Person, name: str = "api", *,
                     lifetime: timedelta | Literal["default"] | None = "default") -> tuple[ApiToken, str]:
    """Make a bearer token for `person`; the clear token is returned once and never stored.

    It expires after `lifetime` (API_TOKEN_LIFETIME_DAYS unless given; None: never), so a token
    copied into a forgotten spreadsheet stops working on its own.
    """
    if actor is not None and actor.id != person.id:
        for assignment in person.roles:
            require(actor, Permission.ADMIN, assignment.unit)
    if lifetime == "default":
        lifetime = default_token_lifetime()
    clear = "trk_" + secrets.token_urlsafe(32)
    token = ApiToken(person=person, name=(name or "api")[:128], token_hash=hash_token(clear),
                     expires_at=None if lifetime is None else utcnow() + lifetime)
    db.session.add(token)
    db.session.flush()
    audit.record("token.create", token, actor, after={
        "person_id": person.id, "name": token.name,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
    })
    return token, clear


def revoke_api_token(actor: Person | None, token: ApiToken) -> None:
    if actor is not None and actor.id != token.person_id:
        raise NotFound(_l("No such token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("token.revoke", token, actor)


#: A token's last use is written at most this often: one UPDATE per request would hold the token's row lock
#: until each request commits, queueing a client's parallel requests on it.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def person_for_token(clear: str) -> Person | None:
    """The active person a bearer token belongs to, with their roles, or None (one query)."""
    now = utcnow()
    token = db.session.scalars(
        sa.select(ApiToken).options(joinedload(ApiToken.person).joinedload(Person.roles))
        .where(ApiToken.token_hash == hash_token(clear))
    ).unique().first()
    if token is None or not token.is_usable(now) or not token.person.is_active:
        return None
    if token.last_used_at is None or token.last_used_at < now - TOKEN_TOUCH_INTERVAL:
        token.last_used_at = now
    return token.person
