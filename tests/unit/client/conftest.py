# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the client tests: a simulator scenario, and clients with test-sized retry waits."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.client import VPPClient, clear_service_config_cache

HQ = "hq"
BRANCH = "branch"

# Small, hand-written data for the behaviours; "bulk" has generated data for paging.
SCENARIO = {
    "settings": {"event_delay": 0.01},
    "limits": {"maxRequestPerSecond": 50},
    "locations": [
        {
            "key": HQ,
            "name": "Headquarters",
            "assets": [
                {"adamId": "1000000001", "name": "Pages", "total": 50},
                {"adamId": "1000000002", "name": "Numbers", "total": 3},
                {"adamId": "1000000003", "name": "Keynote", "total": 50},
                {"adamId": "2000000001", "productType": "Book", "name": "Guide", "total": 10},
            ],
            "users": [{"clientUserId": "u-%02d" % index, "email": "u%02d@example.org" % index} for index in range(8)],
            "assignments": [
                {"adamId": "1000000001", "clientUserId": "u-00"},
                {"adamId": "1000000001", "serialNumber": "C02HQ0000001"},
            ],
        },
        {"key": BRANCH, "name": "Branch", "generate": {"assets": 6, "assignments": 230, "users": 40}},
    ],
}


@pytest.fixture(autouse=True)
def fresh_service_config():
    """Every test reads the service config of its own simulator (limits are changed per test)."""
    clear_service_config_cache()
    yield
    clear_service_config_cache()


@pytest.fixture
def sim(simulator_factory):
    return simulator_factory(SCENARIO)


@pytest.fixture
def make_client(sim):
    """``make_client(location=HQ, **options)``: a VPPClient with waits small enough for tests."""
    clients = []

    def build(location=HQ, **options):
        options.setdefault("backoff_base", 0.01)
        options.setdefault("backoff_cap", 0.05)
        options.setdefault("timeout", 5)
        client = VPPClient(sim.url, sim.tokens[location], **options)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def api_requests(sim, location=None, suffix=None, method=None):
    """Request-log entries of the Apple API (``/mdm/v2/...``), optionally filtered."""
    entries = [entry for entry in sim.request_log(location) if "/_sim/" not in entry["path"]]
    if suffix is not None:
        entries = [entry for entry in entries if entry["path"].endswith(suffix)]
    if method is not None:
        entries = [entry for entry in entries if entry["method"] == method]
    return entries


def assert_no_secret(error, *secrets):
    """The error's text, repr and fail_json result carry none of the secrets."""
    texts = [str(error), repr(error), repr(error.args), repr(getattr(error, "details", {}))]
    if hasattr(error, "to_result"):
        texts.append(repr(error.to_result()))
    for secret in secrets:
        for text in texts:
            assert secret not in text
