"""Administration: the unit tree (create, archive) and people (create, roles, password reset)."""

from __future__ import annotations

import base64
import binascii
import io

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from tracker.blueprints.args import id_arg
from tracker.blueprints.transaction import atomic
from tracker.extensions import db
from tracker.forms import first_error
from tracker.forms.admin import (
    UNIT_KIND_LABELS,
    ConfirmForm,
    PasswordForm,
    PeopleConfirmForm,
    PeopleUploadForm,
    PersonForm,
    RoleForm,
    UnitForm,
    role_choices,
)
from tracker.models import OrgUnit, Person, Role, RoleAssignment, UnitKind
from tracker.operations import people as people_ops
from tracker.operations import people_import
from tracker.operations import units as unit_ops
from tracker.operations.authz import Permission, can, scope_clause, scope_paths
from tracker.operations.errors import DomainError

bp = Blueprint("admin", __name__, url_prefix="/admin")

Page = str | Response | tuple[str, int]
MAX_UNITS = 3000


@bp.before_request
@login_required
def _admins_only() -> None:
    if not scope_paths(current_user, Permission.ADMIN):
        abort(403)


def _admin_units() -> list[OrgUnit]:
    """Units the person administers (for choosing a parent or a role's unit), tree order."""
    return list(db.session.scalars(
        sa.select(OrgUnit).where(scope_clause(current_user, OrgUnit.path, Permission.ADMIN),
                                 OrgUnit.is_archived.is_(False))
        .order_by(OrgUnit.path).limit(MAX_UNITS)
    ))


def _unit_or_404(unit_id: int | None) -> OrgUnit:
    unit = db.session.get(OrgUnit, unit_id) if unit_id else None
    if unit is None:
        abort(404)
    return unit


# --- Units -----------------------------------------------------------------------------------------------

def _render_units(form: UnitForm | None = None, error: str | None = None, status: int = 200) -> Page:
    unit_id = id_arg("unit")
    roots = [u for u in db.session.scalars(
        sa.select(OrgUnit).where(OrgUnit.path.in_(scope_paths(current_user, Permission.ADMIN)))
    )]
    root = _unit_or_404(unit_id) if unit_id is not None else (roots[0] if roots else None)
    if root is None or not can(current_user, Permission.ADMIN, root):
        abort(403)
    # Two levels below the chosen unit; deeper levels open by following a link.
    units = list(db.session.scalars(
        sa.select(OrgUnit).where(OrgUnit.subtree_clause(root.path), OrgUnit.depth <= root.depth + 2)
        .order_by(OrgUnit.path).limit(MAX_UNITS)
    ))
    children: dict[int | None, list[OrgUnit]] = {}
    for u in units:
        children.setdefault(u.parent_id, []).append(u)
    form = form or UnitForm(formdata=None, parent_id=root.id)
    html = render_template("admin/units.html", root=root, roots=roots, children=children, form=form, error=error,
                           confirm=ConfirmForm(formdata=None), kinds=UNIT_KIND_LABELS, parents=_admin_units(),
                           max_depth=root.depth + 2)
    return (html, status) if status != 200 else html


@bp.get("/units")
def units() -> Page:
    return _render_units()


@bp.post("/units")
def create_unit() -> Page:
    form = UnitForm()
    if not form.validate():
        return _render_units(form, first_error(form), 422)
    parent = _unit_or_404(form.parent_id.data)
    try:
        with atomic():
            unit = unit_ops.create_unit(current_user, name=form.name.data or "", kind=UnitKind(form.kind.data),
                                        parent=parent)
    except DomainError as error:
        return _render_units(form, error.render(), error.status)
    flash(_("%(unit)s has been created.", unit=unit.name), "success")
    return redirect(url_for("admin.units", unit=parent.id))


