# Everyday commands. `make run` and `make test` install whatever is missing first.
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup setup-test run worker test test-fast test-unit test-js coverage lint check-imports format bench eval screenshots clean

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh --test

run: setup
	$(PY) app.py --host $(HOST) --port $(PORT)

# A Celery worker for the distributed mode (docs/DISTRIBUTED.md), e.g. WORKER_ARGS="--queues asr".
worker: setup
	$(PY) -m flask --app app pipeline worker $(WORKER_ARGS)

test: setup-test test-js
	$(PY) -m pytest -q --durations=10 $(PYTEST_ARGS)

# The browser's session store and helpers under Node's own test runner (no packages needed).
test-js:
	node --test tests/js/

test-fast: setup-test
	$(PY) -m pytest -q -m "not slow and not browser" $(PYTEST_ARGS)

# Pure logic only (tests marked `unit`, and the browser store): runs in seconds.
test-unit: setup-test test-js
	$(PY) -m pytest -q -m unit $(PYTEST_ARGS)

# Line coverage of the fast lane (PYTEST_ARGS narrows or widens it); prints the total.
coverage: setup-test
	$(PY) -m coverage run -m pytest -q -m "not slow and not browser" $(PYTEST_ARGS)
	$(PY) -m coverage report --skip-covered --skip-empty --sort=cover
	@echo "Total line coverage: $$($(PY) -m coverage report --format=total)%"

lint: setup-test check-imports
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# Fails on an import that goes up a floor or closes a circle (the README's layout).
check-imports:
	python3 scripts/check_imports.py

format: setup-test
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: setup-test  # the live figures use the websocket client of the test set
	$(PY) scripts/bench.py $(BENCH_ARGS)

# Real recorded speech through every stage (evaluation/report.py); writes docs/EVAL.md.
eval: setup
	$(PY) scripts/eval.py $(EVAL_ARGS)

screenshots: setup-test
	$(PY) scripts/screenshots.py

clean:
	rm -rf .pytest_cache .ruff_cache htmlcov .coverage
