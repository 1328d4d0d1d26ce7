"""Small dialect-aware SQL helpers shared by operations and jobs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring_conflicts(session: Session, table: sa.Table, conflict_columns: Sequence[str]) -> Any:
    """An INSERT that skips rows violating the unique key on `conflict_columns` (ON CONFLICT DO NOTHING)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))
    raise NotImplementedError(f"unsupported database dialect {dialect}")


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name
