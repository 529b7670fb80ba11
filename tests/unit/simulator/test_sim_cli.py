# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The command line, generated scenarios, scenario loading and TLS."""

from __future__ import annotations

import datetime
import ipaddress
import os
import signal
import subprocess
import sys

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.simulator import Simulator, load_scenario
from tests.simulator.scenario import ScenarioError, generated_scenario
from tests.simulator.testing import Api

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def run_module(*args, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.simulator", *args],
        cwd=REPO_ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def test_cli_prints_url_writes_tokens_and_pid_file_and_stops_on_sigterm(tmp_path):
    tokens, pid_file, log_file = tmp_path / "tokens", tmp_path / "sim.pid", tmp_path / "sim.log"
    process = run_module(
        "--port", "0", "--tokens-dir", str(tokens), "--pid-file", str(pid_file), "--log-file", str(log_file)
    )
    try:
        url_line, tokens_line = process.stdout.readline().strip(), process.stdout.readline().strip()
        assert url_line.startswith("URL=http://127.0.0.1:") and url_line.endswith("/mdm/v2")
        assert tokens_line == "TOKENS_DIR=%s" % tokens
        assert int(pid_file.read_text()) == process.pid
        token = (tokens / "business-hq.vpptoken").read_text()
        response = requests.get(
            url_line[4:] + "/client/config", headers={"Authorization": "Bearer " + token}, timeout=5
        )
        assert response.json()["locationName"] == "Example HQ"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert not pid_file.exists()
    assert "GET /mdm/v2/client/config 200 business-hq" in log_file.read_text()
    assert token not in log_file.read_text()


def test_generate_writes_a_compact_scenario(tmp_path):
    out = tmp_path / "big.yml"
    process = run_module("generate", "--locations", "3", "--assets", "20", "--assignments", "300", "--out", str(out))
    assert process.wait(timeout=30) == 0
    assert out.stat().st_size < 5000  # a generate block per location, not one row per assignment
    scenario = load_scenario(str(out))
    assert [location["generate"]["assignments"] for location in scenario["locations"]] == [300, 300, 300]


def test_generated_location_holds_the_requested_data(simulator_factory):
    sim = simulator_factory(dict(generated_scenario(1, 20, 300, users=40), settings={"enforce_rate_limit": False}))
    api = Api(sim, sim.tokens["loc-00000"])
    assets = api.all_pages("/assets", "assets")
    assert len(assets) == 20 and sum(asset["assignedCount"] for asset in assets) == 300
    assert all(asset["availableCount"] >= 5 for asset in assets)
    assert len(api.all_pages("/assignments", "assignments")) == 300
    assert len(api.all_pages("/users", "users")) == 40


def test_generation_is_deterministic_for_a_seed():
    first = Simulator(generated_scenario(1, 5, 50, users=10, seed=7))
    second = Simulator(generated_scenario(1, 5, 50, users=10, seed=7))
    assert first.location_state("loc-00000") == second.location_state("loc-00000")


def test_scenario_json_file_and_errors(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"locations": [{"key": "a", "assets": [{"adamId": "1", "total": 1}]}]}')
    assert load_scenario(str(path))["locations"][0]["assets"][0]["total"] == 1
    with pytest.raises(ScenarioError, match="unknown settings"):
        load_scenario({"settings": {"nope": 1}})
    with pytest.raises(ScenarioError, match="more assignments than licenses"):
        Simulator(
            {
                "locations": [
                    {
                        "key": "a",
                        "assets": [{"adamId": "1", "total": 0}],
                        "assignments": [{"adamId": "1", "serialNumber": "S"}],
                    }
                ]
            }
        )


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


def test_tls_serves_https_and_untrusted_certificates_are_refused(simulator_factory, tmp_path):
    cert, key = _self_signed(tmp_path)
    sim = simulator_factory(
        load_scenario(os.path.join(REPO_ROOT, "tests/simulator/scenarios/small.yml")), tls_cert=cert, tls_key=key
    )
    assert sim.url.startswith("https://127.0.0.1:")
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(sim.url + "/service/config", timeout=5)
    assert (
        requests.get(sim.url + "/service/config", timeout=5, verify=cert)
        .json()["urls"]["getAssets"]
        .startswith("https://")
    )
