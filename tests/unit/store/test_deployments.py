# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store contract: applications, deployments and their members, submitted events, transactions."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError

TOKEN = "school"


@pytest.fixture
def with_app(registered):
    registered.upsert_application("pages", token=TOKEN, adam_id="1", description="Word processor",
                                  categories=["office"])  # fmt: skip
    return registered


@pytest.fixture
def deployed(with_app):
    with_app.upsert_deployment("pages-teachers", application="pages", collection_name="Teachers",
                               collection_type="user", action="install", purpose="required", license_type="user",
                               options={"allow_partial": False})  # fmt: skip
    return with_app


def test_application_round_trip(with_app):
    app = with_app.get_application("pages")
    assert (app["token"], app["adam_id"], app["pricing_param"]) == (TOKEN, "1", "STDQ")
    assert app["categories"] == ["office"] and app["description"] == "Word processor"
    assert with_app.find_application(TOKEN, "1") == app
    assert with_app.find_application(TOKEN, "1", "PLUS") is None
    updated = with_app.upsert_application("pages", description="Pages")
    assert updated["description"] == "Pages" and updated["adam_id"] == "1"
    assert [a["name"] for a in with_app.list_applications()] == ["pages"]
    assert with_app.list_applications(token="other") == []


def test_one_application_per_asset_of_a_token(with_app):
    with pytest.raises(StoreError, match="already has the application 'pages'"):
        with_app.upsert_application("pages-again", token=TOKEN, adam_id="1")
    assert [a["name"] for a in with_app.list_applications()] == ["pages"]


def test_application_needs_token_and_asset_to_be_created(registered):
    with pytest.raises(StoreError, match="token and adam_id"):
        registered.upsert_application("numbers", description="no asset")
    with pytest.raises(StoreError, match="not registered"):
        registered.upsert_application("numbers", token="ghost", adam_id="2")


def test_deployment_round_trip(deployed):
    deployment = deployed.get_deployment("pages-teachers")
    assert deployment["application"] == "pages" and deployment["token"] == TOKEN and deployment["adam_id"] == "1"
    assert (deployment["collection_type"], deployment["action"], deployment["license_type"]) == (
        "user", "install", "user",
    )  # fmt: skip
    assert deployment["options"] == {"allow_partial": False}
    deployed.upsert_deployment("pages-teachers", purpose="required", options={"allow_partial": True})
    assert deployed.get_deployment("pages-teachers")["options"] == {"allow_partial": True}
    assert [d["name"] for d in deployed.list_deployments(application="pages")] == ["pages-teachers"]
    assert deployed.delete_deployment("pages-teachers") is True
    assert deployed.get_deployment("pages-teachers") is None


def test_deployment_validation(with_app):
    with pytest.raises(StoreError, match="collection_name, collection_type"):
        with_app.upsert_deployment("half", application="pages", action="install", purpose="required")
    with pytest.raises(StoreError, match="action must be one of install, uninstall"):
        with_app.upsert_deployment("bad", application="pages", collection_name="c", collection_type="user",
                                   action="reinstall", purpose="required")  # fmt: skip
    with pytest.raises(StoreError, match="application 'nope' does not exist"):
        with_app.upsert_deployment("orphan", application="nope", collection_name="c", collection_type="user",
                                   action="install", purpose="required")  # fmt: skip
    assert with_app.list_deployments() == []


def test_members_bulk_upsert_keeps_fields_a_row_leaves_out(deployed):
    written = deployed.upsert_members(
        "pages-teachers",
        ({"member_id": "u%03d" % index, "license_type": "user", "state": "pending"} for index in range(1500)),
    )
    assert written == 1500
    deployed.upsert_members("pages-teachers", [{"member_id": "u000", "state": "licensed", "event_id": "ev1"},
                                               {"member_id": "u001", "state": "failed", "error_number": 9709,
                                                "error_message": "not enough licenses"}])  # fmt: skip
    [first] = deployed.list_members("pages-teachers", state="licensed")
    assert (first["member_id"], first["license_type"], first["event_id"]) == ("u000", "user", "ev1")
    [failed] = deployed.list_members("pages-teachers", state="failed")
    assert (failed["error_number"], failed["error_message"]) == (9709, "not enough licenses")
    assert deployed.count_members("pages-teachers") == {
        "pending": 1498, "licensed": 1, "failed": 1, "untargeted": 0, "reclaimed": 0,
    }  # fmt: skip
    assert deployed.delete_members("pages-teachers", ["u002", "u003", "absent"]) == 2
    assert sum(deployed.count_members("pages-teachers").values()) == 1498


def test_member_state_is_validated_and_the_batch_rolled_back(deployed):
    with pytest.raises(StoreError, match="member state"):
        deployed.upsert_members("pages-teachers", [{"member_id": "a", "state": "pending"},
                                                   {"member_id": "b", "state": "installed"}])  # fmt: skip
    assert deployed.list_members("pages-teachers") == []


def test_device_member_with_the_devices_user(with_app):
    with_app.upsert_deployment("pages-ipads", application="pages", collection_name="iPads", collection_type="device",
                               action="install", purpose="required", license_type="user")  # fmt: skip
    with_app.upsert_members("pages-ipads", [{"member_id": "SN1", "device_user": "u7", "license_type": "user"}])
    [member] = with_app.list_members("pages-ipads")
    assert (member["device_user"], member["license_type"], member["state"]) == ("u7", "user", "pending")


