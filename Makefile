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

.PHONY: help venv test lint unit integration eda molecule postgres-test sanity matrix galaxy-check demo demo-stop \
	sim-start sim-stop mdm-start mdm-stop events-start events-stop bench clean

help:
	@echo "make demo   - the end-to-end demo against a local Apple simulator and MDM stand-in, with the license report"
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
# packages when missing, which needs root); then a real ansible-rulebook runs the rulebooks of extensions/eda/rulebooks
# (mdm_answers.yml, vpp_changes.yml, apple_notifications.yml) against the Apple simulator and the MDM stand-in. The event sources' own tests
# (tests/unit/eda) run in `make unit`.
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
	@$(call stop_process,$(SIM_PID),simulator)

# $(call stop_process,PID_FILE,NAME): SIGTERM the process of a pid file, wait for it (at most 5 s), remove the file.
stop_process = if [ -f $(1) ]; then pid="$$(cat $(1))"; kill "$$pid" 2>/dev/null || true; \
	for i in $$(seq 25); do kill -0 "$$pid" 2>/dev/null || break; sleep 0.2; done; \
	rm -f $(1); echo "$(2) stopped"; fi

# The MDM part of the demo: the event source mdm.vpp.vpp_events (the MDM's webhook, run by tools/vpp_events_run.py
# without ansible-rulebook; its events, one JSON line each, in $(EVENTS_OUT)) and the NanoMDM stand-in, whose
# devices connect by themselves after a push (--background), install only what Apple licensed (--license-oracle:
# the Apple simulator's acme-hq) and post their answers to the event source, signed (X-Hmac-Signature, checked by
# the event source: both get MDM_WEBHOOK_SECRET, a demo value). events-start first: mdm-start needs its port, and
# the Apple simulator's URL (sim-start).
MDM_SCENARIO ?= tests/mdm_simulator/scenarios/demo.yml
MDM_API_KEY ?= demo-nanomdm-api-key
MDM_WEBHOOK_SECRET ?= demo-webhook-hmac-key
MDM_PID := $(RUN_DIR)/mdm.pid
MDM_LOG := $(RUN_DIR)/mdm.log
MDM_PORT_FILE := $(RUN_DIR)/mdm.port
EVENTS_PID := $(RUN_DIR)/events.pid
EVENTS_LOG := $(RUN_DIR)/events.log
EVENTS_OUT := $(RUN_DIR)/events.jsonl
EVENTS_PORT_FILE := $(RUN_DIR)/events.port

events-start: $(STAMP) $(COLLECTION_LINK)
	@mkdir -p $(RUN_DIR) $(dir $(DEMO_STORE))
	@if [ -f $(EVENTS_PID) ] && kill -0 "$$(cat $(EVENTS_PID))" 2>/dev/null; then \
		echo "event source already running (pid $$(cat $(EVENTS_PID)))"; \
	else \
		rm -f $(EVENTS_PORT_FILE) $(EVENTS_LOG); \
		VPP_MDM_WEBHOOK_SECRET="$(MDM_WEBHOOK_SECRET)" $(BIN)/python tools/vpp_events_run.py --collections $(abspath $(COLLECTIONS_DIR)) \
			--store $(abspath $(DEMO_STORE)) --port 0 --port-file $(EVENTS_PORT_FILE) --wait-for-store 120 \
			>> $(EVENTS_OUT) 2> $(EVENTS_LOG) & echo $$! > $(EVENTS_PID); \
		for i in $$(seq 50); do [ -s $(EVENTS_PORT_FILE) ] && break; sleep 0.1; done; \
		[ -s $(EVENTS_PORT_FILE) ] || { cat $(EVENTS_LOG); exit 1; }; \
	fi
	@echo "EVENTS_URL=http://127.0.0.1:$$(cat $(EVENTS_PORT_FILE))/mdm/webhook"

events-stop:
	@$(call stop_process,$(EVENTS_PID),event source)

