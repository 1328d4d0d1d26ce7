"""Turn an extracted plan document into a draft plan: header, tasks per resolved unit, targets.

The extraction itself (reading .txt/.docx/.pdf and finding units, deadlines, recurrences and targets)
lives in tracker.importer and never touches the database; this module resolves what it found against
the org tree and writes the draft, which a person reviews (tracker.operations.drafts, the review screen)
and then confirms (plans.activate_plan).

How the engine's extras are used (decisions, kept here beside the code that applies them):

* ``members`` (a heading naming several units, "UBMTTQ phường và các ban ngành đoàn thể, các Tổ dân
  phố"): every member gets its own task(s). The heading gives the whole item to each of them alike, with
  no lead/coordinating distinction, and the tracker's unit of accountability is one lead unit per task:
  one task with coordinating units would make the first-named body answer for the others' work, which the
  document does not say. A plural member fans out on its own; a member that is plural but of no kind we
  can map ("các tổ chức thành viên") cannot become a task and is kept as a coordinating name of its
  siblings' tasks, with a warning. The same org unit named twice in one heading gets one task.
* ``fanout_kind``: one task per unit of the mapped kinds (FANOUT_KINDS) among the issuing unit's children
  (or, for kinds that live further down such as schools under communes, its descendants; never villages,
  which are always the issuer's own). "mass
  organisation", "department", "official" and "locality" fan out only when the phrase is plural as a whole
  (it starts with "các"/"những"): "Các tổ chức chính trị - xã hội" fans out, "Ủy ban MTTQ và các tổ chức
  thành viên" does not. A plural phrase with no unit of its kind in the tree stays one row with a proposed
  unit and a warning, so the reviewer adds the units or picks one.
* ``recurrence``: the "periodic" marker (the plan says "định kỳ" without a period) is dropped and the
  engine's assumed default ("annual", already warned) is kept. "weekly" alone becomes a Friday RRULE.
* ``default_due``: the task is due at the plan's end; add_task does that when a task has no date and no
  recurrence, and the review screen shows the date as a default.
* deadline ``kind`` "target" (the date an outcome is to be reached: "phấn đấu đạt 100% vào cuối năm
  2024"): it makes no occurrence. It is when an indicator is measured, which the plan's yearly targets
  and the reported indicator values already track; the task is due on its report/completion deadlines,
  else (like the engine's ``default_due``) at the plan's end. The date stays on the row, highlighted in
  its source text, and the reviewer can add it as a deadline.
* ``requested`` ("Đề nghị Ủy ban MTTQ ...": the plan asks a body it does not command): the row stays a
  task, flagged ``requested`` and shown as a request. The tree models the Fatherland Front and the mass
  organisations as units of their commune, and plans expect their report all the same; a requested body
  outside the issuer's tree cannot be given a task, so it is proposed like any unknown unit for the
  reviewer to keep (as a new unit) or drop.

Unit resolution: names are compared with tracker.importer.units.match_unit (abbreviations, old/new tone
placement, case, punctuation). A lead is matched among the issuing unit itself and its children: a
score of at least AUTO_MATCH is taken as sure (green), at least TENTATIVE_MATCH as probable (amber, to
check), anything less proposes a new unit under the issuer (red), created when the plan is confirmed.
The three best candidates are kept with their scores for the review screen.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from tracker.extensions import db
from tracker.models import (
    Comparator,
    Direction,
    Indicator,
    OrgUnit,
    Person,
    Plan,
    PlanDocument,
    PlanStatus,
    UnitKind,
)
from tracker.operations import audit, references
from tracker.operations.authz import Permission, require, scope_clause
from tracker.operations.errors import Conflict, ValidationFailed
from tracker.operations.indicators import create_indicator, set_target
from tracker.operations.plans import add_task, create_plan

log = logging.getLogger("tracker.importer")

#: A unit name matching an org unit at least this well is taken as sure (green on the review screen).
AUTO_MATCH = 0.8
#: ... at least this well, taken but flagged for checking (amber); below, a new unit is proposed (red).
TENTATIVE_MATCH = 0.65
#: How many candidate org units the review screen offers per row.
CANDIDATES = 3
#: A plural phrase fanning out to more units than this stays one row (a warning says why).
MAX_FANOUT = 500

#: Row warnings stored in a task's import_meta["warnings"] as {"code": ..., params}, translated when shown.
WARNING_CODES = ("fanout_empty", "fanout_too_many", "kept_coordinating", "before_issue")

#: Plural phrases fan out to one task per unit of these kinds ("Các thôn" -> each village).
FANOUT_KINDS: dict[str, tuple[UnitKind, ...]] = {
    "village": (UnitKind.VILLAGE,),
    "residential_group": (UnitKind.VILLAGE,),
    "commune": (UnitKind.COMMUNE,),
    "district": (UnitKind.DISTRICT,),
    "school": (UnitKind.SCHOOL,),
    "health_station": (UnitKind.HEALTH_STATION,),
    "mass_organization": (UnitKind.MASS_ORGANIZATION,),
    "department": (UnitKind.DEPARTMENT, UnitKind.OFFICE),
    "official": (UnitKind.OFFICE,),
    "locality": (UnitKind.COMMUNE, UnitKind.DISTRICT),
}
#: Kinds that fan out only when the phrase is plural as a whole ("Các tổ chức chính trị - xã hội").
WHOLE_PHRASE_KINDS = frozenset({"mass_organization", "department", "official", "locality"})
#: Kinds looked for below the issuer's children when none is a child (schools and stations of communes).
#: Villages (thôn, bản, tổ dân phố) are not among them: they belong to their commune, so "các thôn" means the
#: issuer's own villages, never those of the communes below a district (nor of other communes).
DEEP_KINDS = frozenset({UnitKind.COMMUNE, UnitKind.SCHOOL, UnitKind.HEALTH_STATION})
#: Words every other unit name has: sharing only these says nothing about two names.
_COMMON_WORDS = frozenset({
    "xã", "phường", "thị", "trấn", "huyện", "quận", "tỉnh", "thành", "phố", "và", "các", "của", "ủy", "ban",
    "nhân", "dân", "công", "chức", "cán", "bộ",
})
_POST_PREFIX = re.compile(r"^(?:công chức|cán bộ)\s+")
_MASS_WORDS = re.compile(r"đoàn thể|tổ chức chính trị|chính trị xã hội")
_PLURAL_START = re.compile(r"^(?:các|những)\s")

_KIND_BY_PREFIX: list[tuple[re.Pattern[str], UnitKind]] = [
    (re.compile(r"^(trạm y tế|trung tâm y tế|bệnh viện)"), UnitKind.HEALTH_STATION),
    (re.compile(r"^(các )?(nhà )?trường"), UnitKind.SCHOOL),
    (re.compile(r"^(phòng|sở|chi cục|cục)\b"), UnitKind.DEPARTMENT),
    (re.compile(r"^(công chức|cán bộ|văn phòng)"), UnitKind.OFFICE),
    (re.compile(r"^(ủy ban mặt trận|ủy ban mttq|ubmttq|mặt trận|hội|đoàn|các tổ chức)"), UnitKind.MASS_ORGANIZATION),
    (re.compile(r"^(ban chỉ đạo|bcđ|ban)\b"), UnitKind.COMMITTEE),
    (re.compile(r"^(các )?(thôn|làng|xóm|bản|ấp|tổ dân phố)"), UnitKind.VILLAGE),
    (re.compile(r"^(ubnd|ủy ban nhân dân) (các )?(xã|phường|thị trấn)"), UnitKind.COMMUNE),
]

_LEVEL_KINDS: dict[str, UnitKind] = {
    "xã": UnitKind.COMMUNE, "phường": UnitKind.COMMUNE, "thị trấn": UnitKind.COMMUNE, "đặc khu": UnitKind.COMMUNE,
    "huyện": UnitKind.DISTRICT, "quận": UnitKind.DISTRICT, "thị xã": UnitKind.DISTRICT,
    "thành phố": UnitKind.DISTRICT, "tỉnh": UnitKind.PROVINCE,
}
_BARE_PEOPLES_COMMITTEE = re.compile(
    r"^(?:ubnd|ủy ban nhân dân|uỷ ban nhân dân)\s+(xã|phường|thị trấn|đặc khu|huyện|quận|thị xã|thành phố|tỉnh)$"
)


@dataclass
class ImportResult:
    """What an import did (or, for a duplicate, did not do)."""

    extraction: dict[str, Any]
    document: PlanDocument | None = None
    plan: Plan | None = None
    duplicate_of: Plan | None = None
    duplicate_reason: str | None = None  # "same_file" or "same_number"
    tasks_created: int = 0
    targets_created: int = 0
    proposed_units: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan.id if self.plan else None,
            "status": self.plan.status.value if self.plan else None,
            "duplicate_of": self.duplicate_of.id if self.duplicate_of else None,
            "tasks": self.tasks_created,
            "targets": self.targets_created,
            "proposed_units": self.proposed_units,
            "warnings": self.warnings,
        }


def _config(key: str, default: Any) -> Any:
    return current_app.config.get(key, default) if has_app_context() else default


def extract_document(filename: str, data: bytes, *, issuer_hint: str | None = None) -> dict[str, Any]:
    """Run the extractor with the configured limits and return its contract form (what a draft stores).

    Unreadable input becomes a ValidationFailed in the user's language.
    """
    from tracker.importer import extract_plan
    from tracker.importer.errors import DocumentError

    try:
        extraction = extract_plan(
            data, filename or "plan",
            max_bytes=int(_config("IMPORT_MAX_BYTES", 20 << 20)),
            max_pages=int(_config("IMPORT_MAX_PDF_PAGES", 300)),
            time_limit=float(_config("IMPORT_TIME_LIMIT_SECONDS", 30.0)),
            ocr_max_pages=int(_config("IMPORT_OCR_MAX_PAGES", 40)),
            issuer_hint=issuer_hint,
        )
    except DocumentError as error:
        message = error.message_vi if _locale_is_vietnamese() else error.message_en
        raise ValidationFailed(message, field="file") from error
    return extraction.to_dict()


def _locale_is_vietnamese() -> bool:
    try:
        locale = get_locale()
    except (RuntimeError, AttributeError):
        return True
    return locale is None or locale.language == "vi"


def issuer_hint_for(unit: OrgUnit) -> str:
    """How a document names `unit` as its issuer ("Xã Cao Ngọc" -> "UBND Xã Cao Ngọc")."""
    return f"UBND {unit.name}" if unit.is_administrative else unit.name


def import_plan(
    actor: Person | None,
    *,
    filename: str,
    data: bytes,
    issuing_unit: OrgUnit | None = None,
    update: bool = False,
) -> ImportResult:
    """Store the document and create a draft plan from it; the same document again is offered as an update.

    A duplicate (the same bytes, or the same number and date of issue, for the same issuing unit) writes
    nothing and comes back as `duplicate_of`; with `update=True` a draft duplicate is re-filled from this
    document (its tasks and targets replaced), an active one is a Conflict.
    """
    if issuing_unit is not None:
        require(actor, Permission.MANAGE_PLANS, issuing_unit)  # before reading a byte
    extraction = extract_document(filename, data,
                                  issuer_hint=issuer_hint_for(issuing_unit) if issuing_unit else None)
    if not extraction.get("tasks"):
        # A plan assigns work; a document that assigns nothing (a letter, a shopping list) is not one, and a
        # draft of 0 tasks would only be discarded.
        raise ValidationFailed(_l("No assigned task was found in this document (no unit is given work to do), "
                                  "so it was not imported. Check that it is the plan itself."), field="file")
    sha256 = hashlib.sha256(data).hexdigest()
    issuing_unit = issuing_unit or resolve_issuer(extraction.get("issuer"), actor)
    require(actor, Permission.MANAGE_PLANS, issuing_unit)

    existing, reason = find_duplicate(sha256, issuing_unit, extraction, actor)
    if existing is not None:
        if not update:
            notice = str(_l("This plan was already imported (plan #%(id)s).")) % {"id": existing.id}
            return ImportResult(extraction=extraction, duplicate_of=existing, duplicate_reason=reason,
                                warnings=[notice])
        if existing.status != PlanStatus.DRAFT:
            raise Conflict(_l("The plan is already active; change its tasks on the plan page instead."))
        _clear_draft(actor, existing)

    document = existing.document if existing is not None else None
    if document is not None and document.sha256 == sha256:
        document.extraction = extraction  # the same bytes read again: keep one copy
    else:
        document = PlanDocument(
            filename=(filename or "plan")[:255], content_type=_content_type(filename), size_bytes=len(data),
            sha256=sha256, content=data, extraction=extraction, uploaded_by_id=actor.id if actor else None,
        )
        db.session.add(document)
    db.session.flush()
    if existing is not None:
        plan = existing
        _refresh_header(plan, extraction, document)
    else:
        plan = _create_draft(actor, issuing_unit, extraction, document)
    result = ImportResult(extraction=extraction, document=document, plan=plan,
                          warnings=list(extraction.get("warnings") or []))
    resolver = UnitResolver(issuing_unit)
    for index, row in enumerate(extraction.get("tasks") or []):
        result.tasks_created += _add_extracted_row(actor, plan, index, row, resolver, result)
    for target in extraction.get("targets") or []:
        result.targets_created += _add_target(actor, plan, issuing_unit, target)
    audit.record("plan.import", plan, actor, unit_id=issuing_unit.id,
                 after={"document_id": document.id, "sha256": sha256, "tasks": result.tasks_created,
                        "targets": result.targets_created, "update": existing is not None})
    return result


def _content_type(filename: str) -> str:
    suffix = (filename or "").rsplit(".", 1)[-1].lower()
    return {
        "pdf": "application/pdf", "txt": "text/plain",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }.get(suffix, "application/octet-stream")


def resolve_issuer(issuer: str | None, actor: Person | None = None) -> OrgUnit:
    """The administrative unit a document's issuer names ("UBND xã Cao Ngọc" -> Xã Cao Ngọc), among the units
    where `actor` may issue plans (a commune of the same name elsewhere is not theirs to import for)."""
    from tracker.importer.units import match_unit

    if not issuer:
        raise ValidationFailed(_l("The document does not name its issuing unit; choose it."), field="issuing_unit")
    name = re.sub(r"^(?:ubnd|ủy ban nhân dân|uỷ ban nhân dân)\s+", "", issuer.strip(), flags=re.IGNORECASE)
    candidates = db.session.execute(
        sa.select(OrgUnit.id, OrgUnit.name).where(
            OrgUnit.is_administrative, OrgUnit.is_archived.is_(False),
            scope_clause(actor, OrgUnit.path, Permission.MANAGE_PLANS))
    ).all()
    ranked = match_unit(name, [(row.id, row.name) for row in candidates], min_score=0.85)
    if not ranked:
        raise ValidationFailed(_l("No unit in the organisation matches the issuer %(issuer)s; choose it."),
                               field="issuing_unit", issuer=issuer)
    return db.session.get(OrgUnit, ranked[0][0])  # type: ignore[return-value]


def find_duplicate(sha256: str, issuing_unit: OrgUnit, extraction: dict[str, Any],
                   actor: Person | None = None) -> tuple[Plan | None, str | None]:
    """A live plan this import would repeat: imported from the same bytes, or with the same number and date
    of issue, by the issuing unit or a unit on its line (an ancestor or a unit below it: the same plan once
    filed under the country or the district is still the same plan); the same bytes also count anywhere
    the actor may import plans."""
    issuers = sa.select(OrgUnit.id).where(sa.or_(
        OrgUnit.id.in_(issuing_unit.ancestor_ids), OrgUnit.subtree_clause(issuing_unit.path)))
    live = Plan.status != PlanStatus.CANCELLED
    in_scope = sa.select(OrgUnit.id).where(scope_clause(actor, OrgUnit.path, Permission.MANAGE_PLANS))
    same_bytes = db.session.scalar(
        sa.select(Plan).join(PlanDocument, PlanDocument.id == Plan.document_id)
        .where(PlanDocument.sha256 == sha256, live,
               sa.or_(Plan.issuing_unit_id.in_(issuers), Plan.issuing_unit_id.in_(in_scope)))
        .order_by((Plan.issuing_unit_id != issuing_unit.id), Plan.id).limit(1)
    )
    if same_bytes is not None:
        return same_bytes, "same_file"
    number, issued = extraction.get("plan_number"), _iso_date(extraction.get("issued"))
    if number and issued:  # the same plan saved in another format
        same_plan = db.session.scalar(sa.select(Plan).where(
            live, Plan.issuing_unit_id.in_(issuers), Plan.number == number, Plan.issued_on == issued)
            .order_by((Plan.issuing_unit_id != issuing_unit.id), Plan.id).limit(1))
        if same_plan is not None:
            return same_plan, "same_number"
    return None, None


def _clear_draft(actor: Person | None, plan: Plan) -> None:
    """Empty a draft before it is filled again: its tasks, sections and indicators (a draft has no history)."""
    removed = len(plan.tasks)
    plan.tasks.clear()
    plan.sections.clear()
    db.session.flush()
    db.session.execute(sa.delete(Indicator).where(Indicator.plan_id == plan.id))
    db.session.expire_all()
    audit.record("plan.reimport", plan, actor, unit_id=plan.issuing_unit_id, before={"tasks": removed})


def _iso_date(value: Any) -> date | None:
    if not value or not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _header(extraction: dict[str, Any], fallback_title: str) -> dict[str, Any]:
    year = extraction.get("year")
    period_end = _iso_date(extraction.get("period_end"))
    issued = _iso_date(extraction.get("issued"))
    start = date(int(year), 1, 1) if year else None
    if period_end and start and start > period_end:
        start = None
    if period_end and start is None:
        period = str(extraction.get("period") or "")
        first_year = int(period[:4]) if period[:4].isdigit() else None
        start = date(first_year, 1, 1) if first_year and first_year <= period_end.year else None
        start = start or issued or date(period_end.year, 1, 1)
    implements = extraction.get("implements")
    return {
        "title": extraction.get("title") or fallback_title, "number": extraction.get("plan_number"),
        "issued_on": issued, "year": int(year) if year else None, "period_start_on": start,
        "period_end_on": period_end,
        "implements": "\n".join(implements) if isinstance(implements, list) else implements,
    }


def _create_draft(actor: Person | None, issuing_unit: OrgUnit, extraction: dict[str, Any],
                  document: PlanDocument) -> Plan:
    return create_plan(actor, issuing_unit=issuing_unit, document=document,
                       **_header(extraction, document.filename))


def _refresh_header(plan: Plan, extraction: dict[str, Any], document: PlanDocument) -> None:
    header = _header(extraction, document.filename)
    plan.title = " ".join(str(header["title"]).split()) or plan.title
    plan.number = (header["number"] or "").strip() or None
    plan.issued_on = header["issued_on"]
    plan.year = header["year"]
    if header["period_end_on"] or header["year"]:
        plan.period_start_on = header["period_start_on"] or (date(header["year"], 1, 1) if header["year"] else None)
        plan.period_end_on = header["period_end_on"] or (date(header["year"], 12, 31) if header["year"] else None)
    plan.implements = header["implements"]
    plan.document = document
    db.session.flush()


# --- Unit resolution ----------------------------------------------------------------------------------

@dataclass
class Assignment:
    """One lead of an extracted row: a matched or fanned-out org unit, or a proposed new one."""

    unit_text: str
    lead: OrgUnit | None
    confidence: float
    match: str  # "fanout", "sure", "probable", "proposed"
    candidates: list[dict[str, Any]] = field(default_factory=list)
    fanout: dict[str, Any] | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)  # {"code": ..., params}: see WARNING_CODES


def _natural(name: str) -> list[Any]:
    """Sort key putting "Thôn 2" before "Thôn 10"."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def _normalize(name: str) -> str:
    from tracker.operations.units import unit_name_key

    return unit_name_key(name)


