"""Sign-in and password reset forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import EqualTo

from tracker.forms import at_most, required, strip


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[required(), at_most(64)], filters=[strip])
    password = PasswordField(_l("Password"), validators=[required(), at_most(256)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class ForgotPasswordForm(FlaskForm):
    username = StringField(_l("Username or e-mail"), validators=[required(), at_most(255)], filters=[strip])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[required(), at_most(256)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[required(), EqualTo("password", message=_l("The two passwords differ."))],
    )
