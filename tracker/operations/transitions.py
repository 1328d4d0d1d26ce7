"""One guarded step per state transition: a conditional UPDATE on the expected state.

Two officers pressing "mark done" at once, or a focal officer accepting a report while the chair returns it,
must leave exactly one change, one audit event and one notice. Reading the state and then writing it lets
both requests pass the check. Instead every transition is a single `UPDATE ... WHERE id = :id AND <expected
state>`: on PostgreSQL the second UPDATE waits for the first transaction's row lock and then re-checks its
WHERE against the committed row (READ COMMITTED), so it changes nothing; SQLite runs one writer at a time,
and an UPDATE always sees the latest committed row. The caller learns from the row count whether it won; the
loser gets the row as it is now, to tell the person what happened (409 in the API, a message on the page).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from tracker.extensions import db


def claim(obj: Any, expected: sa.ColumnElement[bool] | None, **values: Any) -> bool:
    """Set `values` on `obj`'s row only if the row still matches `expected`; True when this call changed it.

    On success the object's attributes hold the new values (as if loaded); on failure the object is
    reloaded from the database, so the caller can describe the state another request left.
    """
    model = type(obj)
    statement = sa.update(model).where(model.id == obj.id)
    if expected is not None:
        statement = statement.where(expected)
    db.session.flush()  # the row must exist, and our own pending changes must not be overwritten later
    result = db.session.execute(statement.values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.refresh(obj)
        return False
    for key, value in values.items():
        set_committed_value(obj, key, value)
    # Relationships over a changed foreign key (reviewed_by after reviewed_by_id) load again when read.
    stale = [r.key for r in sa.inspect(model).relationships if any(c.key in values for c in r.local_columns)]
    if stale:
        db.session.expire(obj, stale)
    return True


def lock(obj: Any, expected: sa.ColumnElement[bool] | None = None) -> bool:
    """Take the write lock on `obj`'s row for the rest of the transaction, if it matches `expected`.

    A no-op UPDATE (id = id) rather than SELECT ... FOR UPDATE, so that SQLite, which has no row locks,
    also starts its write transaction here and every later read sees the latest commit. Returns False
    (with the object reloaded) when the row no longer matches.
    """
    model = type(obj)
    statement = sa.update(model).where(model.id == obj.id)
    if expected is not None:
        statement = statement.where(expected)
    db.session.flush()
    result = db.session.execute(statement.values(id=model.id).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.refresh(obj)
        return False
    return True
