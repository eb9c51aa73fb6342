# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test install install-test system-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

# System tools for the integration tests, installed with apt-get when missing (Debian's
# packages, never a downloaded build): prometheus (2.42, with promtool), the sqlite3 shell
# (tamper tests), prometheus-alertmanager (0.25, alert and silence tests), victoria-metrics
# (1.79, one global store for 20 clusters) and chromium (driven by Playwright through
# executable_path; Playwright never downloads a browser here).
SYSTEM_TOOLS    := prometheus promtool sqlite3 prometheus-alertmanager victoria-metrics chromium
SYSTEM_PACKAGES := prometheus sqlite3 prometheus-alertmanager victoria-metrics chromium

system-deps:
	@missing=""; for t in $(SYSTEM_TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing with apt-get:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
	else \
		echo "missing for the integration tests:$$missing"; \
		echo "  install them with: sudo apt-get install --no-install-recommends $(SYSTEM_PACKAGES)   (Debian/Ubuntu)"; exit 1; \
	fi

demo: install
	$(BIN)/pitboard --demo

# the type checker (pinned in the test extras), then the whole suite: two workers, each
# test file on one (its module-scoped servers started once)
test: install-test system-deps
	$(BIN)/python -m mypy console widgets backends
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

bench: install
	$(BIN)/python -m console.cli.bench

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache snapshot_report.html
