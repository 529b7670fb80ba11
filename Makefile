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

.PHONY: help venv test lint unit integration eda molecule postgres-test sanity matrix galaxy-check demo sim-start sim-stop bench clean

help:
	@echo "make demo   - run the end-to-end demo against a local Apple simulator and write the license report"
	@echo "make test   - everything CI runs: ruff, ansible-lint, changelog, unit, integration, eda (ansible-rulebook), molecule, ansible-test sanity, the support matrix, galaxy-importer"
	@echo "make lint | unit | integration | eda | molecule | sanity | matrix | galaxy-check | bench | sim-start | sim-stop | clean"

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

test: lint unit integration eda molecule postgres-test sanity matrix galaxy-check

# The collection as Ansible finds it: run/collections/ansible_collections/mdm/vpp -> this checkout.
COLLECTIONS_DIR := $(RUN_DIR)/collections
COLLECTION_LINK := $(COLLECTIONS_DIR)/ansible_collections/mdm/vpp

$(COLLECTION_LINK):
	@mkdir -p $(dir $@)
	@ln -sfn $(CURDIR) $@

lint: $(STAMP) $(COLLECTION_LINK)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PATH=$(abspath $(BIN)):$$PATH ANSIBLE_COLLECTIONS_PATH=$(abspath $(COLLECTIONS_DIR)) $(BIN)/ansible-lint
	tools/changelog.sh check

# Every role's molecule scenario (extensions/molecule/<role>): converge, idempotence and verify on localhost
# against its own simulator and private store.
molecule: $(STAMP) $(COLLECTION_LINK)
	tools/molecule.sh --all

unit: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests/unit

# Real ansible-playbook runs of every module against the simulator.
integration: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests/integration

# Event-Driven Ansible (docs/events.md): tools/eda.sh gives .venv-eda with ansible-rulebook (and Java 17 from Debian's
# packages when missing, which needs root); then a real ansible-rulebook runs extensions/eda/rulebooks/mdm_answers.yml
# against the Apple simulator and the MDM stand-in. The event source's own tests (tests/unit/eda) run in `make unit`.
eda: $(STAMP)
	tools/eda.sh >/dev/null
	$(BIN)/python -m pytest tests/eda

# The PostgreSQL store (docs/postgresql.md) on a throwaway PostgreSQL 15 server (tools/postgres.sh; installed from
# Debian's packages when missing, which needs root): the store contract tests on PostgreSQL, the PostgreSQL-only
# tests (locks, copy, parallel jobs, AWX runner), then the integration suite once more with a PostgreSQL store
# (PG_INTEGRATION: every module's tests and the AWX runner test; the reliability tests pin SQLite stores
# themselves and three tests read the SQLite file directly). The server is stopped even when a test fails.
PG_INTEGRATION ?= tests/integration/test_vpp_*.py tests/integration/test_report.py tests/integration/test_awx_runner.py \
	--deselect tests/integration/test_vpp_sync.py::test_check_mode_reports_the_drift_and_writes_nothing \
	--deselect tests/integration/test_vpp_sync.py::test_after_a_store_restore_auto_converges \
	--deselect tests/integration/test_vpp_token.py::test_check_apply_reapply_check_is_idempotent_and_writes_apple_once
postgres-test: $(STAMP)
	@trap 'tools/postgres.sh stop' EXIT; dsn=$$(tools/postgres.sh start) || exit 1; \
	export VPP_TEST_POSTGRES_DSN="$$dsn"; \
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -k postgresql tests/unit/store \
		&& $(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests/integration/test_postgres_*.py \
		&& VPP_TEST_STORE_BACKEND=postgresql $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PG_INTEGRATION)

sanity: $(STAMP)
	PYTHON=$(PYTHON) tools/sanity.sh

# The support matrix (README "Supported versions", docs/support.md, tests/matrix/pairs.txt): the smoke play with each
# supported ansible-core on its Python in a cached virtual environment, the refusal of an older pair, then
# ansible-test sanity with each supported pair but the default one (make sanity runs that).
matrix: $(STAMP)
	tools/matrix.sh
	@for pair in $$(PYTHON=$(PYTHON) tools/matrix.sh --sanity-pairs); do \
		echo "== ansible-test sanity, ansible-core $${pair%%:*} on Python $${pair#*:}"; \
		tools/sanity.sh --pair "$$pair" || exit 1; \
	done