class UnitResolver:
    """Match unit names against the units around the issuer, loaded once per import (one statement)."""

    def __init__(self, issuing_unit: OrgUnit) -> None:
        self.issuer = issuing_unit
        ancestor_ids = issuing_unit.ancestor_ids
        rows = db.session.scalars(sa.select(OrgUnit).where(
            OrgUnit.is_archived.is_(False),
            sa.or_(OrgUnit.id.in_(ancestor_ids), OrgUnit.parent_id.in_(ancestor_ids)),
        ).order_by(OrgUnit.path)).all()
        self.units = {u.id: u for u in rows}
        self.children = [u for u in rows if u.parent_id == issuing_unit.id]
        self.ancestors = [u for u in rows if u.id in ancestor_ids]  # root first, the issuer last
        self.lead_pool = [issuing_unit, *self.children]
        self._deep: dict[tuple[UnitKind, ...], list[OrgUnit]] = {}
        self._other: dict[str, OrgUnit | None] = {}
        self._word_cache: dict[str, frozenset[str]] = {}

    # Leads -------------------------------------------------------------------------------------------
    def candidates(self, name: str, pool: list[OrgUnit] | None = None) -> list[tuple[OrgUnit, float]]:
        """The best org units for `name` among `pool` (the issuer and its children), best first."""
        from tracker.importer.units import match_unit

        pool = self.lead_pool if pool is None else pool
        bare = self._bare_level(name)
        if bare is not None and bare.id in {u.id for u in pool}:
            return [(bare, 1.0)]
        by_id = {u.id: u for u in pool}
        words = self._words(name)
        # Only units sharing a meaningful word can score; scoring is the costly part (a province has 100+ units).
        pool = [u for u in pool if words & (self._words(u.name) | self._words(u.short_name or ""))]
        keyed = [(u.id, u.name) for u in pool] + [(u.id, u.short_name) for u in pool if u.short_name]
        best: dict[int, float] = {}
        for key, score in match_unit(name, keyed, min_score=0.4):
            best[key] = max(best.get(key, 0.0), score)
        # Plans add the post ("Công chức Văn phòng thống kê" for "Văn phòng - Thống kê") or the issuer's level
        # ("Trạm Y tế xã"); compare once more without them, on both sides.
        bare_name = self._without_post_and_level(name)
        if bare_name != _normalize(name):
            stripped = [(key, self._without_post_and_level(unit_name)) for key, unit_name in keyed]
            for key, score in match_unit(bare_name, stripped, min_score=0.4):
                best[key] = max(best.get(key, 0.0), score)
        ranked = sorted(best.items(), key=lambda pair: (-pair[1], by_id[pair[0]].path))
        return [(by_id[key], score) for key, score in ranked[:CANDIDATES]]

    def _words(self, name: str) -> frozenset[str]:
        words = self._word_cache.get(name)
        if words is None:
            words = frozenset(_normalize(name).split()) - _COMMON_WORDS
            self._word_cache[name] = words
        return words

    def _without_post_and_level(self, name: str) -> str:
        text = _POST_PREFIX.sub("", _normalize(name))
        level = next((word for word, kind in _LEVEL_KINDS.items() if kind == self.issuer.kind and
                      text.endswith(" " + word)), None)
        return (text[: -len(level) - 1] if level else text).strip() or _normalize(name)

    def resolve(self, name: str) -> Assignment:
        """The lead for a single unit name: sure, probable, or a new unit to propose."""
        ranked = self.candidates(name)
        candidates = [{"id": u.id, "name": u.name, "score": round(s, 3)} for u, s in ranked]
        top, score = ranked[0] if ranked else (None, 0.0)
        if top is not None and score >= AUTO_MATCH:
            return Assignment(name, top, score, "sure", candidates)
        if top is not None and score >= TENTATIVE_MATCH:
            return Assignment(name, top, score, "probable", candidates)
        return Assignment(name, None, score, "proposed", candidates)

    # Fan-out -----------------------------------------------------------------------------------------
    def fanout_kinds(self, name: str, kind: str | None) -> tuple[UnitKind, ...]:
        """The org-unit kinds a plural phrase fans out to, or () when it does not fan out."""
        kinds = FANOUT_KINDS.get(kind or "", ())
        if not kinds:
            return ()
        normalized = _normalize(name)
        if kind in WHOLE_PHRASE_KINDS and not _PLURAL_START.match(normalized):
            return ()
        if kind in ("department", "official") and _MASS_WORDS.search(normalized):
            kinds = (*kinds, UnitKind.MASS_ORGANIZATION)
        return kinds

    def fan_out(self, kinds: tuple[UnitKind, ...]) -> list[OrgUnit]:
        """The issuer's children of `kinds`; else, for kinds living deeper, its descendants of those kinds."""
        if not kinds:
            return []
        units = sorted((u for u in self.children if u.kind in kinds), key=lambda u: _natural(u.name))
        if units or not set(kinds) & DEEP_KINDS:
            return units
        if kinds not in self._deep:
            self._deep[kinds] = list(db.session.scalars(
                sa.select(OrgUnit).where(
                    OrgUnit.subtree_clause(self.issuer.path), OrgUnit.id != self.issuer.id,
                    OrgUnit.kind.in_([k.value for k in kinds]), OrgUnit.is_archived.is_(False),
                ).order_by(OrgUnit.path).limit(MAX_FANOUT + 1)
            ))
        return self._deep[kinds]

    # Report-to and coordinating units ----------------------------------------------------------------
    def _bare_level(self, name: str) -> OrgUnit | None:
        """"UBND huyện" -> the nearest ancestor (or the issuer) of that level."""
        bare = _BARE_PEOPLES_COMMITTEE.match(_normalize(name))
        if not bare:
            return None
        kind = _LEVEL_KINDS[bare.group(1)]
        return next((u for u in reversed(self.ancestors) if u.kind == kind), None)

    def other(self, name: str) -> OrgUnit | None:
        """A report-to or coordinating unit: an ancestor named by level ("UBND huyện"), else by name."""
        from tracker.importer.units import match_unit

        if name in self._other:
            return self._other[name]
        bare = self._bare_level(name)
        if bare is not None or _BARE_PEOPLES_COMMITTEE.match(_normalize(name)):
            unit = bare
        else:
            ranked = match_unit(name, [(u.id, u.name) for u in self.units.values()])
            unit = self.units[ranked[0][0]] if ranked and ranked[0][1] >= AUTO_MATCH else None
        self._other[name] = unit
        return unit

    def report_to(self, names: list[str], lead: OrgUnit | None) -> OrgUnit | None:
        """The first report-to name that resolves; "UBND xã" in a district plan is each lead's own commune."""
        for name in names:
            unit = self.other(name)
            if unit is None and lead is not None and lead.admin_unit_id and lead.admin_unit_id != self.issuer.id:
                bare = _BARE_PEOPLES_COMMITTEE.match(_normalize(name))
                admin = db.session.get(OrgUnit, lead.admin_unit_id) if bare else None
                if admin is not None and admin.kind == _LEVEL_KINDS[bare.group(1)]:  # type: ignore[union-attr]
                    unit = admin
            if unit is not None:
                return unit
        return None

    def coordinating(self, name: str) -> list[OrgUnit]:
        """The units a coordinating phrase names: a plural phrase gives every unit of its kind."""
        from tracker.importer.units import plural_unit_kind

        kind = plural_unit_kind(name)
        if kind:
            units = self.fan_out(self.fanout_kinds(name, kind))
            return units[:MAX_FANOUT]
        unit = self.other(name)
        return [unit] if unit is not None else []


