# The README's commands. Everything runs from the project's own .venv,
# created with the machine's python3 (3.11 or newer).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEV_STAMP := $(VENV)/.dev-installed
RUN_STAMP := $(VENV)/.run-installed
# `make run PORT=8001` when 8000 is taken.
PORT ?= 8000

.PHONY: run test bench lint migrations-check format messages compile-messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(RUN_STAMP)

# Compiled catalogues are committed, so a machine without GNU gettext still
# runs; where msgfmt exists they are rebuilt from the .po files.
compile-messages: | $(BIN)/python
	@if command -v msgfmt >/dev/null; then DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv -v 0; fi

# The log's signing key is made once and kept in var/ (never committed); the
# server reads it from the environment, as a deployment does.
LOG_KEY := var/log-signing.key

$(LOG_KEY): | $(RUN_STAMP)
	mkdir -p var
	umask 077 && DEBUG=1 $(BIN)/python manage.py generate_log_key > $@.tmp && mv $@.tmp $@

RUN_ENV = DEBUG=1 LOG_SIGNING_KEY="$$(cat $(LOG_KEY))"

run: $(RUN_STAMP) compile-messages $(LOG_KEY)
	$(RUN_ENV) $(BIN)/python manage.py migrate --no-input -v 0
	$(RUN_ENV) $(BIN)/python manage.py createcachetable
	$(RUN_ENV) $(BIN)/python manage.py seed_demo
	$(RUN_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Coverage of lines, with the floor set in pyproject.toml ([tool.coverage.report]).
# One pytest worker per CPU (pytest-xdist); the browser tests share one worker
# (tests/conftest.py). `make test PYTEST_ARGS=--durations=30` passes arguments on.
test: $(DEV_STAMP) compile-messages
	DEBUG=1 $(BIN)/python -m pytest -n auto --cov --cov-report=term $(PYTEST_ARGS)

# The app against bare Django under gunicorn on PostgreSQL (bench/run.py):
# `make bench BENCH_ARGS="--app-dir ../old-checkout"` measures another checkout
# against the same database. BENCH_DATABASE_URL names the (benchmark) database.
bench: $(RUN_STAMP) compile-messages
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

migrations-check: $(RUN_STAMP)
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: | $(BIN)/python
	DEBUG=1 $(BIN)/python manage.py makemessages -l ja -l en --ignore=.venv --ignore=var --no-obsolete

clean:
	rm -rf $(VENV) var
