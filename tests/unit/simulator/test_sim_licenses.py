# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Associate / disassociate / revoke: synchronous validation, async events, license accounting (§6, §9, §16.4-6)."""

from __future__ import annotations

import pytest

from tests.simulator.testing import Api, assert_error

PAGES = {"adamId": "1000000001"}
KEYNOTE = {"adamId": "1000000002", "pricingParam": "STDQ"}
BOOK = {"adamId": "2000000001"}
FREE = {"adamId": "1000000009"}


def counts(api, adam_id):
    asset = api.ok("GET", "/assets", adamId=adam_id)["assets"][0]
    return asset["assignedCount"], asset["availableCount"]


@pytest.mark.parametrize(
    ("body", "error_number"),
    [
        ({"clientUserIds": ["u-1"]}, 9718),
        ({"assets": [], "clientUserIds": ["u-1"]}, 9718),
        ({"assets": [PAGES]}, 9719),
        ({"assets": [PAGES], "clientUserIds": [], "serialNumbers": []}, 9719),
        ({"assets": [PAGES, PAGES], "clientUserIds": ["u-1"]}, 9703),
        ({"assets": [PAGES], "clientUserIds": ["u-1", "u-1"]}, 9704),
        ({"assets": [PAGES], "serialNumbers": ["S1", "S1"]}, 9705),
        ({"assets": [BOOK], "serialNumbers": ["S1"]}, 9707),
        ({"assets": [{"adamId": 1000000001}], "clientUserIds": ["u-1"]}, 9602),
        ({"assets": [{"adamId": "1", "pricingParam": "HD"}], "clientUserIds": ["u-1"]}, 9602),
        ({"assets": [PAGES], "clientUserIds": "u-1"}, 9602),
    ],
)
def test_associate_sync_validation(quiet_hq, quiet_sim, body, error_number):
    assert_error(quiet_hq.post("/assets/associate", body), 400, error_number)
    assert quiet_sim.location_state("business-hq")["events"] == []  # nothing was queued


def test_9707_names_the_asset_in_error_info(quiet_hq):
    body = quiet_hq.post("/assets/associate", {"assets": [PAGES, BOOK], "serialNumbers": ["S1"]}).json()
    assert body["errorInfo"]["assets"] == [{"adamId": "2000000001", "pricingParam": "STDQ"}]


def test_limits_are_enforced_with_9700_9701_9702(quiet_hq, quiet_sim):
    quiet_sim.set_limits(maxAssets=1, maxClientUserIds=1, maxSerialNumbers=1)
    assert_error(quiet_hq.post("/assets/associate", {"assets": [PAGES, KEYNOTE], "clientUserIds": ["u-1"]}), 400, 9700)
    assert_error(quiet_hq.post("/assets/associate", {"assets": [PAGES], "clientUserIds": ["a", "b"]}), 400, 9701)
    assert_error(quiet_hq.post("/assets/associate", {"assets": [PAGES], "serialNumbers": ["a", "b"]}), 400, 9702)


def test_disassociate_refuses_non_revocable_assets_with_9706(quiet_hq):
    assert_error(quiet_hq.post("/assets/disassociate", {"assets": [BOOK], "clientUserIds": ["u-1"]}), 400, 9706)


def test_associate_is_async_and_reads_change_only_when_complete(quiet_hq, quiet_sim):
    event_id = quiet_hq.ok(
        "POST",
        "/assets/associate",
        {"assets": [KEYNOTE], "serialNumbers": ["ANY-SERIAL", "S1", "S2"]},
    )["eventId"]
    pending = quiet_hq.ok("GET", "/status", eventId=event_id)
    assert (pending["eventStatus"], pending["eventType"], pending["numRequested"]) == ("PENDING", "ASSOCIATE", 3)
    assert counts(quiet_hq, "1000000002") == (0, 3)
    assert quiet_hq.ok("GET", "/assignments", adamId="1000000002")["assignments"] == []
    quiet_sim.complete_events(event_id)
    done = quiet_hq.ok("GET", "/status", eventId=event_id)
    assert (done["eventStatus"], done["numCompleted"], done["numRequested"]) == ("COMPLETE", 3, 3)
    assert "failures" not in done
    assert counts(quiet_hq, "1000000002") == (3, 0)
    assert len(quiet_hq.ok("GET", "/assignments", adamId="1000000002")["assignments"]) == 3


def test_num_requested_is_assets_times_targets(quiet_hq):
    body = {"assets": [PAGES, KEYNOTE], "serialNumbers": ["S1", "S2", "S3", "S4"]}
    assert quiet_hq.run_event("/assets/associate", body)["numRequested"] == 8
    body = {"assets": [PAGES, KEYNOTE], "clientUserIds": ["u-1", "u-2"]}
    assert quiet_hq.run_event("/assets/associate", body)["numRequested"] == 4


def test_background_worker_completes_events_without_hooks(hq):
    event_id = hq.ok("POST", "/assets/associate", {"assets": [KEYNOTE], "clientUserIds": ["u-1"]})["eventId"]
    assert hq.simulator.wait_events(event_id, timeout=10)
    assert hq.ok("GET", "/status", eventId=event_id)["eventStatus"] == "COMPLETE"


def test_running_out_of_licenses_is_a_partial_9709_failure(quiet_hq):
    serials = ["S%d" % number for number in range(5)]
    status = quiet_hq.run_event("/assets/associate", {"assets": [KEYNOTE], "serialNumbers": serials})
    assert (status["eventStatus"], status["numCompleted"], status["numRequested"]) == ("FAILED", 3, 5)
    [failure] = status["failures"]
    assert failure["errorNumber"] == 9709
    assert failure["errorInfo"]["serialNumbers"] == ["S3", "S4"]
    assert failure["errorInfo"]["assets"] == [KEYNOTE]
    assert counts(quiet_hq, "1000000002") == (3, 0)


