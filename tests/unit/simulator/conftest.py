# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the simulator contract tests: plain ``requests`` clients and a webhook receiver."""

from __future__ import annotations

import pytest

from tests.simulator.testing import Api, Receiver, small_scenario


@pytest.fixture
def hq(simulator):
    return Api(simulator, simulator.tokens["business-hq"])


@pytest.fixture
def quiet_sim(simulator_factory):
    """Small scenario, no rate limit, events held until a test completes them, http webhooks allowed."""
    return simulator_factory(small_scenario(enforce_rate_limit=False, hold_events=True, allow_http_notifications=True))


@pytest.fixture
def quiet_hq(quiet_sim):
    return Api(quiet_sim, quiet_sim.tokens["business-hq"])


@pytest.fixture
def receiver():
    webhook = Receiver()
    yield webhook
    webhook.close()


@pytest.fixture
def subscribed(quiet_hq, receiver):
    """quiet_hq with a webhook subscribed to every asset/user notification type."""
    quiet_hq.ok(
        "POST",
        "/client/config",
        {
            "notificationUrl": receiver.url,
            "notificationAuthToken": "hook-secret",
            "notificationTypes": ["ASSET_MANAGEMENT", "USER_MANAGEMENT", "USER_ASSOCIATED", "ASSET_COUNT"],
        },
    )
    return quiet_hq
