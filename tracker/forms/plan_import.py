"""Forms of plan import: the upload, and the review screen's row edit, new row and header forms.

Unit choices are filled per request (the issuing unit's units); the operations check them again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional

from tracker.forms import INVALID_CHOICE, at_most, choices, required, strip
from tracker.forms.tasks import DATE_FORMATS, LocalDateField
from tracker.models import OrgUnit

#: The lead select's value meaning "a new unit, named in the next box".
NEW_UNIT = "new"

RECURRENCE_CHOICES: list[tuple[str, Any]] = [
    ("", _l("None (deadlines only)")),
    ("monthly", _l("Monthly")),
    ("quarterly", _l("Quarterly")),
    ("semiannual", _l("Every 6 months")),
    ("annual", _l("Yearly")),
    ("semiannual,annual", _l("Every 6 months and yearly")),
    ("quarterly,annual", _l("Quarterly and yearly")),
    ("monthly,annual", _l("Monthly and yearly")),
]


class DateListField(StringField):
    """Several dates typed as dd/mm/yyyy, separated by semicolons, commas or new lines."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.raw = valuelist[0] if valuelist else ""
        self.data = []
        for piece in re.split(r"[;,\n]+|\s{2,}", self.raw or ""):
            piece = piece.strip()
            if not piece:
                continue
            for fmt in DATE_FORMATS:
                try:
                    self.data.append(datetime.strptime(piece, fmt).date())
                    break
                except ValueError:
                    continue
            else:
                self.data = []
                raise ValueError(_l("Enter dates as dd/mm/yyyy, separated by semicolons."))

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "; ".join(d.strftime("%d/%m/%Y") for d in self.data or [])


class UploadForm(FlaskForm):
    file = FileField(_l("Plan document (.docx, .pdf or .txt)"))
    issuing_unit_id = SelectField(_l("Issuing unit"), coerce=int, validators=[required()],
                                  invalid_choice_message=INVALID_CHOICE)
    update = HiddenField()


class _RowFields(FlaskForm):
    lead = SelectField(_l("Lead unit"), validators=[required()], invalid_choice_message=INVALID_CHOICE)
    proposed_name = StringField(_l("New unit's name"), validators=[Optional(), at_most(255)], filters=[strip])


class UnitChoiceForm(_RowFields):
    """The row's quick unit change: a candidate, another unit of the issuer, or a new unit."""


class RowForm(_RowFields):
    title = TextAreaField(_l("Task"), validators=[required(), at_most(2000)], filters=[strip])
    report_to = SelectField(_l("Report to"), invalid_choice_message=INVALID_CHOICE)
    coordinating = SelectMultipleField(_l("Coordinating units"), invalid_choice_message=INVALID_CHOICE)
    due_dates = DateListField(_l("Deadlines (dd/mm/yyyy; …)"), render_kw={"placeholder": "25/09/2024; 31/12/2024"})
    recurrence = SelectField(_l("Recurrence"), invalid_choice_message=INVALID_CHOICE)


class NewRowForm(RowForm):
    section = StringField(_l("Section"), validators=[Optional(), at_most(64)], filters=[strip])


class HeaderForm(FlaskForm):
    title = TextAreaField(_l("Title"), validators=[required(), at_most(2000)], filters=[strip])
    number = StringField(_l("Number"), validators=[Optional(), at_most(64)], filters=[strip])
    issued_on = LocalDateField(_l("Issued on"), format=DATE_FORMATS, validators=[Optional()],
                               render_kw={"placeholder": "dd/mm/yyyy"})
    period_start_on = LocalDateField(_l("Period from"), format=DATE_FORMATS, validators=[Optional()],
                                     render_kw={"placeholder": "dd/mm/yyyy"})
    period_end_on = LocalDateField(_l("Period to"), format=DATE_FORMATS, validators=[Optional()],
                                   render_kw={"placeholder": "dd/mm/yyyy"})


def unit_label(unit: OrgUnit, base_depth: int) -> str:
    return "— " * max(0, unit.depth - base_depth) + unit.name


def fill_row_choices(form: _RowFields, *, leads: Iterable[OrgUnit], candidates: Iterable[dict[str, Any]] = (),
                     nearby: Iterable[OrgUnit] = (), current_recurrence: str | None = None) -> None:
    """Set the selects' options: candidates (with their scores) first, then the issuer's units, then a new unit."""
    leads = list(leads)
    base = leads[0].depth if leads else 0
    options: list[tuple[str, str]] = []
    seen: set[str] = set()
    for candidate in candidates:
        key = str(candidate.get("id"))
        if key not in seen:
            seen.add(key)
            options.append((key, f"{candidate.get('name')} ({round(float(candidate.get('score') or 0) * 100)}%)"))
    for unit in leads:
        if str(unit.id) not in seen:
            seen.add(str(unit.id))
            options.append((str(unit.id), unit_label(unit, base)))
    options.append((NEW_UNIT, str(_l("New unit (type its name)"))))
    form.lead.choices = choices(options)
    if isinstance(form, RowForm):
        nearby = list(nearby)
        form.report_to.choices = choices([("", str(_l("(not named)")))] + [(str(u.id), u.name) for u in nearby])
        form.coordinating.choices = choices([(str(u.id), u.name) for u in nearby])
        recurrence_options = [(value, str(label)) for value, label in RECURRENCE_CHOICES]
        if current_recurrence and current_recurrence not in {v for v, _ in recurrence_options}:
            recurrence_options.append((current_recurrence, current_recurrence))
        form.recurrence.choices = choices(recurrence_options)


def dates_of(task_due_on: date | None, extra: list[str] | None) -> list[date]:
    return [d for d in [task_due_on, *(date.fromisoformat(x) for x in extra or [])] if d]
