# 质量奖评审助手 — the two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEV    := $(VENV)/.installed-dev
# Test processes: one per core by default (pytest-xdist); TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= auto

.PHONY: run test test-pg bench lint clean

$(STAMP): requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11（$(PYTHON) 未找到）。可用 PYTHON=python3 make ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

# Test tools (pytest, hypothesis, playwright, ruff) on top of the runtime.
$(DEV): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(DEV)

## Start the whole bot on the embedded default (SQLite + the local WeCom stand-in) with demo users;
## it prints the WeCom simulator's address first. PORT=9000 puts the webhook on 9000, the simulator on 9001.
run: $(STAMP)
	$(PY) -m bot demo $(if $(PORT),--port $(PORT))

## Run the whole test suite (SQLite; set TEST_DATABASE_URL to run it on PostgreSQL).
test: $(DEV)
	$(PY) -m pytest -n $(TEST_WORKERS)

## The suite on the local PostgreSQL (127.0.0.1:5432, database `test`).
test-pg: $(DEV)
	TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(PY) -m pytest -n $(TEST_WORKERS)

## Benchmarks (not part of the tests): webhook throughput/latency and the reminder pass.
bench: $(DEV)
	$(PY) -m bench

## Static checks (pyflakes rules via ruff).
lint: $(DEV)
	$(PY) -m ruff check --select F,E9 bot workflows tests bench

clean:
	rm -rf $(VENV) var .pytest_cache