def test_deployed_count_counts_licensed_members_of_install_deployments(deployed):
    deployed.upsert_deployment("pages-reclaim", application="pages", collection_name="Leavers",
                               collection_type="user", action="uninstall", purpose="required")  # fmt: skip
    deployed.upsert_members("pages-teachers", [
        {"member_id": "u1", "license_type": "user", "state": "licensed"},
        {"member_id": "u2", "license_type": "user", "state": "licensed"},
        {"member_id": "u3", "license_type": "user", "state": "failed"},
    ])  # fmt: skip
    deployed.upsert_members("pages-reclaim", [{"member_id": "u9", "license_type": "user", "state": "licensed"}])
    for user in ("u1", "u2", "u3", "u9"):
        deployed.record_assignment(TOKEN, "1", "STDQ", "user", user)
    assert deployed.deployed_count(TOKEN, "1") == 2
    assert deployed.deployed_count(TOKEN, "1", "PLUS") == 0
    assert deployed.deployed_count(TOKEN, "2") == 0


def test_deployed_count_ignores_licenses_taken_back_since(deployed):
    deployed.upsert_members("pages-teachers", [
        {"member_id": "u1", "license_type": "user", "state": "licensed"},
        {"member_id": "u2", "license_type": "user", "state": "licensed"},
    ])  # fmt: skip
    for user in ("u1", "u2"):
        deployed.record_assignment(TOKEN, "1", "STDQ", "user", user)
    deployed.remove_assignment(TOKEN, "1", "STDQ", "user", "u2")  # reclaimed by an uninstall deployment
    assert deployed.deployed_count(TOKEN, "1") == 1


def test_deployed_count_counts_a_device_users_license_once(with_app):
    with_app.upsert_deployment("pages-ipads", application="pages", collection_name="iPads",
                               collection_type="device", action="install", purpose="required",
                               license_type="user")  # fmt: skip
    # two devices of one user: a user license serves both
    with_app.upsert_members("pages-ipads", [{"member_id": "SN1", "device_user": "u7", "license_type": "user",
                                             "state": "licensed"},
                                            {"member_id": "SN2", "device_user": "u7", "license_type": "user",
                                             "state": "licensed"}])  # fmt: skip
    with_app.record_assignment(TOKEN, "1", "STDQ", "user", "u7")
    assert with_app.deployed_count(TOKEN, "1") == 1


def test_targets_of_other_install_deployments(deployed):
    deployed.upsert_deployment("pages-ipads", application="pages", collection_name="iPads", collection_type="device",
                               action="install", purpose="required", license_type="user")  # fmt: skip
    deployed.upsert_deployment("pages-leavers", application="pages", collection_name="Leavers",
                               collection_type="user", action="uninstall", purpose="required")  # fmt: skip
    deployed.upsert_members("pages-teachers", [
        {"member_id": "u1", "license_type": "user", "state": "licensed"},
        {"member_id": "u2", "license_type": "user", "state": "pending"},
        {"member_id": "u3", "license_type": "user", "state": "failed"},
    ])  # fmt: skip
    deployed.upsert_members("pages-ipads", [{"member_id": "SN1", "device_user": "u7", "license_type": "user",
                                             "state": "licensed"}])  # fmt: skip
    deployed.upsert_members("pages-leavers", [{"member_id": "u9", "license_type": "user", "state": "reclaimed"}])
    assert deployed.targets_of_other_installs("pages-ipads", "pages") == {("user", "u1"), ("user", "u2")}
    assert deployed.targets_of_other_installs("pages-teachers", "pages") == {("user", "u7")}
    assert deployed.targets_of_other_installs("pages-teachers", "keynote") == set()


def test_events_are_persisted_pending_then_completed(deployed):
    event = deployed.record_event(TOKEN, "ev-1", "ASSOCIATE", deployment="pages-teachers",
                                  request={"assets": 1, "clientUserIds": 2})  # fmt: skip
    assert (event["status"], event["deployment"], event["completed_at"]) == ("PENDING", "pages-teachers", None)
    deployed.record_event(TOKEN, "ev-2", "CREATE")
    assert [e["event_id"] for e in deployed.pending_events()] == ["ev-1", "ev-2"]
    assert [e["event_id"] for e in deployed.pending_events(deployment="pages-teachers")] == ["ev-1"]
    assert [e["event_id"] for e in deployed.pending_events(token="other")] == []

    done = deployed.update_event(TOKEN, "ev-1", "FAILED", result={"numCompleted": 1, "failures": [9609]})
    assert done["status"] == "FAILED" and done["completed_at"] is not None
    assert done["result"] == {"numCompleted": 1, "failures": [9609]}
    assert [e["event_id"] for e in deployed.pending_events()] == ["ev-2"]
    with pytest.raises(StoreError, match="never recorded"):
        deployed.update_event(TOKEN, "ev-404", "COMPLETE")


def test_deleting_a_deployment_keeps_its_events(deployed):
    deployed.record_event(TOKEN, "ev-1", "ASSOCIATE", deployment="pages-teachers")
    deployed.delete_deployment("pages-teachers")
    event = deployed.get_event(TOKEN, "ev-1")
    assert event["deployment"] is None and event["status"] == "PENDING"


# --- transactions -----------------------------------------------------------------------------------------------


def test_transaction_rolls_back_everything_on_error(registered):
    with pytest.raises(RuntimeError), registered.transaction():
        registered.upsert_token("school", description="changed")
        registered.record_assignment(TOKEN, "1", "STDQ", "user", "u1")
        raise RuntimeError("boom")
    assert registered.get_token("school")["description"] is None
    assert registered.count_assignments(TOKEN) == 0


def test_a_handled_inner_failure_undoes_only_the_inner_block(registered):
    with registered.transaction():
        registered.record_assignment(TOKEN, "1", "STDQ", "user", "u1")
        with pytest.raises(RuntimeError), registered.transaction():
            registered.record_assignment(TOKEN, "1", "STDQ", "user", "u2")
            raise RuntimeError("inner")
    assert [a["target_id"] for a in registered.iter_assignments(TOKEN)] == ["u1"]
