# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rate limiting, injected faults, latency and the request log (reference §13, §16.11)."""

from __future__ import annotations

import time

import pytest
import requests

from tests.simulator.testing import Api, assert_error


def test_rate_limit_answers_429_9646_with_retry_after(simulator, hq):
    simulator.set_limits(maxRequestPerSecond=2)
    statuses = [hq.get("/client/config") for _round in range(30)]
    limited = [response for response in statuses if response.status_code == 429]
    assert limited, "30 back-to-back requests must exceed 2 per second"
    assert limited[0].json()["errorNumber"] == 9646 and limited[0].headers["Retry-After"] == "1"


def test_rate_limit_is_per_location(simulator, hq):
    simulator.set_limits(maxRequestPerSecond=1)
    while hq.get("/client/config").status_code != 429:
        pass
    assert Api(simulator, simulator.tokens["school-east"]).get("/client/config").status_code == 200


def test_rate_limit_can_be_switched_off(simulator, hq):
    simulator.set_limits(maxRequestPerSecond=1)
    simulator.configure(enforce_rate_limit=False)
    assert all(hq.get("/client/config").status_code == 200 for _round in range(20))


def test_service_config_is_not_rate_limited(simulator):
    simulator.set_limits(maxRequestPerSecond=1)
    assert all(requests.get(simulator.url + "/service/config", timeout=5).ok for _round in range(10))


@pytest.mark.parametrize(
    ("kind", "status", "error_number", "retry_after"),
    [("429", 429, 9646, "1"), ("500", 500, 9603, None), ("503", 503, 9729, "1"), ("error200", 200, 9603, None)],
)
def test_http_faults(simulator, hq, kind, status, error_number, retry_after):
    simulator.inject_fault(kind)
    response = hq.get("/assets")
    assert_error(response, status, error_number)
    assert response.headers.get("Retry-After") == retry_after
    assert hq.get("/assets").status_code == 200  # count=1: the next request is normal


def test_fault_options_override_status_error_and_retry_after(simulator, hq):
    simulator.inject_fault("503", count=2, retry_after=120, status=502, error_number=9644)
    for _round in range(2):
        response = hq.get("/assets")
        assert_error(response, 502, 9644)
        assert response.headers["Retry-After"] == "120"
    assert hq.get("/assets").ok


def test_fault_path_filter(simulator, hq):
    simulator.inject_fault("500", path="/assets")
    assert hq.get("/users").ok
    assert hq.get("/assets").status_code == 500


def test_drop_closes_the_connection_without_answer(simulator, hq):
    simulator.inject_fault("drop")
    with pytest.raises(requests.ConnectionError):
        hq.get("/assets")
    assert hq.get("/assets").ok
    assert simulator.request_log()[0]["status"] is None


def test_timeout_hangs_longer_than_the_client_waits(simulator, hq):
    simulator.inject_fault("timeout", hang_seconds=2)
    with pytest.raises(requests.Timeout):
        hq.session.get(simulator.url + "/assets", timeout=0.3)


def test_trickle_keeps_every_read_fed_and_never_completes(simulator, hq):
    simulator.configure(fault_trickle_ms=100)
    simulator.inject_fault("trickle", hang_seconds=1.5)
    response = hq.session.get(simulator.url + "/assets", timeout=0.5, stream=True)  # each read waits 0.5 s at most
    assert response.status_code == 200
    with pytest.raises(requests.exceptions.ChunkedEncodingError):  # cut off after hang_seconds, never a timeout
        b"".join(response.iter_content(1))
    assert hq.get("/assets").status_code == 200  # count=1: the next request is normal


def test_latency_delays_answers(simulator, hq):
    simulator.configure(latency_ms=300)
    started = time.monotonic()
    hq.get("/client/config")
    assert time.monotonic() - started >= 0.3  # a lower bound only: sleep never returns early


def test_request_log_and_counts(simulator, hq):
    hq.get("/assets", adamId="1000000001")
    hq.post("/users/create", {"users": [{"clientUserId": "n-1"}]})
    Api(simulator, simulator.tokens["school-east"]).get("/assets")
    log = simulator.request_log("business-hq")
    assert [(entry["method"], entry["path"], entry["status"]) for entry in log] == [
        ("GET", "/mdm/v2/assets", 200),
        ("POST", "/mdm/v2/users/create", 200),
    ]
    assert log[0]["query"] == {"adamId": ["1000000001"]}
    assert log[1]["body"] == {"users": [{"clientUserId": "n-1"}]}
    assert simulator.request_counts() == {("GET", "/mdm/v2/assets"): 2, ("POST", "/mdm/v2/users/create"): 1}
    assert simulator.request_counts("school-east") == {("GET", "/mdm/v2/assets"): 1}
    simulator.clear_request_log()
    assert simulator.request_log() == [] and simulator.request_counts() == {}


def test_request_log_redacts_the_webhook_secret(hq, simulator):
    hq.post("/client/config", {"notificationUrl": "http://x/", "notificationAuthToken": "very-secret"})
    assert "very-secret" not in repr(simulator.request_log())


def test_http_hooks(simulator, hq):
    root = simulator.root_url + "/_sim"
    assert requests.post(root + "/limits", json={"maxAssets": 3}, timeout=5).json()["maxAssets"] == 3
    assert requests.post(root + "/faults", json={"kind": "500", "path": "/users"}, timeout=5).ok
    assert hq.get("/users").status_code == 500
    token = requests.post(root + "/token/renew", json={"location": "business-hq"}, timeout=5).json()["token"]
    assert Api(simulator, token).get("/users").ok
    counts = requests.get(root + "/request_counts", timeout=5).json()
    assert counts == {"GET /mdm/v2/users": 2}
    state = requests.get(root + "/state", params={"location": "business-hq"}, timeout=5).json()
    assert state["uId"] == "9000000000000001" and len(state["assignments"]) == 3
    bad = requests.post(root + "/purchase", json={"location": "nowhere", "adam_id": "1", "count": 1}, timeout=5)
    assert bad.status_code == 400 and "nowhere" in bad.json()["error"]


def test_malformed_fault_drops_keys_from_the_real_answer(simulator, hq):
    simulator.inject_fault("malformed", path="/assignments", drop_keys=["assignments", "totalPages"])
    response = hq.get("/assignments")
    assert response.status_code == 200
    body = response.json()
    assert "assignments" not in body and "totalPages" not in body and body["versionId"]
    assert "assignments" in hq.get("/assignments").json()  # count=1: the next request is normal


def test_malformed_fault_sends_a_body_verbatim_over_http(simulator, hq):
    answer = {"assets": [{"adamId": "1000000001", "availableCount": -1}], "totalPages": 1, "versionId": "v"}
    fault = {"kind": "malformed", "path": "/assets", "body": answer}
    assert requests.post(simulator.root_url + "/_sim/faults", json=fault, timeout=5).ok
    response = hq.get("/assets")
    assert response.status_code == 200 and response.json() == answer
    with pytest.raises(ValueError, match="drop_keys"):
        simulator.inject_fault("malformed")