@bp.post("/units/<id:unit_id>/archive")
def archive_unit(unit_id: int) -> Response:
    unit = _unit_or_404(unit_id)
    form = ConfirmForm()
    if not form.validate():
        abort(400)
    unit_ops.archive_unit(current_user, unit)
    flash(_("%(unit)s has been archived.", unit=unit.name), "success")
    return redirect(url_for("admin.units", unit=unit.parent_id or unit.id))


# --- People ----------------------------------------------------------------------------------------------

def _people_in_scope() -> list[Person]:
    in_scope = (
        sa.select(RoleAssignment.person_id).join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
        .where(scope_clause(current_user, OrgUnit.path, Permission.ADMIN))
    )
    return list(db.session.scalars(
        sa.select(Person).where(Person.id.in_(in_scope)).order_by(Person.full_name, Person.id).limit(2000)
    ))


def _new_person_form(formdata: bool = True) -> PersonForm:
    form = PersonForm() if formdata else PersonForm(formdata=None)
    form.role.choices = role_choices()
    return form


def _render_people(form: PersonForm | None = None, error: str | None = None, status: int = 200) -> Page:
    html = render_template("admin/people.html", people=_people_in_scope(), form=form or _new_person_form(False),
                           units=_admin_units(), error=error, upload=PeopleUploadForm(formdata=None))
    return (html, status) if status != 200 else html


@bp.get("/people")
def people() -> Page:
    return _render_people()


@bp.post("/people")
def create_person() -> Page:
    form = _new_person_form()
    if not form.validate():
        return _render_people(form, first_error(form), 422)
    unit = _unit_or_404(form.unit_id.data)
    try:
        with atomic():  # an account is only created together with a role the admin may give
            person = people_ops.create_person(
                current_user, username=form.username.data or "", full_name=form.full_name.data or "",
                email=form.email.data, phone=form.phone.data, title=form.title.data or None,
                password=form.password.data or "",
            )
            people_ops.assign_role(current_user, person, unit, Role(form.role.data))
    except DomainError as error:
        return _render_people(form, error.render(), error.status)
    flash(_("The account %(username)s has been created.", username=person.username), "success")
    return redirect(url_for("admin.person_page", person_id=person.id))


def _person_or_403(person_id: int) -> Person:
    person = db.session.scalar(
        sa.select(Person).options(selectinload(Person.roles)).where(Person.id == person_id)
    )
    if person is None:
        abort(404)
    if not any(can(current_user, Permission.ADMIN, a.unit) for a in person.roles):
        abort(403)
    return person


def _render_person(person: Person, error: str | None = None, status: int = 200, **forms: object) -> Page:
    role_form = forms.get("role_form") or RoleForm(formdata=None)
    role_form.role.choices = role_choices()  # type: ignore[attr-defined]
    html = render_template("admin/person.html", person=person, role_form=role_form,
                           password_form=forms.get("password_form") or PasswordForm(formdata=None),
                           confirm=ConfirmForm(formdata=None), units=_admin_units(), error=error)
    return (html, status) if status != 200 else html


@bp.get("/people/<id:person_id>")
def person_page(person_id: int) -> Page:
    return _render_person(_person_or_403(person_id))


@bp.post("/people/<id:person_id>/roles")
def assign_role(person_id: int) -> Page:
    person = _person_or_403(person_id)
    form = RoleForm()
    form.role.choices = role_choices()
    if not form.validate():
        return _render_person(person, first_error(form), 422, role_form=form)
    unit = _unit_or_404(form.unit_id.data)
    try:
        with atomic():
            people_ops.assign_role(current_user, person, unit, Role(form.role.data))
    except DomainError as error:
        return _render_person(_person_or_403(person_id), error.render(), error.status, role_form=form)
    flash(_("The role has been given."), "success")
    return redirect(url_for("admin.person_page", person_id=person.id))


