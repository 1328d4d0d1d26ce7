"""gunicorn settings for the benchmarks: exactly config/gunicorn.conf.py's, with two switches from the environment.

    BENCH_APP=floor         serve the floor app (bench/floor_app.py) instead of the tracker
    BENCH_TRAVEL_TO=ISO     each worker's clock starts at this instant after the fork and runs on (time-machine),
                            so the pages show the synthetic history's day; the master's clock is left alone
"""

import os
import runpy
from pathlib import Path

_production = runpy.run_path(str(Path(__file__).resolve().parent.parent / "config" / "gunicorn.conf.py"))
# Every setting of the production file, by name (gunicorn reads this module's globals).
globals().update({name: _production[name] for name in (
    "bind", "workers", "threads", "worker_class", "timeout", "graceful_timeout", "keepalive", "preload_app",
    "accesslog", "errorlog", "loglevel", "forwarded_allow_ips")})
wsgi_app = "floor_app:create_app()" if os.environ.get("BENCH_APP") == "floor" else _production["wsgi_app"]


def post_fork(server, worker):  # gunicorn's hook signature
    if os.environ.get("BENCH_APP") == "floor":
        from floor_app import db

        app = server.app.wsgi()
        with app.app_context():
            db.engine.dispose(close=False)
    else:
        _production["post_fork"](server, worker)
    travel = os.environ.get("BENCH_TRAVEL_TO")
    if travel:
        from datetime import datetime

        import time_machine

        time_machine.travel(datetime.fromisoformat(travel), tick=True).start()
