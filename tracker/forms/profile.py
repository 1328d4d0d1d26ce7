"""Profile forms: language, API tokens, calendar link, how reminders arrive."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField

from tracker.forms import INVALID_CHOICE, at_most, choices, required, strip


class LanguageForm(FlaskForm):
    lang = StringField(_l("Language"), validators=[required(), at_most(8)], filters=[strip])
    next = HiddenField()


class TokenForm(FlaskForm):
    name = StringField(_l("What the token is for"), validators=[required(), at_most(128)], filters=[strip])


class ConfirmForm(FlaskForm):
    """A button that posts: only the CSRF token."""


class DeliveryForm(FlaskForm):
    """Immediate messages, or one daily digest of the e-mail and Zalo reminders."""

    delivery = RadioField(_l("How reminders reach you"),
                          choices=choices([("immediate", _l("Immediately")), ("daily", _l("Daily digest"))]),
                          validators=[required()], invalid_choice_message=INVALID_CHOICE)
