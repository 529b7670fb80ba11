# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing through the real simulator: batching under Apple's limits, events, per-member outcomes, takeover."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import (
    AppleError,
    AuthenticationError,
    EventTimeoutError,
    TakeoverError,
    UnknownUserError,
)

from .conftest import HQ, api_requests, assert_no_secret

OURS = {"id": "mdm-vpp-manager-1", "name": "mdm.vpp", "metadata": "tests"}
OTHER = {"id": "other-mdm-42", "name": "OtherMDM", "metadata": "theirs"}


def assigned_serials(sim, adam_id):
    return {
        item.get("serialNumber")
        for item in sim.location_state(HQ)["assignments"]
        if item["adamId"] == adam_id and item.get("serialNumber")
    }


class TestBatching:
    def test_serial_numbers_are_cut_by_the_advertised_limit(self, sim, make_client):
        sim.set_limits(maxSerialNumbers=5)
        client = make_client()
        serials = ["SN%04d" % index for index in range(12)] + ["SN0000", "SN0001"]  # duplicates are dropped
        persisted = []
        batches = client.associate(["1000000003"], serial_numbers=serials, on_submit=persisted.append)
        posts = api_requests(sim, HQ, "/assets/associate", "POST")
        assert len(posts) == 3
        assert sorted(len(entry["body"]["serialNumbers"]) for entry in posts) == [2, 5, 5]  # sent together
        assert persisted == batches
        assert [batch["event_id"] for batch in batches] == [batch["event_id"] for batch in persisted]
        sim.complete_events()
        results = client.wait_for_events(batches, first_poll=0.01, poll_interval=0.05)
        assert all(result["status"] == "COMPLETE" for result in results.values())
        assert assigned_serials(sim, "1000000003") == {"SN%04d" % index for index in range(12)}

    def test_assets_and_users_are_cut_together(self, sim, make_client):
        sim.set_limits(maxAssets=2, maxClientUserIds=3)
        client = make_client()
        batches = client.associate(
            ["1000000001", "1000000003", ("1000000001", "STDQ")], client_user_ids=["u-01", "u-02", "u-03", "u-04"]
        )
        posts = api_requests(sim, HQ, "/assets/associate", "POST")
        assert len(posts) == len(batches) == 2
        for entry in posts:
            assert len(entry["body"]["assets"]) <= 2
            assert len(entry["body"]["clientUserIds"]) <= 3

    def test_user_writes_are_cut_by_max_users(self, sim, make_client):
        sim.set_limits(maxUsers=2)
        client = make_client()
        users = [{"client_user_id": "new-%d" % index, "email": "new%d@example.org" % index} for index in range(5)]
        batches = client.create_users(users)
        assert [len(batch["users"]) for batch in batches] == [2, 2, 1]
        assert [entry["body"]["users"][0]["clientUserId"] for entry in api_requests(sim, HQ, "/users/create")] == [
            "new-0",
            "new-2",
            "new-4",
        ]
        sim.complete_events()
        results = client.wait_for_events(batches, first_poll=0.01, poll_interval=0.05)
        assert all(outcome["succeeded"] for result in results.values() for outcome in result["outcomes"])
        retired = client.retire_users(["new-0", "new-1"])
        assert retired[0]["type"] == "RETIRE"

    def test_revoke_uses_the_revoke_limits(self, sim, make_client):
        sim.set_limits(maxRevokeSerialNumbers=1)
        batches = make_client().revoke(serial_numbers=["C02HQ0000001", "C02HQ0000002"])
        assert len(batches) == 2
        assert all("assets" not in entry["body"] for entry in api_requests(sim, HQ, "/assets/revoke"))


class TestEvents:
    def test_partial_failures_are_mapped_to_each_member(self, sim, make_client):
        # about mapping an event's failures back to members: 9609 asynchronously (a user retired after submission)
        sim.configure(hold_events=True, unknown_user_error="async")
        client = make_client()
        # Numbers has 3 licenses: 5 users ask for one, and one more user is not registered at all
        batches = client.associate(["1000000002"], client_user_ids=["u-01", "u-02", "u-03", "u-04", "u-05", "ghost"])
        sim.complete_events()
        result = client.wait_for_events(batches, first_poll=0.01, poll_interval=0.05)[batches[0]["event_id"]]
        assert result["status"] == "FAILED"
        by_user = {outcome["client_user_id"]: outcome for outcome in result["outcomes"]}
        assert by_user["ghost"]["error_number"] == 9609
        failed_9709 = [user for user, outcome in by_user.items() if outcome["error_number"] == 9709]
        succeeded = [user for user, outcome in by_user.items() if outcome["succeeded"]]
        assert len(failed_9709) == 2
        assert len(succeeded) == 3
        assert result["num_completed"] == 3

    def test_pending_events_time_out_with_their_ids(self, sim, make_client):
        sim.configure(hold_events=True)
        client = make_client()
        first = client.associate(["1000000003"], client_user_ids=["u-01"])
        second = client.associate(["1000000003"], client_user_ids=["u-02"])
        sim.complete_events(first[0]["event_id"])
        with pytest.raises(EventTimeoutError) as raised:
            client.wait_for_events(first + second, timeout=0.2, first_poll=0.02, poll_interval=0.05)
        assert raised.value.details["pending_event_ids"] == [second[0]["event_id"]]
        assert list(raised.value.results) == [first[0]["event_id"]]
        assert second[0]["event_id"] in str(raised.value)

    def test_a_pending_event_is_read_soon_then_no_more_often_than_the_poll_interval(self, sim, make_client):
        sim.configure(hold_events=True)
        client = make_client(poll_interval=0.4)  # Apple's 30 s, shortened by the setting, not another code path
        batches = client.associate(["1000000003"], client_user_ids=["u-01"])
        sim.clear_request_log()
        with pytest.raises(EventTimeoutError):
            client.wait_for_events(batches, timeout=1.0, first_poll=0.05)
        reads = [entry["time"] for entry in api_requests(sim, HQ, "/status", "GET")]
        assert 2 <= len(reads) <= 4
        assert all(later - earlier >= 0.4 for earlier, later in zip(reads, reads[1:], strict=False))

    def test_waiting_by_event_id_after_a_restart(self, sim, make_client):
        event_id = make_client().associate(["1000000003"], client_user_ids=["u-06"])[0]["event_id"]
        sim.complete_events()
        result = make_client().wait_for_events([event_id], first_poll=0.01, poll_interval=0.05)[event_id]
        assert result["status"] == "COMPLETE"
        assert result["type"] == "ASSOCIATE"
        assert "outcomes" not in result

    def test_apple_failing_a_whole_event_fails_every_member(self, sim, make_client):
        sim.configure(hold_events=True)
        client = make_client()
        batches = client.associate(["1000000003"], client_user_ids=["u-01", "u-02"])
        sim.fail_events(9644)
        result = client.wait_for_events(batches, first_poll=0.01, poll_interval=0.05)[batches[0]["event_id"]]
        assert [outcome["error_number"] for outcome in result["outcomes"]] == [9644, 9644]


