# Two commands on a fresh Debian machine with Python 3.11:  make run  |  make test
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run serve test lint typecheck mutants install bench-ingest bench-detection bench-latency bench-capacity clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

## Run the product on embedded defaults (SQLite, ORM broker, console SMS): web + worker + scheduler.
run: install
	bin/run

## Production on one server: gunicorn (WEB_WORKERS, default 3) + django-q2 cluster, DEBUG off; needs
## SECRET_KEY and ALLOWED_HOSTS (environment or .env). README "One server".
serve: install
	bin/serve

## Run the test suite (SQLite by default; PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set).
test: install
	bin/ensure-chromium
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .

## Mutation testing of detection, matching, delivery, tokens, composer, validation (see pyproject).
mutants: install
	$(BIN)/mutmut run --max-children 2; $(BIN)/mutmut results

## Static types of the product code (mypy + django-stubs; config in pyproject.toml).
typecheck: install
	$(BIN)/mypy

bench-ingest: install
	$(BIN)/python bench/ingest.py

bench-detection: install
	$(BIN)/python bench/detection.py

bench-latency: install
	$(BIN)/python bench/latency.py

bench-capacity: install
	$(BIN)/python bench/capacity.py

clean:
	rm -rf $(VENV) data staticfiles .pytest_cache