def guess_kind(name: str) -> UnitKind:
    """The kind of unit a name most likely denotes, for a proposed new unit."""
    normalized = _normalize(name)
    for pattern, kind in _KIND_BY_PREFIX:
        if pattern.search(normalized):
            return kind
    return UnitKind.AGENCY


def proposal_for(name: str, parent: OrgUnit) -> dict[str, Any]:
    """The new unit a draft task proposes (created under `parent` when the plan is confirmed)."""
    name = " ".join((name or "").split())[:255]
    return {"name": name, "kind": guess_kind(name).value, "parent_id": parent.id}


def _assignments(row: dict[str, Any],
                 resolver: UnitResolver) -> tuple[list[Assignment], list[str], list[dict[str, Any]]]:
    """The leads of one extracted row, the member phrases left as coordinating names, and row warnings."""
    unit_text = (row.get("unit") or "").strip()
    if row.get("members"):
        members = [(str(m.get("unit") or "").strip(), m.get("fanout_kind")) for m in row["members"]
                   if isinstance(m, dict) and m.get("unit")]
    else:
        members = [(unit_text, row.get("fanout_kind") if row.get("fanout") else None)]
    several = len(members) > 1
    out: list[Assignment] = []
    leftover: list[str] = []
    warnings: list[dict[str, Any]] = []
    for text, kind in members:
        kinds = resolver.fanout_kinds(text, kind)
        if kinds:
            units = resolver.fan_out(kinds)
            if len(units) > MAX_FANOUT:
                warnings.append({"code": "fanout_too_many", "phrase": text, "n": MAX_FANOUT})
                units = []
            if units:
                fan = {"kind": kind, "phrase": text, "count": len(units)}
                out += [Assignment(text, u, 1.0, "fanout", fanout={**fan, "index": i + 1})
                        for i, u in enumerate(units)]
                continue
            assignment = resolver.resolve(text)
            if assignment.lead is None:
                assignment.warnings.append({"code": "fanout_empty", "phrase": text, "unit": resolver.issuer.name})
            out.append(assignment)
            continue
        if kind and several:  # a plural member we cannot map ("các tổ chức thành viên")
            leftover.append(text)
            continue
        out.append(resolver.resolve(text))
    if leftover:
        if out:
            warnings.append({"code": "kept_coordinating", "names": "; ".join(leftover)})
        else:  # nothing but unmappable plurals: one row for the heading as written
            out.append(resolver.resolve(unit_text))
            leftover = []
    seen: set[Any] = set()
    unique = []
    for assignment in out:
        key = assignment.lead.id if assignment.lead is not None else ("new", _normalize(assignment.unit_text))
        if key not in seen:
            seen.add(key)
            unique.append(assignment)
    return unique, leftover, warnings