class TestTakeover:
    def test_claimed_by_us_then_taken_over_by_another_manager(self, sim, make_client):
        client = make_client(manager_id=OURS["id"])
        client.client_config()  # unclaimed: no error
        claimed = client.set_client_config(mdm_info=OURS)
        assert claimed["mdmInfo"]["id"] == OURS["id"]
        list(client.assets())
        sim.set_mdm_info(HQ, OTHER)
        with pytest.raises(TakeoverError) as raised:
            list(client.assets())
        assert "OtherMDM" in str(raised.value)
        assert raised.value.to_result()["other_manager"] == "OtherMDM"
        assert_no_secret(raised.value, sim.tokens[HQ])

    def test_allow_takeover_reads_and_reclaims(self, sim, make_client):
        sim.set_mdm_info(HQ, OTHER)
        client = make_client(manager_id=OURS["id"], allow_takeover=True)
        assert client.client_config()["mdmInfo"]["name"] == "OtherMDM"
        assert client.mdm_info["id"] == OTHER["id"]
        client.set_client_config(mdm_info=OURS)
        assert make_client(manager_id=OURS["id"]).client_config()["mdmInfo"] == OURS

    def test_no_manager_id_means_no_check(self, sim, make_client):
        sim.set_mdm_info(HQ, OTHER)
        assert make_client().client_config()["mdmInfo"]["id"] == OTHER["id"]


class TestSynchronousRefusals:
    def test_users_and_devices_go_in_separate_requests(self, sim, make_client):
        client = make_client()
        batches = client.associate(["1000000003"], client_user_ids=["u-01"], serial_numbers=["SN-1"])
        posts = api_requests(sim, HQ, "/assets/associate", "POST")
        # the two requests go out together (up to 5 batches in flight): their arrival order is not fixed
        assert sorted(sorted(entry["body"]) for entry in posts) == [
            ["assets", "clientUserIds"],
            ["assets", "serialNumbers"],
        ]
        assert len(batches) == 2

    def test_an_unknown_user_refused_at_once_is_an_unknown_user_error(self, sim, make_client):
        with pytest.raises(UnknownUserError) as raised:
            make_client().associate(["1000000003"], client_user_ids=["u-01", "ghost"])
        assert (raised.value.error_number, raised.value.http_status) == (9609, 400)
        assert raised.value.error_info == {"clientUserIds": ["ghost"]}

    def test_9622_from_associate_is_a_member_failure_not_an_invalid_token(self, sim, make_client):
        sim.set_user_device_limit(HQ, "u-01")
        client = make_client()
        with pytest.raises(AppleError) as raised:
            client.associate(["1000000003"], client_user_ids=["u-01"])
        assert not isinstance(raised.value, AuthenticationError)
        assert raised.value.error_number == 9622
        assert "maximum number of devices" in str(raised.value)
        assert client.client_config()["locationName"] == "Headquarters"  # the token still works

    def test_9622_elsewhere_is_still_an_invalid_token(self, sim, make_client):
        client = make_client()
        client.transport.session.headers["Authorization"] = "Bearer bm90LWEtdG9rZW4="
        with pytest.raises(AuthenticationError) as raised:
            client.client_config()
        assert (raised.value.error_number, raised.value.http_status) == (9622, 200)

    def test_every_request_names_the_collection_in_its_user_agent(self, sim, make_client):
        from ansible_collections.mdm.vpp.plugins.module_utils.version import USER_AGENT

        client = make_client()
        client.client_config()
        client.metadata_lookup(["1000000001"], "enterprisestore", "US")
        agents = {entry["path"]: entry["user_agent"] for entry in sim.request_log()}
        assert agents == {
            "/mdm/v2/service/config": USER_AGENT,
            "/mdm/v2/client/config": USER_AGENT,
            "/_meta/lookup": USER_AGENT,
        }
        assert USER_AGENT.startswith("mdm.vpp/")
