# The two commands of the README: `make run` (set up, migrate, load the demo, serve with one worker) and
# `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
# `make run PORT=5001` serves elsewhere; the links in reminders follow (unless TRACKER_PUBLIC_BASE_URL is set).
PORT   ?= 5000

.PHONY: run test setup lint clean

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

setup: $(VENV)/.installed

# One `tracker worker` runs beside the web server (it reads uploaded plans and sends the outbox) and is
# stopped with SIGTERM when the server stops, however it stops (Ctrl+C, an error): the EXIT trap.
run: setup
	$(BIN)/tracker db upgrade
	$(BIN)/tracker demo --if-empty
	export TRACKER_PUBLIC_BASE_URL=$${TRACKER_PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}; \
	$(BIN)/tracker worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; \
	trap 'exit 130' INT TERM; \
	$(BIN)/tracker serve --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache artifacts