# What Galaxy runs on upload: the built tarball must ship no cache, venv or scratch folder, and galaxy-importer
# (with ansible-lint) must accept it. Its own virtual environment, .venv-galaxy, is rebuilt when its pins change.
galaxy-check:
	PYTHON=$(PYTHON) tools/galaxy_check.sh

sim-start: $(STAMP)
	@mkdir -p $(RUN_DIR)
	@if [ -f $(SIM_PID) ] && kill -0 "$$(cat $(SIM_PID))" 2>/dev/null; then \
		echo "simulator already running (pid $$(cat $(SIM_PID)))"; \
	else \
		rm -f $(SIM_LOG); \
		$(BIN)/python -m tests.simulator --scenario $(DEMO_SCENARIO) --port $(SIM_PORT) \
			--tokens-dir $(abspath $(SIM_TOKENS)) --pid-file $(SIM_PID) > $(SIM_LOG) 2>&1 & \
		for i in $$(seq 50); do grep -q '^URL=' $(SIM_LOG) 2>/dev/null && break; sleep 0.2; done; \
		grep -q '^URL=' $(SIM_LOG) || { cat $(SIM_LOG); exit 1; }; \
	fi
	@grep -E '^(URL|TOKENS_DIR)=' $(SIM_LOG)

sim-stop:
	@if [ -f $(SIM_PID) ]; then kill "$$(cat $(SIM_PID))" 2>/dev/null || true; \
		for i in $$(seq 25); do [ -f $(SIM_PID) ] || break; sleep 0.2; done; \
		rm -f $(SIM_PID); echo "simulator stopped"; fi

# The end-to-end demo: a fresh simulator and a fresh private store under run/, playbooks/demo.yml against them
# (onboard, sync, deploy, reclaim, report), then the license table and the report's path. The simulator is
# stopped at the end, also when the play fails or is interrupted.
DEMO_STORE := $(RUN_DIR)/store/vpp.db
DEMO_REPORT := $(RUN_DIR)/report

demo: $(STAMP) $(COLLECTION_LINK)
	@rm -rf $(dir $(DEMO_STORE)) $(DEMO_REPORT)
	@$(MAKE) --no-print-directory sim-stop >/dev/null
	@trap '$(MAKE) --no-print-directory sim-stop' EXIT; trap 'exit 130' INT TERM; \
	$(MAKE) --no-print-directory sim-start || exit 1; \
	ANSIBLE_COLLECTIONS_PATH=$(abspath $(COLLECTIONS_DIR)) ANSIBLE_PYTHON_INTERPRETER=$(abspath $(BIN))/python \
	ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_RETRY_FILES_ENABLED=False \
	VPP_API_URL="$$(sed -n 's/^URL=//p' $(SIM_LOG))" VPP_STORE=$(abspath $(DEMO_STORE)) \
	$(BIN)/ansible-playbook -i localhost, playbooks/demo.yml -e demo_tokens_dir=$(abspath $(SIM_TOKENS)) \
		-e vpp_report_dir=$(abspath $(DEMO_REPORT)) || exit $$?; \
	echo; echo "License table ($(DEMO_REPORT)/vpp-licenses.txt):"; echo; cat $(DEMO_REPORT)/vpp-licenses.txt; \
	echo; echo "Report: $(abspath $(DEMO_REPORT))/vpp-licenses.html (open it in a browser; also .csv and .json)"

# Every benchmark (not part of `make test`); bench_district.py runs last: docs/BENCHMARKS.md includes the others.
BENCH_SCRIPTS := $(filter-out tests/bench/bench_district.py,$(sort $(wildcard tests/bench/bench_*.py))) \
	tests/bench/bench_district.py

bench: $(STAMP)
	@for script in $(BENCH_SCRIPTS); do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean: sim-stop
	rm -rf $(RUN_DIR) tests/output .pytest_cache .ruff_cache
