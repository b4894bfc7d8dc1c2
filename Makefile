# 质量奖评审助手 — the two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test test-pg bench clean

$(STAMP): requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11（$(PYTHON) 未找到）。可用 PYTHON=python3 make ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

## Start the whole bot on the embedded default (SQLite + the local WeCom stand-in) with demo users.
run: $(STAMP)
	$(PY) -m bot demo

## Run the whole test suite (SQLite; set TEST_DATABASE_URL to run it on PostgreSQL).
test: $(STAMP)
	$(PY) -m pytest

## The suite on the local PostgreSQL (127.0.0.1:5432, database `test`).
test-pg: $(STAMP)
	TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(PY) -m pytest

## Benchmarks (not part of the tests): webhook throughput/latency and the reminder pass.
bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) var .pytest_cache
