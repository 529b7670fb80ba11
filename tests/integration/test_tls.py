# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulator over HTTPS with a certificate of a private CA: refused by default with a clear message, accepted
with ``validate_certs: false`` or with ``ca_path`` pointing at the CA bundle."""

from __future__ import annotations

import pytest

from tests.integration.deployment_helpers import HQ
from tests.integration.reliability_helpers import api_requests, sqlite_runner, token_file
from tests.simulator.testing import small_scenario
from tests.tls_helpers import write_certificates


@pytest.fixture
def tls(tmp_path, simulator_factory):
    ca_bundle, cert, key = write_certificates(tmp_path)
    scenario = small_scenario(event_delay=0.01)
    scenario["limits"] = {"maxRequestPerSecond": 100}
    return simulator_factory(scenario, tls_cert=str(cert), tls_key=str(key)), ca_bundle


def test_https_with_a_private_ca_is_refused_by_default_and_accepted_when_told_how(tmp_path, collections_path, tls):
    sim, ca_bundle = tls
    assert sim.url.startswith("https://127.0.0.1:")
    runner = sqlite_runner(tmp_path, collections_path, sim)
    register = {"name": "hq", "token_file": token_file(sim, HQ)}
    run = runner.play(
        [
            {"name": "default", "mdm.vpp.vpp_token": register, "ignore_errors": True},
            {"name": "no validation", "mdm.vpp.vpp_token": dict(register, validate_certs=False)},
            {"name": "ca bundle", "mdm.vpp.vpp_sync": {"ca_path": str(ca_bundle)}},
            {"name": "sync by default", "mdm.vpp.vpp_sync": {}, "ignore_errors": True},
        ]
    )
    assert run.rc == 0, run.stdout + run.stderr
    for task in ("default", "sync by default"):
        assert run.status(task) == "failed"
        message = run.result(task)["msg"]
        assert "the TLS certificate of %s could not be verified" % sim.url in message, message
        assert "set ca_path to the CA bundle that signed it" in message
    assert run.result("no validation")["actions"] == ["register", "claim"]
    synced = run.result("ca bundle")["tokens"][0]
    assert synced["status"] == "ok" and synced["assignments"]["added"] == 3
    # the refused attempts never reached the API: the TLS handshake failed first
    assert len(api_requests(sim, "GET", "/client/config")) == 2
