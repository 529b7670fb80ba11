# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``validate_certs`` and ``ca_path`` decide, even where REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE are set (as on many
hosts and execution environments): requests would otherwise let the environment override the session's setting."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.client import VPPClient
from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from tests.tls_helpers import write_certificates
from tests.unit.client.conftest import HQ, SCENARIO


@pytest.fixture
def https_sim(tmp_path, simulator_factory, monkeypatch):
    ca_bundle, cert, key = write_certificates(tmp_path)
    # a system bundle that does not hold the private CA, named by both variables requests honours
    system_bundle = tmp_path / "system-bundle.pem"
    system_bundle.write_bytes(cert.read_bytes())
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(system_bundle))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(system_bundle))
    return simulator_factory(SCENARIO, tls_cert=str(cert), tls_key=str(key)), ca_bundle


def test_the_certificate_is_verified_by_default(https_sim):
    sim, _ca_bundle = https_sim
    with VPPClient(sim.url, sim.tokens[HQ], retries=0) as client, pytest.raises(ConfigurationError) as caught:
        client.client_config()
    assert "could not be verified" in str(caught.value) and "set ca_path" in str(caught.value)


@pytest.mark.parametrize("options", [{"validate_certs": False}, {"ca_path": "CA"}], ids=["no validation", "ca_path"])
def test_validate_certs_false_and_ca_path_win_over_the_environment(https_sim, options):
    sim, ca_bundle = https_sim
    if "ca_path" in options:
        options = {"ca_path": str(ca_bundle)}
    with VPPClient(sim.url, sim.tokens[HQ], retries=0, **options) as client:
        assert client.client_config()["locationName"] == "Headquarters"
