"""The periodic report page's form (read from the query string: choosing and previewing change nothing)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Optional

from tracker.forms import at_most, choices, strip
from tracker.forms.tasks import DATE_FORMATS, LocalDateField
from tracker.periods import Period


def _optional_id(value: Any) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)


class PeriodicReportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: it only reads

    # The lists offer what the person may see; a link may name another id, which the report itself checks.
    plan = SelectField(_l("Plan"), coerce=_optional_id, validate_choice=False)
    unit = SelectField(_l("Or every plan of the unit"), coerce=_optional_id, validate_choice=False)
    #: "2025-H1" and the like, offered as a list (see `periods`) but read as text: a link may name any period.
    period = StringField(_l("Period"), validators=[Optional(), at_most(40)], filters=[strip])
    start = LocalDateField(_l("From date"), format=DATE_FORMATS, validators=[Optional()])
    end = LocalDateField(_l("To date"), format=DATE_FORMATS, validators=[Optional()])
    rollup = SelectField(_l("Roll up the units below"), coerce=_optional_id, validate_choice=False)
    issuer = SelectField(_l("Issued by"), coerce=_optional_id, validate_choice=False)
    number = StringField(_l("Number and symbol"), validators=[Optional(), at_most(64)], filters=[strip])
    signer_title = StringField(_l("Signer's title"), validators=[Optional(), at_most(120)], filters=[strip])
    signer_name = StringField(_l("Signer"), validators=[Optional(), at_most(120)], filters=[strip])

    def __init__(self, *args: Any, plans: list[tuple[int, str]], units: list[tuple[int, str]],
                 periods: list[Period], rollups: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        none: list[tuple[int | None, str]] = [(None, "—")]
        issuers = list(dict.fromkeys([*units, *rollups]))
        for field, offered in ((self.plan, plans), (self.unit, units), (self.rollup, rollups), (self.issuer, issuers)):
            chosen = field.data if isinstance(field.data, int) else None
            extra = [(chosen, f"#{chosen}")] if chosen is not None and chosen not in dict(offered) else []
            field.choices = choices(none + offered + extra)
        self.periods = periods

    def chosen_period(self) -> str:
        """The period asked for: the dates typed (both), else the one chosen in the list."""
        start, end = self.start.data, self.end.data
        if isinstance(start, date) and isinstance(end, date):
            return f"{start.isoformat()}..{end.isoformat()}"
        return str(self.period.data or "")

    def is_asked(self) -> bool:
        """Whether the person has asked for a preview (not just opened the page)."""
        return bool(self.plan.data or self.unit.data)
