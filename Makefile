# Two commands on a fresh Debian machine with Python 3.11:  make run  |  make test
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# What each target needs, installed once per pyproject.toml change: running needs the product only,
# testing adds pytest and the browser driver, `make install` (CI, development) adds the linters too.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
STAMP := $(VENV)/.installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(TEST_STAMP) $(RUN_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,dev]"
	touch $(STAMP) $(TEST_STAMP) $(RUN_STAMP)

install: $(STAMP)

## Run the product on embedded defaults (SQLite, ORM broker, console SMS): web + worker + scheduler.
run: $(RUN_STAMP)
	bin/run

## Production on one server: gunicorn (WEB_WORKERS, default 3) + django-q2 cluster, DEBUG off; needs
## SECRET_KEY and ALLOWED_HOSTS (environment or .env). README "One server".
serve: $(RUN_STAMP)
	bin/serve

## Run the test suite (SQLite by default; PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set).
test: $(TEST_STAMP)
	bin/ensure-chromium
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .

## Mutation testing (mutmut 3; modules and tests: [tool.mutmut] in pyproject.toml), niced: the machine is
## shared. `make mutants` runs every module (hours); MUTANTS names a set by mutant-name globs,
## `make mutants MUTANTS="alerts.outbox.quiet.* alerts.outcomes.ledger.*"`, and `make mutants-features` the features of
## issues 28-32 (FEATURE_MUTANTS, 30 minutes on 2 cores left to it). Then bench/mutants.py recheck and report
## (docs/benchmarks.md, "Mutation run on the features of issues 28–32").
MUTANTS :=
FEATURE_MUTANTS := alerts.outbox.quiet.* alerts.outbox.notices.* alerts.outbox.reminders.* alerts.outcomes.callbacks.* alerts.outcomes.replies.* \
	tracking.webhooks.meetings.* tracking.meetings_by_hand.* tracking.privacy.* core.ratelimit.* alerts.outcomes.ledger.*
mutants: install
	rm -rf mutants  # a fresh run: mutmut would otherwise keep an earlier run's verdicts
	nice -n 10 $(BIN)/mutmut run --max-children 2 $(foreach glob,$(MUTANTS),'$(glob)')
	$(BIN)/python bench/mutants.py report --summary --only $(foreach glob,$(MUTANTS),'$(glob)')

mutants-features:
	$(MAKE) mutants MUTANTS="$(FEATURE_MUTANTS)"

## Static types of the product code (mypy + django-stubs; config in pyproject.toml).
typecheck: install
	$(BIN)/mypy

## Refresh the vendored bot lists (core/bot_lists/: isbot from npm, Matomo's bots.yml from PyPI's
## device-detector); needs npm and node. crawlerdetect and crawler-user-agents come with pip.
bot-lists: install
	$(BIN)/python bin/update-bot-lists

bench-bots: install
	$(BIN)/python bench/bot_lists.py

bench-ingest: $(TEST_STAMP)
	$(BIN)/python bench/ingest.py

bench-detection: $(TEST_STAMP)
	$(BIN)/python bench/detection.py

bench-latency: $(TEST_STAMP)
	$(BIN)/python bench/latency.py

bench-capacity: $(TEST_STAMP)
	$(BIN)/python bench/capacity.py

clean:
	rm -rf $(VENV) data staticfiles .pytest_cache
