# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the sync engine tests: the simulator's small scenario, a real SQLite store, registered tokens."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.client import VPPClient, clear_service_config_cache
from ansible_collections.mdm.vpp.plugins.module_utils.stoken import parse_content_token
from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store
from ansible_collections.mdm.vpp.plugins.module_utils.sync import SyncOptions, sync_tokens
from tests.simulator.testing import Api, small_scenario

# token name in the store -> location key at the simulator (tests/simulator/scenarios/small.yml)
LOCATIONS = {"hq": "business-hq", "east": "school-east"}
STORE_KEY = "sync tests key"


def scenario():
    """The small scenario with a fast event worker and a rate limit high enough for quick tests."""
    data = small_scenario(event_delay=0.01)
    data["limits"] = {"maxRequestPerSecond": 100}
    return data


@pytest.fixture(autouse=True)
def fresh_service_config():
    clear_service_config_cache()
    yield
    clear_service_config_cache()


@pytest.fixture
def sim(simulator_factory):
    return simulator_factory(scenario())


@pytest.fixture
def store(tmp_path):
    opened = open_store(str(tmp_path / "store" / "vpp.db"), key=STORE_KEY)
    yield opened
    opened.close()


@pytest.fixture
def registered(store, sim):
    """Both locations registered the way vpp_token leaves them (through the store API; never synced)."""
    for name, location in LOCATIONS.items():
        store.upsert_token(name, parse_content_token(sim.tokens[location]), status="active")
    return store


@pytest.fixture
def client_factory(sim, store):
    def build(secret):
        return VPPClient(sim.url, secret, manager_id=store.manager_id, backoff_base=0.01, backoff_cap=0.05, timeout=5)

    return build


@pytest.fixture
def sync(registered, client_factory):
    """``sync(names=None, **options)``: run the engine like vpp_sync does; returns its outcome."""

    def run(names=None, parallel=2, now=None, **options):
        names = list(LOCATIONS) if names is None else names
        return sync_tokens(registered, names, client_factory, SyncOptions(**options), parallel=parallel, now=now)

    return run


@pytest.fixture
def hq_api(sim):
    """Plain HTTP calls to the simulator with the hq token (changes made "by someone else")."""
    return Api(sim, sim.tokens[LOCATIONS["hq"]])


def by_name(outcome):
    return {result["name"]: result for result in outcome["tokens"]}
