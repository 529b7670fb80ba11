# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the MDM stand-in contract tests: started stand-ins, plain HTTP clients, a webhook receiver."""

from __future__ import annotations

import pytest

from tests.mdm_simulator import MDMSimulator
from tests.mdm_simulator.testing import Client, Receiver


@pytest.fixture
def mdm_factory():
    started = []

    def factory(scenario=None, **kwargs):
        mdm = MDMSimulator(scenario, **kwargs).start()
        started.append(mdm)
        return mdm

    yield factory
    for mdm in started:
        mdm.stop()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def nano(mdm_factory, receiver):
    """NanoMDM (kv) with a signing webhook."""
    return Client(mdm_factory(flavor="nanomdm", webhook_url=receiver.url, webhook_hmac_key="hmac-key"))


@pytest.fixture
def micro(mdm_factory, receiver):
    mdm = mdm_factory(flavor="micromdm", webhook_url=receiver.url, webhook_hmac_key="ignored")
    mdm.configure(micromdm_queue_delay=0.02)
    return Client(mdm)


@pytest.fixture
def hub(mdm_factory, receiver):
    return Client(mdm_factory(flavor="nanohub", webhook_url=receiver.url, webhook_hmac_key="hmac-key"))
