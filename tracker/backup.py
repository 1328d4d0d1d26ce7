"""Consistent backups and restores of the whole database, attachments included (they live in it).

SQLite: the online backup API copies a consistent snapshot page by page while the app keeps running.
PostgreSQL: `pg_dump --format=custom` (one repeatable-read snapshot) and `pg_restore`. A restore goes into an
empty database (no table holding a row), and the audit chains are verified afterwards.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot be done (the message says why, for the operator)."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    kind: str  # "sqlite" or "postgresql"
    size_bytes: int


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return Path(url.database)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment carrying it (not in argv)."""
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return plain, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} was not found: install the PostgreSQL client (apt-get install postgresql-client).")
    return path


def backup(database_url: str, path: str | os.PathLike[str]) -> BackupInfo:
    """Write a consistent snapshot of the database at `database_url` to `path` (replaced atomically)."""
    url = make_url(database_url)
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".tracker-backup-", dir=target.parent)
    os.close(fd)
    try:
        if url.get_backend_name() == "sqlite":
            kind = "sqlite"
            source = sqlite3.connect(_sqlite_path(url))
            try:
                destination = sqlite3.connect(temporary)
                try:
                    source.backup(destination)
                finally:
                    destination.close()
            finally:
                source.close()
        elif url.get_backend_name() == "postgresql":
            kind = "postgresql"
            dsn, env = _libpq(url)
            done = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                                   f"--file={temporary}", f"--dbname={dsn}"], env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        else:
            raise BackupError(f"Backups of {url.get_backend_name()} databases are not supported.")
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return BackupInfo(target, kind, target.stat().st_size)


def backup_kind(path: str | os.PathLike[str]) -> str:
    """"sqlite" or "postgresql", from the file's first bytes."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except FileNotFoundError:
        raise BackupError(f"No backup file at {path}.")
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a tracker backup (neither a SQLite file nor a pg_dump archive).")


def rows_in(engine: Engine) -> dict[str, int]:
    """Rows per table of the tracker's schema present in the database (alembic_version left out)."""
    names = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    with engine.connect() as connection:
        return {name: int(connection.scalar(sa.text(f'SELECT count(*) FROM "{name}"')) or 0)
                for name in sorted(names)}


def _require_empty(engine: Engine) -> None:
    full = {name: n for name, n in rows_in(engine).items() if n}
    if full:
        listed = ", ".join(f"{name} ({n})" for name, n in list(full.items())[:5])
        raise BackupError(f"The target database is not empty: {listed}. Restore into a new, empty database.")


def restore(database_url: str, path: str | os.PathLike[str]) -> str:
    """Restore the backup at `path` into the empty database at `database_url`; returns the backup's kind."""
    url = make_url(database_url)
    kind = backup_kind(path)
    backend = url.get_backend_name()
    if kind != backend:
        raise BackupError(f"This is a {kind} backup; it cannot be restored into a {backend} database.")
    engine = sa.create_engine(url)
    try:
        _require_empty(engine)
        has_tables = bool(set(sa.inspect(engine).get_table_names()))
    finally:
        engine.dispose()
    if kind == "sqlite":
        _restore_sqlite(url, Path(path))
    else:
        _restore_postgresql(url, Path(path), clean=has_tables)
    return kind


def _restore_sqlite(url: URL, source_path: Path) -> None:
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        destination = sqlite3.connect(_sqlite_path(url))
        try:
            source.backup(destination)  # replaces every page of the (empty) target
        finally:
            destination.close()
    finally:
        source.close()


def _restore_postgresql(url: URL, source_path: Path, *, clean: bool) -> None:
    dsn, env = _libpq(url)
    command = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
               f"--dbname={dsn}"]
    if clean:  # empty tables made by `tracker db upgrade`: replaced by the backup's
        command += ["--clean", "--if-exists"]
    done = subprocess.run([*command, str(source_path)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
