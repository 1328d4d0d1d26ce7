"""The migrations build exactly the schema the models describe, up and down, on every backend."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from tracker.extensions import db


def _diff(connection: sa.Connection) -> list:  # type: ignore[type-arg]
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, db.metadata)


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        assert _diff(connection) == []


def test_downgrade_to_base_and_upgrade_again(app):
    downgrade(revision="base")
    with db.engine.connect() as connection:
        remaining = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
    assert remaining == set()
    upgrade()
    with db.engine.connect() as connection:
        assert _diff(connection) == []
