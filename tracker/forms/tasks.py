"""Forms of the occurrence page: report, mark done, more time, comment, review, decide."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, MultipleFileField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional, ValidationError
from wtforms.widgets import TextInput

from tracker.clock import FIRST_DATE, LAST_DATE
from tracker.forms import INVALID_CHOICE, at_most, choices, required, strip
from tracker.models import Indicator
from tracker.operations.occurrences import not_a_number, parse_figure

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]


class LocalDateField(DateField):
    """A date typed as dd/mm/yyyy (also accepts yyyy-mm-dd), with a translated error.

    A text box rather than the browser's date picker: the picker shows the browser's own order (mm/dd/yyyy
    on many phones), while officers expect dd/mm/yyyy.
    """

    widget = TextInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a date as dd/mm/yyyy."))
        if self.data is not None and not FIRST_DATE <= self.data <= LAST_DATE:
            self.data = None  # "31/12/9999" parses, but no plan runs that long: a typing mistake
            raise ValueError(_l("Enter a date from %(first)s to %(last)s.", first=FIRST_DATE.strftime("%d/%m/%Y"),
                                last=LAST_DATE.strftime("%d/%m/%Y")))


class ReportForm(FlaskForm):
    body = TextAreaField(_l("What was done"), validators=[at_most(20_000)], filters=[strip])
    attachments = MultipleFileField(_l("Attached files"))

    def indicator_fields(self) -> list[tuple[int, StringField]]:
        return [(int(f.name.removeprefix("value_")), f) for f in self if f.name.startswith("value_")]

    def values(self) -> dict[int, str]:
        """Indicator values given (blank ones are left out)."""
        return {ind_id: f.data for ind_id, f in self.indicator_fields() if f.data not in (None, "")}


#: Longer indicator names are cut to this many characters on the form; the whole name goes in a hint.
SHORT_LABEL = 60


def short_label(name: str, limit: int = SHORT_LABEL) -> str:
    """An indicator's name cut at a word before `limit` characters ("Tỷ lệ hộ nghèo…"), or whole if short."""
    name = " ".join(name.split())
    if len(name) <= limit:
        return name
    cut = name[:limit].rsplit(" ", 1)[0].rstrip(",;:-–")
    return f"{cut}…"


def _is_figure(_form: FlaskForm, field: StringField) -> None:
    """The operation's own number rule, checked here too so that every bad figure is shown at once."""
    if field.data not in (None, "") and parse_figure(field.data) is None:
        raise ValidationError(not_a_number(field.data))


def report_form_for(indicators: Iterable[Indicator], **kwargs: object) -> ReportForm:
    """A report form with one optional input per indicator given (those assigned to the occurrence's unit),
    labelled short, with the plan's whole wording as the field's description when it was cut."""

    class _Form(ReportForm):
        pass

    for indicator in indicators:
        short = short_label(indicator.name)
        label = short + (f" ({indicator.unit_of_measure})" if indicator.unit_of_measure else "")
        setattr(_Form, f"value_{indicator.id}",
                StringField(label, validators=[Optional(), at_most(32), _is_figure], filters=[strip],
                            description=indicator.name if short != " ".join(indicator.name.split()) else ""))
    return _Form(**kwargs)


class MarkDoneForm(FlaskForm):
    """Done without a report: a separate action that must be confirmed."""

    note = TextAreaField(_l("Note (optional)"), validators=[at_most(20_000)], filters=[strip])
    confirm = BooleanField(_l("I confirm the task is done and there is nothing to report."),
                           validators=[InputRequired(message=_l("Tick the box to confirm."))])


class ExtensionForm(FlaskForm):
    new_due_on = LocalDateField(_l("New deadline"), format=DATE_FORMATS,
                                validators=[InputRequired(message=_l("This field is required."))],
                           render_kw={"placeholder": "dd/mm/yyyy"})
    reason = TextAreaField(_l("Why is more time needed?"), validators=[required(), at_most(20_000)],
                           filters=[strip])


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment"), validators=[required(), at_most(5000)], filters=[strip])


class ReviewForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=choices([("accept", _l("Accept")), ("return", _l("Return"))]),
                          validators=[required()], invalid_choice_message=INVALID_CHOICE)
    comment = TextAreaField(_l("Comment for the unit"), validators=[at_most(5000)], filters=[strip])


class ExtensionDecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=choices([("approve", _l("Approve")), ("reject", _l("Reject"))]),
                          validators=[required()], invalid_choice_message=INVALID_CHOICE)
    note = TextAreaField(_l("Note"), validators=[at_most(5000)], filters=[strip])
