"""gunicorn settings for the tracker's web process (`make run`, and production behind nginx).

Every value can be changed from the environment without editing this file:
    TRACKER_BIND             host:port to listen on (default 127.0.0.1:5000; `make run` sets it from HOST/PORT)
    TRACKER_WEB_WORKERS      processes (default: 2 per core, at least 2, at most 8)
    TRACKER_WEB_THREADS      threads per process (default 4: requests mostly wait on the database)
    TRACKER_WEB_TIMEOUT      seconds a request may take before its worker is restarted (default 60)

The timeout only has to cover what a request does itself: reading an uploaded plan (OCR included) runs in
`tracker worker` (IMPORT_TIME_LIMIT_SECONDS there), the request only stores the file, and the periodic report of
a province roll-up takes seconds. The reminder scheduler and the workers are separate processes
(`tracker scheduler`, `tracker worker`): gunicorn's processes only answer requests.
"""

import multiprocessing
import os

wsgi_app = "tracker:create_app()"
bind = os.environ.get("TRACKER_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("TRACKER_WEB_WORKERS") or min(8, max(2, 2 * multiprocessing.cpu_count())))
threads = int(os.environ.get("TRACKER_WEB_THREADS") or 4)
worker_class = "gthread"
timeout = int(os.environ.get("TRACKER_WEB_TIMEOUT") or 60)
graceful_timeout = 30
keepalive = 5
# Build the app once in the master: a broken configuration (a missing SECRET_KEY in production) stops the
# start instead of every worker dying in a loop; the workers then fork with the code already imported.
preload_app = True
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("TRACKER_LOG_LEVEL", "info").lower()
# Trust X-Forwarded-* only through the app's PROXY_COUNT (ProxyFix), not gunicorn's own header handling.
forwarded_allow_ips = "127.0.0.1"


def post_fork(server, worker):  # gunicorn's hook signature
    """Each worker opens its own database connections: none may be shared across the fork."""
    from tracker.extensions import db

    app = server.app.wsgi()
    with app.app_context():
        db.engine.dispose(close=False)
