"""Importing people from a spreadsheet: preview (what would change, every error by row), then apply.

The preview writes nothing. Applying re-reads the same file, plans again inside the confirming transaction
and goes ahead only when the plan is the one previewed (same digest): what the admin saw is what is written;
if the data changed in between, the caller shows the new preview instead. A file with any error is never
applied, so a half-imported file cannot happen.

Set-based: the people named by the file (by username, then by e-mail) and its units (by code, or the units
in scope when names are used) are loaded in a few queries; new people and their roles are inserted in one
flush. One audit event per person created or updated, and one for the import.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from tracker.extensions import db
from tracker.models import OrgUnit, Person, Role, RoleAssignment
from tracker.operations import audit
from tracker.operations.authz import Permission, scope_paths
from tracker.operations.errors import PermissionDenied, ValidationFailed
from tracker.operations.people import (
    clean_email,
    clean_full_name,
    clean_username,
    clean_zalo_phone,
    update_person,
)
from tracker.people_sheet import HEADERS, MAX_LENGTHS, Sheet, SheetRow, read_people_file

#: Words accepted in the "Vai trò" column (casefolded), Vietnamese first; the template lists the first of each.
ROLE_WORDS: dict[Role, tuple[str, ...]] = {
    Role.OFFICER: ("cán bộ", "officer", "công chức"),
    Role.UNIT_HEAD: ("thủ trưởng đơn vị", "thủ trưởng", "unit_head", "unit head", "trưởng đơn vị"),
    Role.FOCAL: ("cán bộ đầu mối", "đầu mối", "focal"),
    Role.CHAIR: ("chủ tịch", "chair", "phó chủ tịch"),
    Role.VIEWER: ("người xem", "viewer", "xem"),
    Role.ADMIN: ("quản trị viên", "quản trị", "admin"),
}
_ROLE_BY_WORD = {word: role for role, words in ROLE_WORDS.items() for word in words}
ROLE_MEANINGS: dict[Role, object] = {
    Role.OFFICER: _l("Owes the unit's tasks: reports, marks done."),
    Role.UNIT_HEAD: _l("Head of the unit: receives its escalations."),
    Role.FOCAL: _l("Follows the plans under the unit: accepts or returns reports."),
    Role.CHAIR: _l("Chair of an administrative unit: sees what is overdue, approves extensions."),
    Role.VIEWER: _l("Read-only: the roll-up of the units below."),
    Role.ADMIN: _l("Units, people, reminder policies."),
}
_YES = {"có", "co", "x", "yes", "y", "1", "true", "đúng"}
_NO = {"không", "khong", "no", "n", "0", "false", ""}
_CHUNK = 900  # bound parameters per IN list, under every backend's limit


def role_words() -> list[tuple[str, str]]:
    """(word to write, what it allows) for the template's guide."""
    return [(ROLE_WORDS[r][0].capitalize() + f" ({r.value})", str(ROLE_MEANINGS[r])) for r in Role]


@dataclass
class RowChange:
    """What one row does: create an account, update one, or nothing."""

    row: int
    action: str  # "create" | "update" | "unchanged"
    username: str
    full_name: str
    unit_id: int
    unit_name: str
    person_id: int | None = None
    fields: dict[str, object] = field(default_factory=dict)  # create: all fields; update: the changed ones
    roles_to_add: list[str] = field(default_factory=list)


