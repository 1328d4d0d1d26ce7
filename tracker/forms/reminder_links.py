"""Forms of the quick-action page a reminder's link opens."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from tracker.forms import at_most, strip


class QuickDoneForm(FlaskForm):
    """Mark done without a report: the confirmation, with a short optional note."""

    note = TextAreaField(_l("Note (optional)"), validators=[at_most(2000)], filters=[strip],
                         render_kw={"rows": 2, "maxlength": 2000})


class AcknowledgeForm(FlaskForm):
    """Acknowledge an escalation (nothing to fill in; the CSRF token only)."""