@bp.post("/roles/<id:assignment_id>/revoke")
def revoke_role(assignment_id: int) -> Response:
    assignment = db.session.get(RoleAssignment, assignment_id)
    if assignment is None:
        abort(404)
    if not ConfirmForm().validate():
        abort(400)
    person_id = assignment.person_id
    people_ops.revoke_role(current_user, assignment)
    flash(_("The role has been taken away."), "success")
    if not db.session.scalar(sa.select(RoleAssignment.id).where(RoleAssignment.person_id == person_id).limit(1)):
        return redirect(url_for("admin.people"))
    return redirect(url_for("admin.person_page", person_id=person_id))


@bp.post("/people/<id:person_id>/password")
def reset_password(person_id: int) -> Page:
    person = _person_or_403(person_id)
    form = PasswordForm()
    if not form.validate():
        return _render_person(person, first_error(form), 422, password_form=form)
    try:
        with atomic():
            people_ops.set_password(current_user, person, form.password.data or "")
    except DomainError as error:
        return _render_person(_person_or_403(person_id), error.render(), error.status)
    flash(_("The password of %(name)s has been changed.", name=person.full_name), "success")
    return redirect(url_for("admin.person_page", person_id=person.id))


# --- People from a spreadsheet ---------------------------------------------------------------------------
# Upload -> preview (nothing written) -> confirm. The preview page carries the file back (base64) with the
# digest of the plan it showed; confirming plans again in its own transaction and writes only that plan.

@bp.get("/people/template.xlsx")
def people_template() -> Response:
    from tracker.people_sheet import template_bytes

    return send_file(io.BytesIO(template_bytes(people_import.role_words())), as_attachment=True,
                     download_name="mau-nhap-nguoi-dung.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _render_import(preview: people_import.ImportPreview | None, content: bytes = b"", *, error: str | None = None,
                   changed: bool = False, status: int = 200) -> Page:
    confirm = PeopleConfirmForm(formdata=None)
    if preview is not None:
        confirm.content.data = base64.b64encode(content).decode()
        confirm.filename.data = preview.filename
        confirm.digest.data = preview.digest
    html = render_template("admin/people_import.html", preview=preview, confirm=confirm, error=error,
                           changed=changed, upload=PeopleUploadForm(formdata=None))
    return (html, status) if status != 200 else html


@bp.post("/people/import")
def import_people_preview() -> Page:
    form = PeopleUploadForm()
    if not form.validate():
        return _render_import(None, error=first_error(form), status=422)
    upload = form.file.data
    limit = int(current_app.config.get("PEOPLE_IMPORT_MAX_BYTES", 5 << 20))
    data = upload.stream.read(limit + 1)
    try:
        with atomic():
            preview = people_import.preview_import(current_user, upload.filename or "", data)
    except DomainError as error:
        return _render_import(None, error=error.render(), status=error.status)
    db.session.rollback()  # a preview reads only
    return _render_import(preview, data, status=200 if not preview.errors else 422)


@bp.post("/people/import/confirm")
def import_people_confirm() -> Page:
    # The file comes back base64-encoded in a url-encoded form: bounded by MAX_CONTENT_LENGTH, not by
    # MAX_FORM_MEMORY_SIZE (which werkzeug applies to multipart fields only); the import checks its own limit.
    form = PeopleConfirmForm()
    if not form.validate():
        abort(400)
    try:
        data = base64.b64decode(form.content.data or "", validate=True)
    except (binascii.Error, ValueError):
        abort(400)
    filename = form.filename.data or ""
    try:
        with atomic():
            result = people_import.apply_import(current_user, filename, data, expected_digest=form.digest.data)
    except people_import.PreviewChanged as refused:
        preview = refused.preview
        return _render_import(preview, data, changed=preview.digest != form.digest.data,
                              status=422 if preview.errors else 409)
    except DomainError as error:
        return _render_import(None, error=error.render(), status=error.status)
    flash(_("Imported %(file)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.", file=filename,
            created=result.created, updated=result.updated, unchanged=result.unchanged), "success")
    return redirect(url_for("admin.people"))
