# The README's commands. `make run` and `make test` install what is missing first.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
UV ?= uv

.PHONY: run test check lint format worker bench load install uv

uv:
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --user --quiet uv \
	  || python3 -m pip install --user --quiet --break-system-packages uv

install: uv
	$(UV) sync --frozen

run: install
	$(UV) run imageuploader serve

worker: install
	$(UV) run dramatiq workers.main --processes 1 --threads 4

test: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run pytest

# The fast lane: lint and every test but the browser, load, fault, fuzz and e2e suites,
# in four processes (tests wait on workers and servers, so more than two cores pay)
# that take work from each other once their own runs out, without the plugins that
# only the fuzz suite needs.
check: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run pytest -m "not slow_lane" -n 4 --dist worksteal -p no:hypothesispytest -p no:faker -p no:schemathesis

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .

format: install
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

bench: install
	$(UV) run python -m bench

# 20 uploaders + 20 readers for 60 s on a private PostgreSQL, Redis, app and worker (SECONDS=...).
load: install
	$(UV) run python -m bench.load --seconds $(or $(SECONDS),60)
