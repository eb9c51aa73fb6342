# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test install install-test prometheus bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

# Debian's prometheus (2.42, with promtool) for the integration tests.
prometheus:
	@if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing prometheus with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	else \
		echo "prometheus and promtool are needed for the integration tests:"; \
		echo "  sudo apt-get install prometheus   (Debian/Ubuntu)"; exit 1; \
	fi

demo: install
	$(BIN)/pitboard --demo

test: install-test prometheus
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m console.bench

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache snapshot_report.html