def _add_extracted_row(actor: Person | None, plan: Plan, index: int, row: dict[str, Any],
                       resolver: UnitResolver, result: ImportResult) -> int:
    unit_text = (row.get("unit") or "").strip()
    deadlines = [d for d in (row.get("deadlines") or []) if isinstance(d, dict) and _iso_date(d.get("date"))]
    due_dates = sorted({_iso_date(d["date"]) for d in deadlines if d.get("kind") != "target"})  # type: ignore[type-var]
    recurrence = _recurrence(row.get("recurrence"), unit_text, result)
    report_to_names = [str(n) for n in row.get("report_to") or []]
    coordinating_names = [str(n) for n in row.get("coordinating_units") or []]
    coordinating: dict[int, OrgUnit] = {}
    for name in coordinating_names:
        # A name that matched a unit beyond the plan's reach stays a name (references.py decides the reach).
        coordinating.update({u.id: u for u in resolver.coordinating(name)
                             if not u.is_archived and references.coordinating_allowed(plan, u)})
    assignments, leftover, row_warnings = _assignments(row, resolver)
    row_warnings += [{"code": "before_issue", "date": date.fromisoformat(d["date"]).strftime("%d/%m/%Y"),
                      "text": str(d.get("text") or "")} for d in deadlines if d.get("before_issue")]
    base_meta: dict[str, Any] = {
        "row": index, "heading": unit_text, "section": row.get("section"), "origin": row.get("origin"),
        "requested": bool(row.get("requested")),
        "report_to": report_to_names, "coordinating_units": coordinating_names + leftover,
        "deadlines": deadlines, "default_due": row.get("default_due"),
        "recurrence_text": row.get("recurrence"), "title": row.get("title"),
    }
    created = 0
    for assignment in assignments:
        meta = {
            **base_meta, "unit_text": assignment.unit_text, "confidence": round(assignment.confidence, 3),
            "match": assignment.match, "candidates": assignment.candidates, "fanout": assignment.fanout,
            "warnings": row_warnings + assignment.warnings,
        }
        if assignment.lead is not None and (assignment.lead.is_archived
                                            or not references.lead_allowed(plan, assignment.lead)):
            assignment.lead = None  # beyond the issuer's reach: proposed as a unit of its own instead
        if assignment.lead is None:
            proposal = proposal_for(assignment.unit_text or "Đơn vị", resolver.issuer)
            # One proposal per unit however the document spells it (a hyphen here, an en dash there).
            key = _normalize(proposal["name"])
            same = next((n for n in result.proposed_units if _normalize(n) == key), None)
            if same is None:
                result.proposed_units.append(proposal["name"])
            else:
                proposal["name"] = same
            meta["proposed_unit"] = proposal
        report_to = resolver.report_to(report_to_names, assignment.lead)
        if report_to is not None and (report_to.is_archived or not references.report_to_allowed(plan, report_to)):
            report_to = None
        add_task(
            actor, plan, title=(row.get("title") or assignment.unit_text or "Nhiệm vụ")[:2000],
            lead_unit=assignment.lead, section_code=str(row.get("section") or "")[:64] or None,
            report_to_unit=report_to,
            coordinating_units=list(coordinating.values()), due_dates=due_dates,
            recurrence_rule=recurrence, source_text=row.get("source"), import_meta=meta,
        )
        created += 1
    return created


