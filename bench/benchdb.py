"""What the benchmarks share: a throw-away database and a local SMTP server.

    throwaway_database(url, keep)  a new PostgreSQL database next to a server URL, or a SQLite file
                                   ("sqlite" or "sqlite://" for a temporary one, sqlite:///PATH for a new file);
                                   dropped afterwards, even on SIGTERM, unless `keep`
    local_smtp(handler)            an aiosmtpd server on a free loopback port; yields the port
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa


@contextmanager
def throwaway_database(url: str, keep: bool = False, *, prefix: str = "tracker_bench") -> Iterator[str]:
    """Yield the SQLAlchemy URL of a new, empty database; drop it afterwards unless `keep`."""
    # A kill (SIGTERM) unwinds like Ctrl-C, so the database is dropped whatever happens.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if url.startswith("sqlite"):
        path = sa.engine.make_url("sqlite://" if url == "sqlite" else url).database
        if path and os.path.exists(path):
            raise SystemExit(f"{path} exists: give a new file (it is deleted afterwards unless --keep)")
        if not path:
            fd, path = tempfile.mkstemp(prefix=f"{prefix}_", suffix=".db")
            os.close(fd)
            os.unlink(path)
        try:
            yield f"sqlite:///{path}"
        finally:
            if keep:
                print(f"kept database {path}")
            else:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(path + suffix).unlink(missing_ok=True)
        return
    server = sa.engine.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def local_smtp(handler: Any) -> Iterator[int]:
    """An aiosmtpd server with `handler` on 127.0.0.1 and a free port; yields the port."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
