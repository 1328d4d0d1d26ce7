"""The floors of the web figures: a bare Flask + Flask-SQLAlchemy app on the benchmark's database.

Served by gunicorn with the production settings (bench/gunicorn_bench.conf.py with BENCH_APP=floor), it
answers what the tracker's pages and "mark done" cannot do faster than:
    GET  /hello              no database at all
    GET  /select/<id>        one indexed SELECT (an occurrence by its primary key)
    POST /insert             one INSERT of a row into bench_floor_rows and a COMMIT
The database is TRACKER_DATABASE_URL, with the tracker's engine options (pool_pre_ping, SQLite's busy timeout).
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


def create_app() -> Flask:
    app = Flask(__name__)
    url = os.environ["TRACKER_DATABASE_URL"]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    options: dict[str, object] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 30}
    app.config.update(SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS=options)
    db.init_app(app)

    @app.get("/hello")
    def hello() -> str:
        return "hello"

    @app.get("/select/<int:row_id>")
    def select(row_id: int) -> str:
        row = db.session.execute(sa.text("SELECT id, period_label FROM occurrences WHERE id = :id"),
                                 {"id": row_id}).one()
        return f"{row.id} {row.period_label}"

    @app.post("/insert")
    def insert() -> tuple[str, int]:
        db.session.execute(sa.text("INSERT INTO bench_floor_rows (note) VALUES (:note)"),
                           {"note": request.form.get("note", "")})
        db.session.commit()
        return "", 204

    return app
