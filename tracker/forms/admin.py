"""Administration forms: units, people, roles, passwords."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import EmailField, HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from tracker.forms import INVALID_CHOICE, at_most, choices, required, strip
from tracker.models import Role, UnitKind
from tracker.schemas.base import MAX_ID

UNIT_KIND_LABELS = {
    UnitKind.COUNTRY: _l("Country"), UnitKind.MINISTRY: _l("Ministry"), UnitKind.PROVINCE: _l("Province"),
    UnitKind.DISTRICT: _l("District"), UnitKind.COMMUNE: _l("Commune / ward"), UnitKind.VILLAGE: _l("Village"),
    UnitKind.DEPARTMENT: _l("Department"), UnitKind.OFFICE: _l("Office or post"),
    UnitKind.HEALTH_STATION: _l("Health station"), UnitKind.SCHOOL: _l("School"),
    UnitKind.MASS_ORGANIZATION: _l("Mass organisation"), UnitKind.COMMITTEE: _l("Committee"),
    UnitKind.AGENCY: _l("Other agency"),
}


def _unit_id_field() -> IntegerField:
    return IntegerField(_l("Unit"), validators=[required(), NumberRange(min=1, max=MAX_ID,
                                                                        message=_l("Choose a unit."))])


class UnitForm(FlaskForm):
    name = StringField(_l("Name"), validators=[required(), at_most(255)], filters=[strip])
    kind = SelectField(_l("Kind"), choices=choices((k.value, label) for k, label in UNIT_KIND_LABELS.items()),
                       validators=[required()], invalid_choice_message=INVALID_CHOICE)
    parent_id = _unit_id_field()


class PersonForm(FlaskForm):
    username = StringField(_l("Username"), validators=[required(), at_most(64)], filters=[strip])
    full_name = StringField(_l("Full name"), validators=[required(), at_most(255)], filters=[strip])
    title = StringField(_l("Position"), validators=[Optional(), at_most(255)], filters=[strip])
    email = EmailField(_l("E-mail"), validators=[Optional(), at_most(255)], filters=[strip])
    phone = StringField(_l("Phone"), validators=[Optional(), at_most(32)], filters=[strip])
    password = PasswordField(_l("Password"), validators=[required(), at_most(256)])
    role = SelectField(_l("Role"), validators=[required()], invalid_choice_message=INVALID_CHOICE)
    unit_id = _unit_id_field()


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), validators=[required()], invalid_choice_message=INVALID_CHOICE)
    unit_id = _unit_id_field()


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[required(), at_most(256)])


class PeopleUploadForm(FlaskForm):
    """A people file to preview (.xlsx or .csv); the import operation checks its type, size and rows."""

    file = FileField(_l("File (.xlsx or .csv)"), validators=[required()])


class PeopleConfirmForm(FlaskForm):
    """Confirming a previewed import: the same file again (base64) and the digest of what the preview showed."""

    content = HiddenField(validators=[required()])
    filename = HiddenField(validators=[required(), at_most(255)])
    digest = HiddenField(validators=[required(), at_most(64)])


class ConfirmForm(FlaskForm):
    """A button that posts (archive, revoke): only the CSRF token."""


def role_choices() -> list[Any]:
    from tracker.blueprints.main import ROLE_LABELS

    return choices((r.value, str(ROLE_LABELS[r.value])) for r in Role)
