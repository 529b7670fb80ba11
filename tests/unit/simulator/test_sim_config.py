# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service config, client config, takeover detection and webhook set-up (reference §5, §16.2, §16.3)."""

from __future__ import annotations

import pytest
import requests

from tests.simulator.testing import Api, assert_error

MDM = {"id": "mdm-1", "name": "mdm.vpp", "metadata": "tests"}


def test_service_config_needs_no_auth_and_lists_limits_urls_errors(simulator):
    body = requests.get(simulator.url + "/service/config", timeout=5).json()
    assert body["limits"]["maxAssets"] == 25 and body["limits"]["maxRequestPerSecond"] == 15
    assert body["urls"]["getAssets"] == simulator.url + "/assets"
    assert body["urls"]["eventStatus"] == simulator.url + "/status"
    assert body["urls"]["contentMetadataLookup"].startswith(simulator.root_url)
    assert "%25inviteCode%25" in body["urls"]["invitationEmail"]
    assert {9601, 9646, 9709, 9728} <= {entry["errorNumber"] for entry in body["errorCodes"]}
    assert body["notificationTypes"] == ["ASSET_MANAGEMENT", "USER_MANAGEMENT", "USER_ASSOCIATED", "ASSET_COUNT"]


def test_service_config_tolerates_a_bearer_header(hq):
    assert hq.get("/service/config").status_code == 200


def test_set_limits_changes_service_config(simulator):
    simulator.set_limits(maxAssets=2, maxSerialNumbers=5)
    limits = requests.get(simulator.url + "/service/config", timeout=5).json()["limits"]
    assert (limits["maxAssets"], limits["maxSerialNumbers"]) == (2, 5)


def test_client_config_describes_business_location(hq):
    body = hq.ok("GET", "/client/config")
    assert body["locationName"] == "Example HQ"
    assert body["countryISO2ACode"] == "US"
    assert body["websiteURL"] == "https://business.apple.com"
    assert body["defaultPlatform"] == "enterprisestore"
    assert body["uId"] == "9000000000000001"
    assert "mdmInfo" not in body and "notificationUrl" not in body


def test_client_config_describes_education_location(simulator):
    body = Api(simulator, simulator.tokens["school-east"]).ok("GET", "/client/config")
    assert (body["websiteURL"], body["defaultPlatform"]) == ("https://school.apple.com", "volumestore")


def test_mdm_info_is_stored_and_echoed_on_every_response(quiet_hq, quiet_sim):
    assert quiet_hq.ok("POST", "/client/config", {"mdmInfo": MDM})["mdmInfo"] == MDM
    event = quiet_hq.ok("POST", "/users/create", {"users": [{"clientUserId": "n-1"}]})
    assert event["mdmInfo"] == MDM
    for path in ("/client/config", "/assets", "/assignments", "/users"):
        assert quiet_hq.ok("GET", path)["mdmInfo"] == MDM, path
    assert quiet_hq.ok("GET", "/status", eventId=event["eventId"])["mdmInfo"] == MDM


def test_takeover_by_another_manager_is_visible(hq, simulator):
    hq.ok("POST", "/client/config", {"mdmInfo": MDM})
    other = {"id": "other-mdm", "name": "Other MDM", "metadata": "x"}
    simulator.set_mdm_info("business-hq", other)
    assert hq.ok("GET", "/assets")["mdmInfo"] == other


def test_second_manager_overwrites_mdm_info_last_writer_wins(hq, simulator):
    hq.ok("POST", "/client/config", {"mdmInfo": MDM})
    second = Api(simulator, simulator.issue_token("business-hq"))
    second.ok("POST", "/client/config", {"mdmInfo": {"id": "b", "name": "B", "metadata": "m"}})
    assert hq.ok("GET", "/client/config")["mdmInfo"]["id"] == "b"


@pytest.mark.parametrize(
    ("mdm_info", "error_number"),
    [
        ({"id": "x", "name": "y"}, 9723),
        ({"id": "x" * 101, "name": "y", "metadata": "z"}, 9724),
        ({"id": "x", "name": "y" * 101, "metadata": "z"}, 9725),
        ({"id": "x", "name": "y", "metadata": "z" * 256}, 9713),
    ],
)
def test_mdm_info_validation(hq, mdm_info, error_number):
    assert_error(hq.post("/client/config", {"mdmInfo": mdm_info}), 400, error_number)


