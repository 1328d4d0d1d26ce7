# The two commands of the README: `make run` (set up, migrate, load the demo, serve) and `make test`.
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

run: setup
	$(BIN)/tracker db upgrade
	$(BIN)/tracker demo --if-empty
	TRACKER_PUBLIC_BASE_URL=$${TRACKER_PUBLIC_BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/tracker serve --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache artifacts
