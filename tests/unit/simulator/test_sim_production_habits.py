# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apple's production habits as Fleet (server/mdm/apple/vpp/api.go) and Zentral (apps_books.py) meet them.

Each is on by default and behind a setting (tests/simulator/README.md, *Settings*).
"""

from __future__ import annotations

import pytest
import requests

from tests.simulator.testing import assert_error

KEYNOTE = {"adamId": "1000000002", "pricingParam": "STDQ"}
LOOKUP_IDS = {"id": "1000000001", "platform": "enterprisestore"}


def events_of(sim):
    return sim.location_state("business-hq")["events"]


# --- a. synchronous 9609 on /assets/associate -------------------------------------------------------------------


@pytest.mark.parametrize("user", ["nobody", "u-old"])  # unknown, and only retired at the location
def test_associate_naming_an_unknown_or_retired_user_is_refused_synchronously(quiet_sim, quiet_hq, user):
    response = quiet_hq.post("/assets/associate", {"assets": [KEYNOTE], "clientUserIds": ["u-1", user]})
    assert_error(response, 400, 9609)
    body = response.json()
    assert body["errorMessage"] == "Unable to find the registered user."
    assert body["errorInfo"] == {"clientUserIds": [user]}
    assert events_of(quiet_sim) == []  # the whole request is rejected: no event, u-1 not associated either


def test_sync_9609_without_error_info_when_configured(quiet_sim, quiet_hq):
    quiet_sim.configure(unknown_user_info=False)
    response = quiet_hq.post("/assets/associate", {"assets": [KEYNOTE], "clientUserIds": ["nobody"]})
    assert_error(response, 400, 9609)
    assert "errorInfo" not in response.json()


def test_registered_and_associated_users_pass_the_synchronous_check(quiet_hq):
    status = quiet_hq.run_event("/assets/associate", {"assets": [KEYNOTE], "clientUserIds": ["u-1", "u-2"]})
    assert (status["eventStatus"], status["numCompleted"]) == ("COMPLETE", 2)


def test_disassociate_keeps_9609_asynchronous(quiet_hq):
    status = quiet_hq.run_event("/assets/disassociate", {"assets": [KEYNOTE], "clientUserIds": ["nobody"]})
    assert [failure["errorNumber"] for failure in status["failures"]] == [9609]


# --- b. users or devices, never both ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/assets/associate", "/assets/disassociate"])
def test_users_and_serials_together_are_refused_with_9602(quiet_sim, quiet_hq, path):
    response = quiet_hq.post(path, {"assets": [KEYNOTE], "clientUserIds": ["u-1"], "serialNumbers": ["S1"]})
    assert_error(response, 400, 9602)
    assert events_of(quiet_sim) == []


def test_users_and_serials_together_are_accepted_when_configured(quiet_sim, quiet_hq):
    quiet_sim.configure(mixed_targets="accept")
    body = {"assets": [KEYNOTE], "clientUserIds": ["u-1"], "serialNumbers": ["S1"]}
    assert quiet_hq.run_event("/assets/associate", body)["numRequested"] == 2


# --- c. the metadata lookup wants the content token as cookie itvt ------------------------------------------------


def lookup(sim, cookies=None, params=None):
    params = LOOKUP_IDS if params is None else params
    return requests.get(sim.root_url + "/_meta/lookup", params=params, cookies=cookies, timeout=5)


def test_metadata_lookup_without_token_cookie_is_403(simulator):
    response = lookup(simulator)
    assert response.status_code == 403
    assert response.text == "Invalid Stoken or Empty/Null ids"


@pytest.mark.parametrize("token", ["bm90LWEtdG9rZW4=", ""])
def test_metadata_lookup_with_an_unknown_token_is_403(simulator, token):
    assert lookup(simulator, {"itvt": token}).status_code == 403


def test_metadata_lookup_with_a_revoked_token_is_403(simulator):
    token = simulator.tokens["business-hq"]
    simulator.revoke_token("business-hq")
    assert lookup(simulator, {"itvt": token}).status_code == 403


def test_metadata_lookup_with_the_token_cookie_answers_and_logs_the_location(simulator):
    response = lookup(simulator, {"itvt": simulator.tokens["business-hq"]})
    assert response.status_code == 200
    assert set(response.json()["results"]) == {"1000000001"}
    [entry] = [entry for entry in simulator.request_log() if entry["path"] == "/_meta/lookup"]
    assert (entry["status"], entry["location"]) == (200, "business-hq")


def test_metadata_lookup_with_empty_ids_is_403(simulator):
    response = lookup(simulator, {"itvt": simulator.tokens["business-hq"]}, {"id": "", "platform": "enterprisestore"})
    assert response.status_code == 403


def test_metadata_lookup_without_token_when_configured(simulator):
    simulator.configure(metadata_requires_token=False)
    assert lookup(simulator).status_code == 200


# --- d. token errors arrive as HTTP 200 (see also test_sim_auth.py, test_sim_config.py) ----------------------------


@pytest.mark.parametrize(
    "setting",
    [
        {"token_error_status": 500},
        {"invalid_token_error": 9999},
        {"token_expiration": "never"},
        {"unknown_user_error": "later"},
        {"mixed_targets": "maybe"},
    ],
)
def test_settings_outside_their_choices_are_refused(simulator, setting):
    with pytest.raises(ValueError):
        simulator.configure(**setting)


def test_expired_token_stays_401(simulator, hq):
    simulator.expire_token("business-hq")
    assert_error(hq.get("/assets"), 401, 9621)


# --- e. 9622 on a user license: the user reached the maximum number of devices ------------------------------------


def test_user_at_device_limit_refuses_the_whole_associate_with_9622(quiet_sim, quiet_hq):
    quiet_sim.set_user_device_limit("business-hq", "u-1")
    response = quiet_hq.post("/assets/associate", {"assets": [KEYNOTE], "clientUserIds": ["u-2", "u-1"]})
    assert_error(response, 400, 9622)
    body = response.json()
    assert body["errorMessage"] == "User has reached the maximum number of devices for this license"
    assert body["errorInfo"] == {"clientUserIds": ["u-1"]}
    assert events_of(quiet_sim) == []
    assert quiet_hq.ok("GET", "/client/config")["locationName"]  # the token is fine


def test_device_limit_over_http_and_lifted(quiet_sim, quiet_hq):
    hook = quiet_sim.root_url + "/_sim/user_device_limit"
    assert requests.post(hook, json={"location": "business-hq", "client_user_id": "u-1"}, timeout=5).ok
    assert_error(quiet_hq.post("/assets/associate", {"assets": [KEYNOTE], "clientUserIds": ["u-1"]}), 400, 9622)
    lift = {"location": "business-hq", "client_user_id": "u-1", "reached": False}
    assert requests.post(hook, json=lift, timeout=5).ok
    assert quiet_hq.ok("POST", "/assets/associate", {"assets": [KEYNOTE], "clientUserIds": ["u-1"]})["eventId"]


def test_device_limit_is_forgotten_on_reset(quiet_sim, quiet_hq):
    quiet_sim.set_user_device_limit("business-hq", "u-1")
    quiet_sim.reset()
    quiet_sim.configure(hold_events=True)
    assert quiet_hq.ok("POST", "/assets/associate", {"assets": [KEYNOTE], "clientUserIds": ["u-1"]})["eventId"]


def test_device_limit_of_an_unknown_location_is_refused(simulator):
    with pytest.raises(ValueError):
        simulator.set_user_device_limit("nowhere", "u-1")


# --- f. the request log keeps the User-Agent ----------------------------------------------------------------------


def test_request_log_records_the_user_agent(simulator, hq):
    hq.session.headers["User-Agent"] = "probe/1.0"
    hq.ok("GET", "/client/config")
    lookup(simulator)
    agents = {entry["path"]: entry["user_agent"] for entry in simulator.request_log()}
    assert agents["/mdm/v2/client/config"] == "probe/1.0"
    assert agents["/_meta/lookup"].startswith("python-requests/")