mdm-start: $(STAMP)
	@mkdir -p $(RUN_DIR)
	@if [ -f $(MDM_PID) ] && kill -0 "$$(cat $(MDM_PID))" 2>/dev/null; then \
		echo "MDM stand-in already running (pid $$(cat $(MDM_PID)))"; \
	else \
		apple="$$(sed -n 's/^URL=//p' $(SIM_LOG))"; events="$$(cat $(EVENTS_PORT_FILE))"; \
		[ -n "$$apple" ] && [ -n "$$events" ] || { echo "mdm-start needs sim-start and events-start first"; exit 1; }; \
		rm -f $(MDM_LOG); \
		$(BIN)/python -m tests.mdm_simulator --flavor nanomdm --scenario $(MDM_SCENARIO) --port 0 \
			--port-file $(MDM_PORT_FILE) --api-key "$(MDM_API_KEY)" --webhook-hmac-key "$(MDM_WEBHOOK_SECRET)" \
			--background \
			--license-oracle "{\"apple_sim_url\": \"$${apple%/mdm/v2}\", \"location\": \"acme-hq\"}" \
			--webhook-url "http://127.0.0.1:$$events/mdm/webhook" > $(MDM_LOG) 2>&1 & echo $$! > $(MDM_PID); \
		for i in $$(seq 50); do grep -q '^URL=' $(MDM_LOG) 2>/dev/null && break; sleep 0.2; done; \
		grep -q '^URL=' $(MDM_LOG) || { cat $(MDM_LOG); exit 1; }; \
	fi
	@sed -n 's/^URL=/MDM_URL=/p' $(MDM_LOG)

mdm-stop:
	@$(call stop_process,$(MDM_PID),MDM stand-in)

# Everything the demo started, the Apple simulator last.
demo-stop: mdm-stop events-stop sim-stop

# The end-to-end demo: a fresh Apple simulator, MDM stand-in, event source and private store under run/,
# playbooks/demo.yml against them (onboard, sync, deploy, reclaim; then install through the MDM, the devices'
# answers, removal and reclaim; the report), then the license table and the report's path. Every process is
# stopped at the end, also when the play fails or is interrupted.
DEMO_STORE := $(RUN_DIR)/store/vpp.db
DEMO_REPORT := $(RUN_DIR)/report

demo: $(STAMP) $(COLLECTION_LINK)
	@$(MAKE) --no-print-directory demo-stop >/dev/null
	@rm -rf $(dir $(DEMO_STORE)) $(DEMO_REPORT) $(EVENTS_OUT)
	@trap '$(MAKE) --no-print-directory demo-stop' EXIT; trap 'exit 130' INT TERM; \
	$(MAKE) --no-print-directory sim-start events-start mdm-start || exit 1; \
	ANSIBLE_COLLECTIONS_PATH=$(abspath $(COLLECTIONS_DIR)) ANSIBLE_PYTHON_INTERPRETER=$(abspath $(BIN))/python \
	ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_RETRY_FILES_ENABLED=False \
	VPP_API_URL="$$(sed -n 's/^URL=//p' $(SIM_LOG))" VPP_STORE=$(abspath $(DEMO_STORE)) \
	DEMO_MDM_API_KEY="$(MDM_API_KEY)" \
	$(BIN)/ansible-playbook -i localhost, playbooks/demo.yml -e demo_tokens_dir=$(abspath $(SIM_TOKENS)) \
		-e vpp_report_dir=$(abspath $(DEMO_REPORT)) -e demo_mdm_url="$$(sed -n 's/^URL=//p' $(MDM_LOG))" \
		-e demo_events_port="$$(cat $(EVENTS_PORT_FILE))" -e demo_events_file=$(abspath $(EVENTS_OUT)) \
		|| exit $$?; \
	echo; echo "License table ($(DEMO_REPORT)/vpp-licenses.txt):"; echo; cat $(DEMO_REPORT)/vpp-licenses.txt; \
	echo; echo "Report: $(abspath $(DEMO_REPORT))/vpp-licenses.html (open it in a browser; also .csv and .json)"; \
	echo "Device answers recorded by mdm.vpp.vpp_events: $(abspath $(EVENTS_OUT)) ($$(wc -l < $(EVENTS_OUT)) events)"

# Every benchmark (not part of `make test`); bench_district.py runs last: docs/BENCHMARKS.md includes the others.
BENCH_SCRIPTS := $(filter-out tests/bench/bench_district.py,$(sort $(wildcard tests/bench/bench_*.py))) \
	tests/bench/bench_district.py

bench: $(STAMP)
	@for script in $(BENCH_SCRIPTS); do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean: demo-stop
	rm -rf $(RUN_DIR) tests/output .pytest_cache .ruff_cache
