# Two commands: `make run` starts the app on the embedded default data; `make test` runs the suite.
# `make check` is the developer's fast loop: the linter and every test not marked slow.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501
TEST_WORKERS ?= 2

.PHONY: run test check lint venv browser bench clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-build-isolation --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

# Debian's chromium for the real-browser test (never `playwright install`); skipped without apt/root.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	      (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "chromium install failed"; \
	    else echo "no chromium and no apt-get as root: the browser test will be skipped"; fi; }

run: $(STAMP)
	$(PY) -m streamlit run app/main.py --server.headless true --server.port $(PORT) \
	  --browser.gatherUsageStats false

lint: $(STAMP)
	$(PY) -m ruff check .

test: $(STAMP) browser lint
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

check: $(STAMP) lint
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not slow"

bench: $(STAMP)
	$(PY) benchmarks/throughput.py
	$(PY) benchmarks/nc_speed.py

clean:
	rm -rf $(VENV)