def _recurrence(value: Any, label: str, result: ImportResult) -> list[str] | str | None:
    """The extractor's recurrence, limited to what occurrences can be generated from."""
    from tracker.operations.recurrence import NAMED

    if not value:
        return None
    items = [str(i) for i in (value if isinstance(value, list) else [value])]
    if len(items) == 1 and items[0].upper().startswith("RRULE:"):
        return items[0]
    items = [i for i in items if i != "periodic"]  # "định kỳ": the engine's assumed period follows it
    if items == ["weekly"]:
        result.warnings.append(str(_l("%(unit)s: weekly reports are scheduled for Fridays.")) % {"unit": label})
        return "RRULE:FREQ=WEEKLY;BYDAY=FR"
    kept = [i for i in items if i in NAMED]
    dropped = [i for i in items if i not in NAMED]
    if dropped:
        result.warnings.append(str(_l("%(unit)s: recurrence not scheduled: %(values)s."))
                               % {"unit": label, "values": ", ".join(dropped)})
    return kept or None


# --- Targets ------------------------------------------------------------------------------------------

_FALLING = re.compile(r"^(?:tỷ lệ|số) hộ (?:nghèo|cận nghèo)(?!.*(?:được|tiếp cận|thoát|tham gia))")


def target_comparator(target: dict[str, Any]) -> tuple[Comparator, Direction]:
    """How a target is judged, from the engine's comparator ("<", "<=", "=", ">", ">=", "decrease", "increase").

    "=" on a poverty rate or count means "down to": at most; other "=" targets are to be reached: at least.
    "decrease"/"increase" give a change ("giảm 24 hộ"), to be reached: at least, in the direction named.
    """
    comparator = str(target.get("comparator") or "").strip().lower()
    if comparator in ("<", "<="):
        return Comparator.AT_MOST, Direction.DECREASE
    if comparator == "decrease":
        return Comparator.AT_LEAST, Direction.DECREASE
    if comparator == "=" and _FALLING.match(_normalize(str(target.get("indicator") or ""))):
        return Comparator.AT_MOST, Direction.DECREASE
    return Comparator.AT_LEAST, Direction.INCREASE


def _add_target(actor: Person | None, plan: Plan, issuing_unit: OrgUnit, target: dict[str, Any]) -> int:
    name = (target.get("indicator") or "").strip()
    values = target.get("values") or {}
    if not name or not values:
        return 0
    comparator, direction = target_comparator(target)
    indicator = create_indicator(actor, plan, name=name, unit_of_measure=target.get("unit_of_measure") or "",
                                 direction=direction)
    count = 0
    for year, value in values.items():
        try:
            year_number = int(str(year)[:4])
        except ValueError:
            continue
        if value is None or not 1990 <= year_number <= 2100:
            continue
        set_target(actor, indicator, unit=issuing_unit, year=year_number, value=value, comparator=comparator)
        count += 1
    return count
