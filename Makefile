# The README's two commands: `make run` and `make test`. Each creates .venv/ and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint check bench lock clean

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "VisitFlow needs Python 3.11 or newer"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The exact versions of requirements.lock (`make lock` refreshes it), then VisitFlow itself.
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e . --config-settings editable_mode=compat
	# Debian's Chromium (and CJK fonts) for tests/e2e, where we may install it; else they skip.
	command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null || true; }
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m workflows check definitions
	$(BIN)/python -m service.entrypoints.launcher

lint: $(STAMP)
	$(BIN)/ruff check workflows service tests bench
	$(BIN)/ruff format --check workflows service tests bench
	$(BIN)/mypy workflows service
	$(BIN)/lint-imports

test: $(STAMP) lint
	$(BIN)/python -m workflows check definitions
	$(BIN)/python -m pytest

bench: $(STAMP)  # every benchmark, one after the other (about 20 minutes)
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/deadlines.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/kpi.py

lock: $(STAMP)  # the newest releases within pyproject.toml's ranges, pinned
	$(BIN)/pip-compile --quiet --upgrade --extra dev --strip-extras --no-emit-index-url \
		--no-emit-find-links --output-file requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
