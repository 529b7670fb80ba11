# mdm.vpp — the two commands a newcomer needs: `make demo` and `make test`.
# Both prepare .venv themselves (idempotent: a stamp records the requirements it was built from).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-stamp
RUN_DIR := run
SIM_PID := $(RUN_DIR)/simulator.pid
SIM_LOG := $(RUN_DIR)/simulator.log
SIM_TOKENS := $(RUN_DIR)/tokens
SIM_PORT ?= 8765
DEMO_SCENARIO ?= tests/simulator/scenarios/demo.yml
PYTEST_WORKERS ?= 2

.PHONY: help venv test lint unit sanity demo sim-start sim-stop bench clean

help:
	@echo "make demo   - start the local Apple simulator with the demo scenario and show how to use it"
	@echo "make test   - everything CI runs: ruff, unit and simulator contract tests, ansible-test sanity"
	@echo "make lint | unit | sanity | bench | sim-start | sim-stop | clean"

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

test: lint unit sanity

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests/unit

sanity: $(STAMP)
	PYTHON=$(PYTHON) tools/sanity.sh

sim-start: $(STAMP)
	@mkdir -p $(RUN_DIR)
	@if [ -f $(SIM_PID) ] && kill -0 "$$(cat $(SIM_PID))" 2>/dev/null; then \
		echo "simulator already running (pid $$(cat $(SIM_PID)))"; \
	else \
		rm -f $(SIM_LOG); \
		$(BIN)/python -m tests.simulator --scenario $(DEMO_SCENARIO) --port $(SIM_PORT) \
			--tokens-dir $(CURDIR)/$(SIM_TOKENS) --pid-file $(SIM_PID) > $(SIM_LOG) 2>&1 & \
		for i in $$(seq 50); do grep -q '^URL=' $(SIM_LOG) 2>/dev/null && break; sleep 0.2; done; \
		grep -q '^URL=' $(SIM_LOG) || { cat $(SIM_LOG); exit 1; }; \
	fi
	@grep -E '^(URL|TOKENS_DIR)=' $(SIM_LOG)

sim-stop:
	@if [ -f $(SIM_PID) ]; then kill "$$(cat $(SIM_PID))" 2>/dev/null || true; \
		for i in $$(seq 25); do [ -f $(SIM_PID) ] || break; sleep 0.2; done; \
		rm -f $(SIM_PID); echo "simulator stopped"; fi

demo: sim-start
	@echo
	@echo "The simulator (a local stand-in for Apple's Apps and Books service) is running."
	@echo "Content tokens of the demo locations:"; ls -1 $(SIM_TOKENS)
	@echo "Try:  curl -s $$(sed -n 's/^URL=//p' $(SIM_LOG))/service/config | $(BIN)/python -m json.tool | head"
	@echo "Stop it with: make sim-stop"

bench: $(STAMP)
	@for script in tests/bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean: sim-stop
	rm -rf $(RUN_DIR) tests/output .pytest_cache .ruff_cache
