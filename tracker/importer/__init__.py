"""Plan importer: read a plan document and extract its tasks, deadlines and targets (no database)."""

from tracker.importer.errors import DocumentError
from tracker.importer.pipeline import extract_plan
from tracker.importer.units import match_unit, normalize_unit_name, plural_unit_kind

__all__ = ["DocumentError", "extract_plan", "match_unit", "normalize_unit_name", "plural_unit_kind"]