def test_unknown_or_retired_user_is_async_9609_when_configured(quiet_sim, quiet_hq):
    quiet_sim.configure(unknown_user_error="async")
    status = quiet_hq.run_event("/assets/associate", {"assets": [KEYNOTE], "clientUserIds": ["nobody", "u-old", "u-1"]})
    assert (status["eventStatus"], status["numCompleted"]) == ("FAILED", 1)
    [failure] = status["failures"]
    assert (failure["errorNumber"], failure["errorInfo"]["clientUserIds"]) == (9609, ["nobody", "u-old"])


def test_failures_are_grouped_per_error_number(quiet_sim, quiet_hq):
    quiet_sim.configure(unknown_user_error="async", mixed_targets="accept")  # one event with 9609 and 9709
    body = {"assets": [KEYNOTE], "clientUserIds": ["nobody"], "serialNumbers": ["S1", "S2", "S3", "S4"]}
    status = quiet_hq.run_event("/assets/associate", body)
    assert sorted(failure["errorNumber"] for failure in status["failures"]) == [9609, 9709]


def test_reassociating_an_assigned_pair_is_idempotent(quiet_hq):
    before = counts(quiet_hq, "1000000001")
    status = quiet_hq.run_event("/assets/associate", {"assets": [PAGES], "clientUserIds": ["u-1"]})
    assert (status["eventStatus"], status["numCompleted"]) == ("COMPLETE", 1)
    assert counts(quiet_hq, "1000000001") == before


def test_unknown_asset_fails_async_with_9709(quiet_hq):
    status = quiet_hq.run_event("/assets/associate", {"assets": [{"adamId": "777"}], "clientUserIds": ["u-1"]})
    assert status["failures"][0]["errorNumber"] == 9709


def test_unlimited_asset_never_runs_out(quiet_hq):
    serials = ["S%d" % number for number in range(30)]
    status = quiet_hq.run_event("/assets/associate", {"assets": [FREE], "serialNumbers": serials})
    assert status["eventStatus"] == "COMPLETE"
    assert quiet_hq.ok("GET", "/assets", unlimited="true")["unlimitedAssets"][0]["assignedCount"] == 30


def test_disassociate_returns_the_license(quiet_hq):
    status = quiet_hq.run_event("/assets/disassociate", {"assets": [PAGES], "serialNumbers": ["C02XK0AAJG5H"]})
    assert (status["eventStatus"], status["eventType"]) == ("COMPLETE", "DISASSOCIATE")
    assert counts(quiet_hq, "1000000001") == (1, 49)
    assert quiet_hq.ok("GET", "/assignments", serialNumber="C02XK0AAJG5H")["assignments"] == []


def test_disassociating_an_unassigned_pair_is_a_noop_success(quiet_hq):
    status = quiet_hq.run_event("/assets/disassociate", {"assets": [KEYNOTE], "serialNumbers": ["NEVER"]})
    assert (status["eventStatus"], status["numCompleted"]) == ("COMPLETE", 1)


def test_revoke_removes_revocable_assignments_only(quiet_hq):
    quiet_hq.run_event("/assets/associate", {"assets": [KEYNOTE], "clientUserIds": ["u-1"]})
    status = quiet_hq.run_event("/assets/revoke", {"clientUserIds": ["u-1"]})
    assert (status["eventType"], status["eventStatus"], status["numRequested"]) == ("REVOKE", "COMPLETE", 2)
    remaining = quiet_hq.ok("GET", "/assignments", clientUserId="u-1")["assignments"]
    assert [row["adamId"] for row in remaining] == ["2000000001"]  # the book stays


@pytest.mark.parametrize(
    ("body", "error_number"),
    [
        ({}, 9719),
        ({"clientUserIds": ["a", "a"]}, 9704),
        ({"serialNumbers": ["a", "a"]}, 9705),
        ({"clientUserIds": ["u%d" % number for number in range(101)]}, 9701),
        ({"serialNumbers": ["s%d" % number for number in range(101)]}, 9702),
    ],
)
def test_revoke_sync_validation(quiet_hq, body, error_number):
    assert_error(quiet_hq.post("/assets/revoke", body), 400, error_number)


def test_fail_events_finishes_pending_events_as_failed(quiet_hq, quiet_sim):
    event_id = quiet_hq.ok("POST", "/assets/associate", {"assets": [KEYNOTE], "clientUserIds": ["u-1"]})["eventId"]
    assert quiet_sim.fail_events(9644) == [event_id]
    status = quiet_hq.ok("GET", "/status", eventId=event_id)
    assert (status["eventStatus"], status["numCompleted"]) == ("FAILED", 0)
    assert status["failures"][0]["errorNumber"] == 9644
    assert counts(quiet_hq, "1000000002") == (0, 3)


def test_unknown_event_is_9708_and_events_are_scoped_to_their_location(quiet_hq, quiet_sim):
    event_id = quiet_hq.ok("POST", "/assets/associate", {"assets": [KEYNOTE], "clientUserIds": ["u-1"]})["eventId"]
    assert_error(quiet_hq.get("/status", eventId="no-such-event"), 400, 9708)
    assert_error(Api(quiet_sim, quiet_sim.tokens["school-east"]).get("/status", eventId=event_id), 400, 9708)


def test_status_without_event_id_is_9602(quiet_hq):
    assert_error(quiet_hq.get("/status"), 400, 9602)


def test_serial_numbers_are_not_validated(quiet_hq):
    status = quiet_hq.run_event("/assets/associate", {"assets": [PAGES], "serialNumbers": ["not a real serial ✓"]})
    assert status["eventStatus"] == "COMPLETE"
