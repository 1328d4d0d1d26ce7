"""gunicorn settings for the floor app (bench/floor_app.py): exactly config/gunicorn.conf.py's, but its app.

The production file's post_fork disposes the tracker's engine; here it disposes the floor app's.
"""

import runpy
from pathlib import Path

_production = runpy.run_path(str(Path(__file__).resolve().parent.parent / "config" / "gunicorn.conf.py"))
bind = _production["bind"]
workers = _production["workers"]
threads = _production["threads"]
worker_class = _production["worker_class"]
timeout = _production["timeout"]
graceful_timeout = _production["graceful_timeout"]
keepalive = _production["keepalive"]
preload_app = _production["preload_app"]
accesslog = _production["accesslog"]
errorlog = _production["errorlog"]
loglevel = _production["loglevel"]
forwarded_allow_ips = _production["forwarded_allow_ips"]
wsgi_app = "floor_app:create_app()"


def post_fork(server, worker):  # gunicorn's hook signature
    from floor_app import db

    app = server.app.wsgi()
    with app.app_context():
        db.engine.dispose(close=False)
