# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-dataset versionId and sinceVersionId deltas (reference §7, §16.9)."""

from __future__ import annotations

from tests.simulator.testing import assert_error


def version(api, path):
    return api.ok("GET", path)["versionId"]


def test_each_dataset_has_its_own_version(quiet_hq):
    versions = {path: version(quiet_hq, path) for path in ("/assets", "/assignments", "/users")}
    assert len(set(versions.values())) == 3
    quiet_hq.run_event("/users/create", {"users": [{"clientUserId": "n-1"}]})
    assert version(quiet_hq, "/users") != versions["/users"]
    assert version(quiet_hq, "/assets") == versions["/assets"]
    assert version(quiet_hq, "/assignments") == versions["/assignments"]


def test_version_does_not_move_while_an_event_is_pending(quiet_hq):
    before = version(quiet_hq, "/assignments")
    quiet_hq.ok("POST", "/assets/associate", {"assets": [{"adamId": "1000000002"}], "clientUserIds": ["u-1"]})
    assert version(quiet_hq, "/assignments") == before


def test_assignment_delta_returns_only_changed_records(quiet_hq):
    since = version(quiet_hq, "/assignments")
    quiet_hq.run_event("/assets/associate", {"assets": [{"adamId": "1000000002"}], "clientUserIds": ["u-1", "u-2"]})
    delta = quiet_hq.ok("GET", "/assignments", sinceVersionId=since)
    assert sorted(row["clientUserId"] for row in delta["assignments"]) == ["u-1", "u-2"]
    assert delta["versionId"] != since
    assert quiet_hq.ok("GET", "/assignments", sinceVersionId=delta["versionId"])["assignments"] == []


def test_deleted_assignments_do_not_appear_in_a_delta(quiet_hq):
    since = version(quiet_hq, "/assignments")
    quiet_hq.run_event(
        "/assets/disassociate", {"assets": [{"adamId": "1000000001"}], "serialNumbers": ["C02XK0AAJG5H"]}
    )
    delta = quiet_hq.ok("GET", "/assignments", sinceVersionId=since)
    assert delta["assignments"] == [] and delta["versionId"] != since


def test_user_delta_lists_created_and_retired_users(quiet_hq):
    since = version(quiet_hq, "/users")
    quiet_hq.run_event("/users/create", {"users": [{"clientUserId": "n-1"}]})
    quiet_hq.run_event("/users/retire", {"users": [{"clientUserId": "u-2"}]})
    delta = quiet_hq.ok("GET", "/users", sinceVersionId=since)["users"]
    assert [(user["clientUserId"], user["status"]) for user in delta] == [("n-1", "Registered"), ("u-2", "Retired")]


def test_deltas_are_paginated(quiet_hq, quiet_sim):
    quiet_sim.configure(page_size=2)
    since = version(quiet_hq, "/users")
    quiet_hq.run_event("/users/create", {"users": [{"clientUserId": "n-%d" % number} for number in range(5)]})
    first = quiet_hq.ok("GET", "/users", sinceVersionId=since)
    assert (first["totalPages"], first["size"], first["nextPageIndex"]) == (3, 2, 1)
    assert len(quiet_hq.all_pages("/users", "users", sinceVersionId=since)) == 5


def test_unknown_version_id_is_9721(hq):
    assert_error(hq.get("/assignments", sinceVersionId="garbage"), 400, 9721)
    assert_error(hq.get("/users", sinceVersionId="garbage"), 400, 9721)


def test_version_of_another_dataset_is_9721(hq):
    assert_error(hq.get("/users", sinceVersionId=version(hq, "/assignments")), 400, 9721)


def test_total_pages_change_when_data_changes_mid_traversal(quiet_hq, quiet_sim):
    quiet_sim.configure(page_size=2)
    first = quiet_hq.ok("GET", "/assignments")
    quiet_hq.run_event("/assets/associate", {"assets": [{"adamId": "1000000002"}], "clientUserIds": ["u-1", "u-2"]})
    second = quiet_hq.ok("GET", "/assignments", pageIndex=1)
    assert (first["totalPages"], second["totalPages"]) == (2, 3)
    assert first["versionId"] != second["versionId"]


def test_reset_restores_the_initial_state(quiet_hq, quiet_sim):
    quiet_hq.run_event("/users/create", {"users": [{"clientUserId": "n-1"}]})
    quiet_sim.reset()
    assert [user["clientUserId"] for user in quiet_hq.ok("GET", "/users")["users"]] == ["u-1", "u-2", "u-old"]
    assert [entry["path"] for entry in quiet_sim.request_log()] == ["/mdm/v2/users"]  # log emptied by reset
