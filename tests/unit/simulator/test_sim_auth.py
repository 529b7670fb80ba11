# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tenancy by token, protocol errors and token files (reference §3, §12.1, §16.1)."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest
import requests

from tests.simulator.testing import Api, assert_error, small_scenario


def test_missing_authorization_header_is_9722(simulator):
    assert_error(requests.get(simulator.url + "/client/config", timeout=5), 401, 9722)


@pytest.mark.parametrize("template", ["bearer {}", "Token {}", "Bearer  {}", "Bearer", "Bearer {} x", "{}"])
def test_malformed_authorization_header_is_9722(simulator, template):
    header = template.format(simulator.tokens["business-hq"])
    response = requests.get(simulator.url + "/client/config", headers={"Authorization": header}, timeout=5)
    assert_error(response, 401, 9722)


def test_unknown_token_is_9622_with_http_200_by_default(simulator):
    assert_error(Api(simulator, "bm90LWEtdG9rZW4=").get("/assets"), 200, 9622)


def test_unknown_token_error_switches_to_documented_9601_and_401(simulator):
    simulator.configure(invalid_token_error=9601, token_error_status=401)
    assert_error(Api(simulator, "bm90LWEtdG9rZW4=").get("/assets"), 401, 9601)


def test_expired_token_is_9621(simulator_factory):
    scenario = small_scenario()
    scenario["locations"][1]["expires_in_days"] = -1
    sim = simulator_factory(scenario)
    assert_error(Api(sim, sim.tokens["school-east"]).get("/client/config"), 401, 9621)


def test_expire_token_hook_makes_the_current_token_9621(simulator, hq):
    simulator.expire_token("business-hq")
    assert_error(hq.get("/client/config"), 401, 9621)


def test_revoked_token_is_9625_with_http_200_by_default(simulator, hq):
    simulator.revoke_token("business-hq")
    assert_error(hq.get("/assets"), 200, 9625)


def test_revoked_token_is_401_when_configured(simulator, hq):
    simulator.configure(token_error_status=401)
    simulator.revoke_token("business-hq")
    assert_error(hq.get("/assets"), 401, 9625)


def test_renewed_token_works_and_revokes_the_old_one(simulator, hq):
    new_token = simulator.renew_token("business-hq")
    assert simulator.tokens["business-hq"] == new_token
    assert_error(hq.get("/assets"), 200, 9625)
    assert Api(simulator, new_token).ok("GET", "/client/config")["uId"] == "9000000000000001"
    with open(os.path.join(simulator.tokens_dir, "business-hq.vpptoken"), encoding="ascii") as handle:
        assert handle.read() == new_token


def test_two_tokens_can_point_to_one_location(simulator, hq):
    second = Api(simulator, simulator.issue_token("business-hq"))
    assert second.ok("GET", "/client/config")["uId"] == hq.ok("GET", "/client/config")["uId"]


def test_token_file_is_private_base64_json(simulator):
    path = os.path.join(simulator.tokens_dir, "business-hq.vpptoken")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path, encoding="ascii") as handle:
        content = handle.read()
    assert content == simulator.tokens["business-hq"]
    decoded = json.loads(base64.b64decode(content))
    assert set(decoded) == {"token", "expDate", "orgName"}
    assert decoded["orgName"] == "Example Corp"
    assert decoded["expDate"].endswith("+0000")


def test_read_only_token_cannot_write(simulator_factory):
    scenario = small_scenario()
    scenario["locations"][0]["read_only"] = True
    sim = simulator_factory(scenario)
    api = Api(sim, sim.tokens["business-hq"])
    api.ok("GET", "/assets")
    response = api.post("/assets/associate", {"assets": [{"adamId": "1000000001"}], "clientUserIds": ["u-1"]})
    assert_error(response, 403, 9637)


def test_unknown_path_is_404_with_error_body(hq):
    assert_error(hq.get("/nothing/here"), 404, 9602)


def test_wrong_method_on_known_path_is_9726(hq):
    response = hq.session.delete(hq.simulator.url + "/assets", timeout=5)
    assert_error(response, 405, 9726)
    assert response.headers["Allow"] == "GET"
    assert_error(hq.post("/assets", {}), 405, 9726)


def test_wrong_content_type_is_9727(hq):
    response = hq.session.post(
        hq.simulator.url + "/users/create",
        data="users=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )
    assert_error(response, 415, 9727)


def test_invalid_json_body_is_9602(hq):
    response = hq.session.post(
        hq.simulator.url + "/users/create", data="{not json", headers={"Content-Type": "application/json"}, timeout=5
    )
    assert_error(response, 400, 9602)


def test_keep_alive_serves_many_requests_on_one_connection(simulator_factory):
    sim = simulator_factory(small_scenario(enforce_rate_limit=False))
    api = Api(sim, sim.tokens["business-hq"])
    for _round in range(20):
        api.ok("GET", "/client/config")
    assert sim.request_counts()[("GET", "/mdm/v2/client/config")] == 20
    assert sim.open_connections() == 1  # one socket reused by the session
