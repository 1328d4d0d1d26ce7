"""Profile forms: language, API tokens, calendar link."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField

from tracker.forms import at_most, required, strip


class LanguageForm(FlaskForm):
    lang = StringField(_l("Language"), validators=[required(), at_most(8)], filters=[strip])
    next = HiddenField()


class TokenForm(FlaskForm):
    name = StringField(_l("What the token is for"), validators=[required(), at_most(128)], filters=[strip])


class ConfirmForm(FlaskForm):
    """A button that posts: only the CSRF token."""
