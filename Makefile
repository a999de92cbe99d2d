# The two commands that matter: `make run` (set up everything, serve the console with demo data)
# and `make test` (the whole suite; on PostgreSQL too when TEST_DATABASE_URL is set).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install lock db seed serve worker bench bench-pages bench-load browser lint format clean

run: install db seed serve

# A virtual environment with the locked tree: every package pinned and checked against its hash
# (requirements-dev.txt holds the runtime set too); rebuilt when a lock file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# Recompiles the locks from requirements.in / requirements-dev.in after a pin changes there. Pins
# not named in an .in file stay where they are; `make lock LOCK_FLAGS=--upgrade` moves them all
# to the newest versions. The locks are universal: markers and hashes for every platform's wheels.
LOCK_FLAGS ?=
UV_COMPILE = $(BIN)/uv pip compile --universal --python-version 3.11 --generate-hashes --quiet $(LOCK_FLAGS)
lock: install
	$(UV_COMPILE) -o requirements.txt requirements.in
	$(UV_COMPILE) -o requirements-dev.txt requirements-dev.in

db: install
	$(FLASK) db upgrade

seed: install
	$(FLASK) seed --demo

# The console and a task-queue worker (batch PDF exports) together; stopping one stops both.
serve:
	@echo "控制台：http://$(HOST):$(PORT)/  (演示账号见 README.md)"
	@$(BIN)/huey_consumer worker.huey -k process -w $(WORKERS) & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

WORKERS ?= 2

# A worker alone, e.g. on another machine sharing TASK_QUEUE_URL=redis://... and DATABASE_URL.
worker: install
	$(BIN)/huey_consumer worker.huey -k process -w $(WORKERS)

# Speed and memory of the PDF forms (figures printed; see bench/README.md).
bench: install
	$(BIN)/python bench/pdf.py

# Server time of every page per role at 10k and 1M cases, and a locust run against gunicorn
# (issue 11; options in bench/README.md), e.g. make bench-pages BENCH_ARGS="--size demo".
BENCH_ARGS ?=
bench-pages: install
	$(BIN)/python bench/pages.py $(BENCH_ARGS)

bench-load: install
	$(BIN)/python bench/load.py $(BENCH_ARGS)

# The browser tests drive Debian's Chromium, and a form test rasterises a printed PDF with poppler's
# pdftoppm to read its QR codes back; install them when missing (CI runs as root).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	@command -v pdftoppm >/dev/null || (apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null)
	@fc-list :lang=zh | grep -q . || (apt-get update -qq && apt-get install -y -qq fonts-wqy-zenhei >/dev/null)

test: install browser
	$(BIN)/python -m pytest -n 2

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) instance/*.db instance/*.db-* instance/exports
