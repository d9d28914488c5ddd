# Pillarwise: the handful of commands you need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# pyproject.toml holds compatible ranges; the locks pin every package with its hashes.
LOCK := requirements.lock
RUNTIME_LOCK := requirements-runtime.lock
# Tests that need PostgreSQL, Redis or a Celery worker: the embedded pass deselects them.
SERVICE_MARKERS := redis or postgres or worker

.PHONY: run test test-embedded test-services lint format bench install lock worker beat clean

$(STAMP): pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## Re-resolve the locks from pyproject.toml's ranges, against the package index alone (not
## local wheel folders or extra indexes from pip's configuration). The runtime lock keeps
## the versions of the full lock: pip-compile prefers the pins already in its output file.
lock: $(STAMP)
	env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null $(VENV)/bin/pip-compile --quiet --upgrade \
		--generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
		--extra dev -o $(LOCK) pyproject.toml
	cp $(LOCK) $(RUNTIME_LOCK)
	env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null $(VENV)/bin/pip-compile --quiet \
		--generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
		--extra aws -o $(RUNTIME_LOCK) pyproject.toml

## Set up and serve the app on http://127.0.0.1:8000 (SQLite, in-process tasks and periodic
## tasks, no Redis needed)
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py load_lenses
	$(PY) manage.py seed_demo
	$(VENV)/bin/uvicorn config.asgi:application --host 127.0.0.1 --port 8000 --no-access-log --lifespan on

## Set up and run every test: on the embedded default, then, when DATABASE_URL or REDIS_URL
## is set, again on those services
test: test-embedded
	@if [ -n "$$DATABASE_URL$$REDIS_URL" ]; then \
		$(MAKE) --no-print-directory test-services; \
	else \
		echo "No DATABASE_URL or REDIS_URL: the tests marked $(SERVICE_MARKERS) did not run."; \
	fi

## SQLite, tasks and events in-process: every test but those that need a service
test-embedded: $(STAMP)
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py check
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py makemigrations --check --dry-run
	env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest -m "not ($(SERVICE_MARKERS))"

## PostgreSQL and Redis (DATABASE_URL, REDIS_URL): every test
test-services: $(STAMP)
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest

## Formatting and lint checks
lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Benchmarks (needs DATABASE_URL and REDIS_URL for the full-stack figures)
bench: $(STAMP)
	$(PY) -m tests.bench

worker: $(STAMP)
	$(VENV)/bin/celery -A config worker --loglevel=info

beat: $(STAMP)
	$(VENV)/bin/celery -A config beat --loglevel=info

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