def test_notification_url_needs_its_token(hq):
    assert_error(hq.post("/client/config", {"notificationUrl": "https://hooks.example.org/a"}), 400, 9710)
    assert_error(hq.post("/client/config", {"notificationAuthToken": "s"}), 400, 9710)


def test_notification_url_or_token_too_long_is_9711(hq):
    body = {"notificationUrl": "https://hooks.example.org/" + "a" * 500, "notificationAuthToken": "s"}
    assert_error(hq.post("/client/config", body), 400, 9711)


@pytest.mark.parametrize("url", ["http://hooks.example.org/a", "https://hooks.example.org/a?x=1", "not a url"])
def test_notification_url_must_be_https_without_query(hq, url):
    assert_error(hq.post("/client/config", {"notificationUrl": url, "notificationAuthToken": "s"}), 400, 9712)


def test_local_http_receiver_refused_unless_allowed(hq, receiver):
    assert_error(hq.post("/client/config", {"notificationUrl": receiver.url, "notificationAuthToken": "s"}), 400, 9712)
    assert receiver.received == []


def test_webhook_configuration_sends_a_test_notification(quiet_hq, receiver):
    body = quiet_hq.ok(
        "POST",
        "/client/config",
        {
            "notificationUrl": receiver.url,
            "notificationAuthToken": "hook-secret",
            "notificationTypes": ["ASSET_COUNT", "TEST_NOTIFICATION"],
        },
    )
    assert body["notificationUrl"] == receiver.url and body["notificationAuthToken"] == "hook-secret"
    assert body["subscribedNotificationTypes"] == ["ASSET_COUNT"]
    [delivery] = receiver.received
    assert delivery["authorization"] == "Bearer hook-secret"
    assert delivery["body"]["notificationType"] == "TEST_NOTIFICATION"
    assert delivery["body"]["notification"] == {} and delivery["body"]["uId"] == "9000000000000001"


def test_webhook_rejected_with_9728_when_receiver_fails(quiet_hq, receiver):
    receiver.statuses = [500]
    body = {"notificationUrl": receiver.url, "notificationAuthToken": "s", "mdmInfo": MDM}
    assert_error(quiet_hq.post("/client/config", body), 400, 9728)
    stored = quiet_hq.ok("GET", "/client/config")
    assert "notificationUrl" not in stored and "mdmInfo" not in stored  # nothing of the request was kept


def test_webhook_rejected_with_9728_when_receiver_unreachable(quiet_hq, receiver):
    url = receiver.url
    receiver.close()
    assert_error(quiet_hq.post("/client/config", {"notificationUrl": url, "notificationAuthToken": "s"}), 400, 9728)


def test_partial_client_config_update_keeps_other_values(subscribed, receiver):
    subscribed.ok("POST", "/client/config", {"mdmInfo": MDM})
    body = subscribed.ok("GET", "/client/config")
    assert body["notificationUrl"] == receiver.url and len(body["subscribedNotificationTypes"]) == 4
    assert subscribed.ok("POST", "/client/config", {"notificationTypes": []})["subscribedNotificationTypes"] == []


def test_unknown_notification_type_is_9602(hq):
    assert_error(hq.post("/client/config", {"notificationTypes": ["NOPE"]}), 400, 9602)


def test_token_expiration_date_on_every_client_config_by_default(simulator, hq):
    assert hq.ok("GET", "/client/config")["tokenExpirationDate"].endswith("+0000")  # 365 days left
    assert "tokenExpirationDate" not in hq.ok("GET", "/assets")  # elsewhere only inside the 15-day window
    school = Api(simulator, simulator.tokens["school-east"]).ok("GET", "/assets")  # 10 days left
    assert school["tokenExpirationDate"].endswith("+0000")


def test_token_expiration_date_only_inside_the_window_when_configured(simulator, hq):
    simulator.configure(token_expiration="window")
    assert "tokenExpirationDate" not in hq.ok("GET", "/client/config")  # 365 days left
    school = Api(simulator, simulator.tokens["school-east"]).ok("GET", "/client/config")  # 10 days left
    assert school["tokenExpirationDate"].endswith("+0000")


def test_token_expiration_date_always_when_configured(simulator, hq):
    simulator.configure(token_expiration="always")
    assert hq.ok("GET", "/client/config")["tokenExpirationDate"].endswith("+0000")
