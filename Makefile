# The two commands of the README: `make run` (set up, migrate, load the demo, serve with gunicorn, one worker and
# the scheduler) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
# `make run PORT=5001` serves elsewhere; the links in reminders follow (unless TRACKER_PUBLIC_BASE_URL is set).
PORT   ?= 5000

.PHONY: run test setup lint clean bench

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

setup: $(VENV)/.installed

# The web app is served by gunicorn (config/gunicorn.conf.py), never the development server. Beside it run one
# `tracker worker` (reads uploaded plans, sends the outbox) and `tracker scheduler` (the sweep and digests on
# their schedule); both get SIGTERM when the server stops, however it stops (Ctrl+C, an error): the EXIT trap.
run: setup
	$(BIN)/tracker db upgrade
	$(BIN)/tracker demo --if-empty
	export TRACKER_PUBLIC_BASE_URL=$${TRACKER_PUBLIC_BASE_URL:-http://$(HOST):$(PORT)} TRACKER_BIND=$(HOST):$(PORT); \
	$(BIN)/tracker worker & worker=$$!; \
	$(BIN)/tracker scheduler & scheduler=$$!; \
	trap 'kill -TERM $$worker $$scheduler 2>/dev/null; wait $$worker $$scheduler' EXIT; \
	trap 'exit 130' INT TERM; \
	echo "Tracker: http://$(HOST):$(PORT)/  (Ctrl+C to stop)"; \
	$(BIN)/gunicorn --config config/gunicorn.conf.py

# The suite runs on every core (pytest-xdist), one file per worker at a time so module fixtures and caches are
# built once; each worker has its own databases. `make test PYTEST_ARGS="tests/api -k token"` narrows it,
# `make test PYTEST_WORKERS=0` runs it in one process.
PYTEST_WORKERS ?= auto
test: setup
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Rebuild docs/benchmarks.md (a province on PostgreSQL and SQLite, the country on PostgreSQL; each figure beside
# its floor). `make bench BENCH_ARGS=--quick` is a two-minute smoke run; see bench/run_all.py for the options.
bench: setup
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache artifacts