@dataclass
class ImportPreview:
    filename: str
    file_sha256: str
    changes: list[RowChange] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row, message), in row order
    ignored_columns: list[str] = field(default_factory=list)

    def of(self, action: str) -> list[RowChange]:
        return [c for c in self.changes if c.action == action]

    @property
    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "unchanged": 0}
        for change in self.changes:
            counts[change.action] += 1
        return {**counts, "errors": len(self.errors), "rows": len(self.changes) + len({r for r, _m in self.errors})}

    @property
    def can_apply(self) -> bool:
        return not self.errors and any(c.action != "unchanged" for c in self.changes)

    @property
    def digest(self) -> str:
        """What confirming would write, as a hash: confirming applies only the plan with this digest."""
        plan = [[c.row, c.action, c.username, c.person_id, c.unit_id, sorted(c.fields.items()), c.roles_to_add]
                for c in self.changes if c.action != "unchanged"]
        text = json.dumps([self.file_sha256, plan, self.errors], ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def error_lines(self) -> list[str]:
        return [_("Row %(row)s: %(message)s", row=row, message=message) for row, message in self.errors]


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int
    roles_added: int


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    items = sorted(set(values))
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def _in_scope(path: str, roots: list[str] | None) -> bool:
    return roots is None or any(path.startswith(root) for root in roots)


def preview_import(actor: Person | None, filename: str, data: bytes) -> ImportPreview:
    """Read a people file and say what importing it would do, with every error by row; write nothing."""
    config = current_app.config
    sheet = read_people_file(filename, data, max_bytes=int(config.get("PEOPLE_IMPORT_MAX_BYTES", 5 << 20)),
                             max_rows=int(config.get("PEOPLE_IMPORT_MAX_ROWS", 20_000)))
    preview = ImportPreview(filename=filename, file_sha256=hashlib.sha256(data).hexdigest(),
                            ignored_columns=sheet.ignored_columns)
    _Planner(actor, sheet, preview).plan()
    preview.errors.sort(key=lambda e: e[0])
    return preview


#: Fields of an account the file may set, compared with what the database holds.
_COMPARED = ("full_name", "title", "email", "phone", "prefers_digest")


@dataclass
class _Known:
    """An existing account as the planner needs it: its fields and its roles (unit id, role, path, unit name)."""

    id: int
    username: str
    fields: dict[str, object]
    roles: list[tuple[int, str, str, str]] = field(default_factory=list)


class _Planner:
    def __init__(self, actor: Person | None, sheet: Sheet, preview: ImportPreview) -> None:
        self.actor = actor
        self.sheet = sheet
        self.preview = preview
        self.roots = None if actor is None else scope_paths(actor, Permission.ADMIN)
        self._by_name_cache: dict[tuple[str, ...], tuple[int, object | None, dict[str, object]]] = {}
        self._ancestors_cache: dict[str, set[str]] = {}
        if self.roots is not None and not self.roots:
            raise PermissionDenied(_l("You do not administer any unit."))

    def error(self, row: int, message: object, **params: object) -> None:
        text = str(message)
        self.preview.errors.append((row, text % params if params else text))

    # --- set-based loading ---------------------------------------------------------------------------

    def _load_people(self) -> tuple[dict[str, _Known], dict[str, list[_Known]]]:
        """The accounts the file names (by username or e-mail), with their roles: plain rows, not ORM objects,
        so thousands of them cost two or three queries and no identity-map bookkeeping."""
        usernames = {r.values.get("username", "").strip().lower() for r in self.sheet.rows} - {""}
        emails = {r.values.get("email", "").strip().lower() for r in self.sheet.rows} - {""}
        known: dict[int, _Known] = {}
        columns = [Person.id, Person.username, *(getattr(Person, f) for f in _COMPARED)]
        for values, column in ((usernames, Person.username), (emails, sa.func.lower(Person.email))):
            # E-mail addresses are ASCII in practice, where lower() agrees on every backend.
            for chunk in _chunks(values):
                for row in db.session.execute(sa.select(*columns).where(column.in_(chunk))):
                    if row.id not in known:
                        known[row.id] = _Known(row.id, row.username, {f: getattr(row, f) for f in _COMPARED})
        for chunk in _chunks(str(i) for i in known):
            query = (sa.select(RoleAssignment.person_id, RoleAssignment.unit_id, RoleAssignment.role, OrgUnit.path,
                               OrgUnit.name)
                     .join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
                     .where(RoleAssignment.person_id.in_([int(i) for i in chunk])))
            for person_id, unit_id, role, path, name in db.session.execute(query):
                known[person_id].roles.append((unit_id, Role(role).value, path, name))
        by_username = {k.username: k for k in known.values()}
        by_email: dict[str, list[_Known]] = defaultdict(list)
        for k in known.values():
            if k.fields.get("email"):
                by_email[str(k.fields["email"]).lower()].append(k)
        return by_username, by_email

    def _load_units_by_code(self) -> dict[str, OrgUnit]:
        wanted: set[str] = set()
        for row in self.sheet.rows:
            code = row.values.get("unit_code", "").strip()
            wanted.update(code_candidates(code))
        found: dict[str, OrgUnit] = {}
        for chunk in _chunks(wanted):
            for unit in db.session.scalars(sa.select(OrgUnit).where(OrgUnit.code.in_(chunk))):
                found[unit.code.upper()] = unit  # type: ignore[union-attr]
        return found

    def _load_units_by_name(self) -> tuple[dict[str, list[tuple[int, str, str]]], dict[int, tuple[str, str]]]:
        """Units in scope by folded name: (id, name, path); and id -> (name, path) for the ancestors' names.

        One query over the scope's units (names are matched folded, which SQLite's lower() cannot do for
        Vietnamese letters), made only when some row names its unit.
        """
        if not any(r.values.get("unit_name") and not r.values.get("unit_code") for r in self.sheet.rows):
            return {}, {}
        query = sa.select(OrgUnit.id, OrgUnit.name, OrgUnit.path).where(OrgUnit.is_archived.is_(False))
        if self.roots is not None:
            query = query.where(sa.or_(*(OrgUnit.subtree_clause(root) for root in self.roots)))
        by_name: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        names: dict[int, tuple[str, str]] = {}
        for unit_id, name, path in db.session.execute(query):
            by_name[_fold(name)].append((unit_id, name, path))
            names[unit_id] = (name, path)
        return by_name, names

    # --- planning ------------------------------------------------------------------------------------

    def plan(self) -> None:
        self.by_username, self.by_email = self._load_people()
        self.units_by_code = self._load_units_by_code()
        self.units_by_name, self.unit_names = self._load_units_by_name()
        self.first_row_of_username: dict[str, int] = {}
        self.first_row_of_email: dict[str, int] = {}
        #: (index in changes, unit id) of rows whose unit was found by name; those units are loaded below.
        self.resolved: list[tuple[int, int]] = []
        for row in self.sheet.rows:
            change = self._plan_row(row)
            if change is not None:
                self.preview.changes.append(change)
        # Units found by name are loaded once, together, to compare existing roles and to name them.
        named_units: dict[int, OrgUnit] = {}
        ids = {unit_id for _i, unit_id in self.resolved}
        for chunk in _chunks(str(i) for i in ids):
            for unit in db.session.scalars(sa.select(OrgUnit).where(OrgUnit.id.in_([int(i) for i in chunk]))):
                named_units[unit.id] = unit
        for index, unit_id in self.resolved:
            self._finish_roles(self.preview.changes[index], named_units[unit_id])
        for change in self.preview.changes:
            if change.action == "update" and not change.fields and not change.roles_to_add:
                change.action = "unchanged"

    def _plan_row(self, row: SheetRow) -> RowChange | None:
        """Check one row (every error is recorded) and say what it would change, or None when in error."""
        values = row.values
        errors_before = len(self.preview.errors)
        for key in row.formulas:
            self.error(row.number, _l("the cell %(column)s holds a formula; type the value itself"),
                       column=HEADERS[key])
        for key, text in values.items():
            if len(text) > MAX_LENGTHS[key]:
                self.error(row.number, _l("the text in %(column)s is too long (at most %(n)s characters)"),
                           column=HEADERS[key], n=MAX_LENGTHS[key])
                values[key] = ""

        cleaned: dict[str, object] = {}
        username = values.get("username", "").strip()
        if username:
            username = self._clean(row.number, clean_username, username) or ""
        for key, fn in (("full_name", clean_full_name), ("email", clean_email), ("zalo_phone", clean_zalo_phone)):
            if key == "full_name" or values.get(key):
                result = self._clean(row.number, fn, values.get(key, ""))
                if result is not None:
                    cleaned[key] = result
        if values.get("title"):
            cleaned["title"] = " ".join(values["title"].split())
        digest_text = values.get("digest", "").strip().casefold()
        if digest_text in _YES:
            cleaned["prefers_digest"] = True
        elif digest_text and digest_text not in _NO:
            self.error(row.number, _l("%(column)s: write 'có' or 'không'"), column=HEADERS["digest"])
        elif digest_text:
            cleaned["prefers_digest"] = False
        roles = self._roles(row.number, values.get("roles", ""))

        # Who: by username, else by e-mail; both given must not name two different accounts.
        email_key = str(cleaned.get("email") or "").lower()
        person = self.by_username.get(username) if username else None
        email_owners = self.by_email.get(email_key, []) if email_key else []
        if person is None and not username and email_key:
            if len(email_owners) == 1:
                person = email_owners[0]
            elif len(email_owners) > 1:
                self.error(row.number, _l("several accounts have the e-mail %(email)s; give the username"),
                           email=cleaned["email"])
        if email_key and any(p is not person for p in email_owners) and (person is not None or username):
            other = next(p for p in email_owners if p is not person)
            self.error(row.number, _l("the e-mail %(email)s belongs to the account %(other)s"),
                       email=cleaned["email"], other=other.username)
        if person is None and not username and not (email_key and len(email_owners) > 1):
            self.error(row.number, _l("a new account needs a username"))
        key = person.username if person is not None else username
        if key:
            if key in self.first_row_of_username:
                self.error(row.number, _l("the account %(username)s is already on row %(first)s"),
                           username=key, first=self.first_row_of_username[key])
            else:
                self.first_row_of_username[key] = row.number
        if email_key:
            if email_key in self.first_row_of_email:
                self.error(row.number, _l("the e-mail %(email)s is already on row %(first)s"),
                           email=cleaned["email"], first=self.first_row_of_email[email_key])
            else:
                self.first_row_of_email[email_key] = row.number
        if person is not None and self.roots is not None:
            outside = [name for _u, _r, path, name in person.roles if not _in_scope(path, self.roots)]
            if outside:
                self.error(row.number, _l("the account %(username)s has roles in units you do not administer "
                                          "(%(unit)s)"), username=person.username, unit=outside[0])
        if person is None and not roles and values.get("roles", "").strip() == "":
            self.error(row.number, _l("a new account needs at least one role"))

        unit, unit_id_by_name = self._unit(row.number, values)
        if len(self.preview.errors) > errors_before:
            return None
        fields = {("phone" if k == "zalo_phone" else k): v for k, v in cleaned.items()}
        change = RowChange(row=row.number, action="create" if person is None else "update", username=key,
                           full_name=str(cleaned["full_name"]), unit_id=0, unit_name="",
                           person_id=person.id if person is not None else None, fields=fields,
                           roles_to_add=[r.value for r in roles])
        if person is not None:
            change.fields = {k: v for k, v in fields.items() if person.fields.get(k) != v}
        if unit is not None:
            self._finish_roles(change, unit, person)
        else:
            change.unit_id = unit_id_by_name
            self.resolved.append((len(self.preview.changes), unit_id_by_name))
            change._person = person  # type: ignore[attr-defined]
        return change

    def _finish_roles(self, change: RowChange, unit: OrgUnit, person: _Known | None = None) -> None:
        person = person or getattr(change, "_person", None)
        change.unit_id, change.unit_name = unit.id, unit.name
        if person is not None:
            held = {role for unit_id, role, _p, _n in person.roles if unit_id == unit.id}
            change.roles_to_add = [r for r in change.roles_to_add if r not in held]
        if hasattr(change, "_person"):
            del change._person  # type: ignore[attr-defined]

    def _clean(self, row: int, fn: Callable[[str], object], value: str) -> object | None:
        try:
            return fn(value)
        except ValidationFailed as error:
            self.error(row, error.render())
            return None

    def _roles(self, row: int, text: str) -> list[Role]:
        roles: list[Role] = []
        for word in re.split(r"[,;\n]+", text):
            folded = " ".join(word.split()).casefold()
            if not folded:
                continue
            role = _ROLE_BY_WORD.get(folded)
            if role is None:
                allowed = ", ".join(ROLE_WORDS[r][0] for r in Role)
                self.error(row, _l("unknown role %(role)s (write one of: %(allowed)s)"), role=word.strip(),
                           allowed=allowed)
            elif role not in roles:
                roles.append(role)
        return roles

    def _unit(self, row: int, values: dict[str, str]) -> tuple[OrgUnit | None, int]:
        """The row's unit: a loaded OrgUnit (by code), or the id of a unit found by name; errors otherwise."""
        units_by_code = self.units_by_code
        code = values.get("unit_code", "").strip()
        name = values.get("unit_name", "").strip()
        if code:
            found = [units_by_code[c] for c in code_candidates(code) if c in units_by_code]
            found = list({u.id: u for u in found}.values())
            if not found:
                self.error(row, _l("no unit has the code %(code)s"), code=code)
                return None, 0
            if len(found) > 1:
                self.error(row, _l("the code %(code)s may mean %(candidates)s; write the full code"), code=code,
                           candidates=", ".join(f"{u.code} ({u.name})" for u in found))
                return None, 0
            unit = found[0]
            if not _in_scope(unit.path, self.roots):
                self.error(row, _l("you do not administer %(unit)s"), unit=unit.name)
                return None, 0
            if unit.is_archived:
                self.error(row, _l("the unit %(unit)s is archived"), unit=unit.name)
                return None, 0
            return unit, 0
        if not name:
            self.error(row, _l("give the unit's code or name"))
            return None, 0
        # Thousands of rows name the same few hundred units: each distinct name is resolved once.
        key = tuple(s for s in (_fold(p) for p in re.split(r"\s*[/>]\s*", name)) if s)
        if key not in self._by_name_cache:
            self._by_name_cache[key] = self._resolve_name(key)
        unit_id, message, params = self._by_name_cache[key]
        if message is not None:
            self.error(row, message, name=name, **params)
            return None, 0
        return None, unit_id

    def _resolve_name(self, segments: tuple[str, ...]) -> tuple[int, object | None, dict[str, object]]:
        """(unit id, None, {}) for the one unit in scope so named, else (0, error message, its parameters)."""
        candidates = list(self.units_by_name.get(segments[-1], [])) if segments else []
        for parent in reversed(segments[:-1]):  # "Xã A / Trạm Y tế": keep those with an ancestor named "Xã A"
            candidates = [c for c in candidates if parent in self._ancestor_names(c[2])]
        if not candidates:
            return 0, _l("no unit named %(name)s among the units you administer"), {}
        if len(candidates) > 1:
            shown = sorted(self._describe(c, self.unit_names) for c in candidates)[:5]
            more = f" (+{len(candidates) - 5})" if len(candidates) > 5 else ""
            return 0, _l("%(count)s units are named %(name)s: %(candidates)s; give the unit's code, or the unit "
                         "above it as 'Parent / Unit'"), {"count": len(candidates),
                                                          "candidates": "; ".join(shown) + more}
        return candidates[0][0], None, {}

    def _ancestor_names(self, path: str) -> set[str]:
        """Folded names of the units above the one at `path` (within the loaded scope)."""
        parent_path = path[:path.rstrip("/").rfind("/") + 1]
        if parent_path not in self._ancestors_cache:
            ids = [int(a) for a in parent_path.strip("/").split("/") if a]
            self._ancestors_cache[parent_path] = {_fold(self.unit_names[i][0]) for i in ids if i in self.unit_names}
        return self._ancestors_cache[parent_path]

    @staticmethod
    def _describe(candidate: tuple[int, str, str], unit_names: dict[int, tuple[str, str]]) -> str:
        ancestors = [int(a) for a in candidate[2].strip("/").split("/")[:-1]]
        parent = unit_names.get(ancestors[-1], ("", ""))[0] if ancestors else ""
        return f"{parent} / {candidate[1]}" if parent else candidate[1]


def _fold(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def code_candidates(code: str) -> list[str]:
    """Codes to look a cell up by: as written, and a bare number as a province (P..) or commune (W..) code."""
    code = code.strip().upper()
    if not code:
        return []
    if code.isdigit():
        return [code, f"P{int(code)}", f"W{int(code)}"]
    return [code]


# --- Applying ----------------------------------------------------------------------------------------------

class PreviewChanged(Exception):
    """The plan is not the one previewed, or has errors: the caller shows `preview` instead of applying."""

    def __init__(self, preview: ImportPreview) -> None:
        super().__init__("the import changed since its preview")
        self.preview = preview


def apply_import(actor: Person | None, filename: str, data: bytes, *, expected_digest: str | None) -> ImportResult:
    """Import a people file: plan it again and write exactly that plan (flushes; the caller commits).

    With `expected_digest` (the preview's), a different plan raises PreviewChanged and nothing is written;
    so does a file with any error (the exception carries the new preview, errors included, to show).
    """
    preview = preview_import(actor, filename, data)
    if preview.errors or (expected_digest is not None and preview.digest != expected_digest):
        raise PreviewChanged(preview)
    creates, updates = preview.of("create"), preview.of("update")
    people = {p.id: p for chunk in _chunks(str(c.person_id) for c in updates)
              for p in db.session.scalars(sa.select(Person).options(selectinload(Person.roles))
                                          .where(Person.id.in_([int(i) for i in chunk])))}
    # New accounts have no password: they choose one through "Forgot password" (a reset link by e-mail),
    # or an admin sets one; password_hash None can never sign in.
    # One executemany INSERT, then the new ids read back by username (unique) in a few queries: not one flush
    # per person, and not INSERT ... RETURNING, whose batched results SQLAlchemy splices at quadratic cost.
    rows = [{"username": c.username, "locale": "vi", **{k: c.fields.get(k) for k in _COMPARED}} for c in creates]
    for row in rows:
        row["prefers_digest"] = bool(row["prefers_digest"])
    new_ids: dict[str, int] = {}
    role_rows: list[dict[str, object]] = []
    try:
        # Two confirms of one file at once both plan "create"; the unique usernames (and role assignments)
        # let one write and send the other back to a fresh preview, in which the first one's people exist.
        with db.session.begin_nested():
            if rows:
                db.session.execute(sa.insert(Person), rows)
                for chunk in _chunks(c.username for c in creates):
                    new_ids.update(db.session.execute(sa.select(Person.username, Person.id)
                                                      .where(Person.username.in_(chunk))).tuples().all())
            role_rows = [{"person_id": new_ids[c.username] if c.action == "create" else c.person_id,
                          "unit_id": c.unit_id, "role": Role(role)}
                         for c in creates + updates for role in c.roles_to_add]
            if role_rows:
                db.session.execute(sa.insert(RoleAssignment), role_rows)
    except sa.exc.IntegrityError:
        raise PreviewChanged(preview_import(actor, filename, data)) from None
    roles_added = len(role_rows)
    for change in creates:
        audit.record_about("person.create", Person.__tablename__, new_ids[change.username], actor,
                           unit_id=change.unit_id, after={
                               "username": change.username, **{k: change.fields.get(k) for k in _COMPARED},
                               "roles": change.roles_to_add, "unit_id": change.unit_id, "source": "import",
                               "row": change.row})
    for change in updates:
        update_person(actor, people[change.person_id], change.fields, audit_extra={
            "roles_added": change.roles_to_add, "unit_id": change.unit_id, "source": "import", "row": change.row})
    counts = preview.counts
    audit.record_about("people.import", "people_import", int(preview.file_sha256[:15], 16), actor, after={
        "filename": filename, "sha256": preview.file_sha256, "created": counts["create"],
        "updated": counts["update"], "unchanged": counts["unchanged"], "roles_added": roles_added})
    db.session.flush()
    return ImportResult(created=counts["create"], updated=counts["update"], unchanged=counts["unchanged"],
                        roles_added=roles_added)
