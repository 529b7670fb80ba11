# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mdm.vpp.vpp_deployment: real ansible-playbook runs against the simulator, checked at the simulator and in the
store."""

from __future__ import annotations

import math

import pytest

from tests.integration.conftest import Ansible
from tests.integration.deployment_helpers import (
    BOOK,
    HQ,
    KEYNOTE,
    NUMBERS,
    PAGES,
    apple_counts,
    apple_holders,
    deploy,
    deployment_runner,
    deployment_scenario,
    deployment_sim,
    member_states,
    played,
    posts,
    setup_tasks,
    store_holders,
    write_calls,
)
from tests.integration.token_helpers import assert_no_secret
from tests.integration.token_helpers import opened_store as runner_store
from tests.simulator.testing import Api


@pytest.fixture
def sim(simulator_factory):
    return deployment_sim(simulator_factory)


@pytest.fixture
def runner(tmp_path, collections_path, sim):
    return deployment_runner(tmp_path, collections_path, sim)


def test_device_collection_and_device_assignable_app_claims_device_licenses(runner, sim):
    run = played(
        runner, [*setup_tasks(sim), deploy("deploy", "pages-ipads", "device", ["SN-A1", "SN-A2", "C02XK0AAJG5H"])]
    )
    result = run.result("deploy")
    assert result["changed"] is True
    assert result["deployment"]["license_type"] == "device"
    assert sorted(result["licensed"]) == ["SN-A1", "SN-A2"]
    assert result["deployment"]["states"]["licensed"] == 3
    assert {("device", "SN-A1"), ("device", "SN-A2"), ("device", "C02XK0AAJG5H")} <= apple_holders(sim, PAGES)
    assert apple_counts(sim, PAGES) == (4, 46, 50)
    assert {("device", "SN-A1"), ("device", "SN-A2")} <= store_holders(runner, PAGES)
    assert len(posts(sim, "/assets/associate")) == 1


def test_device_collection_and_app_without_device_licenses_claims_the_device_users_license(runner, sim):
    members = [{"serial": "SN-B1", "user": "u-1"}, {"serial": "SN-B2", "user": "u-1"}, "SN-B3"]
    run = played(runner, [*setup_tasks(sim, ["numbers"]),
                          deploy("deploy", "numbers-ipads", "device", members, application="numbers",
                                 allow_partial=True)])  # fmt: skip
    result = run.result("deploy")
    assert result["deployment"]["license_type"] == "user"
    # allow_partial accepts the failure, with a warning naming the member and its reason
    assert any("1 member(s) ended failed: SN-B3 (device SN-B3 has no user" in warning
               for warning in result["warnings"])  # fmt: skip
    # both of u-1's devices are served by one user license; the device without a user fails with the reason
    assert sorted(result["licensed"]) == ["SN-B1", "SN-B2"]
    [failed] = result["failed_members"]
    assert failed["member_id"] == "SN-B3" and "has no user" in failed["error_message"]
    assert apple_holders(sim, NUMBERS) == {("user", "u-1")}
    assert apple_counts(sim, NUMBERS) == (1, 4, 5)
    assert member_states(runner, "numbers-ipads") == {"SN-B1": "licensed", "SN-B2": "licensed", "SN-B3": "failed"}
    [associate] = posts(sim, "/assets/associate")
    assert associate["body"]["clientUserIds"] == ["u-1"] and "serialNumbers" not in associate["body"]


def test_user_collection_claims_user_licenses_whether_or_not_the_app_supports_devices(runner, sim):
    staff = ["u-1", "u-2"]
    run = played(runner, [*setup_tasks(sim, ["pages", "numbers"]),
                          deploy("pages", "pages-staff", "user", staff),
                          deploy("numbers", "numbers-staff", "user", staff, application="numbers")])  # fmt: skip
    for task, adam_id in (("pages", PAGES), ("numbers", NUMBERS)):
        result = run.result(task)
        assert result["deployment"]["license_type"] == "user"
        assert result["deployment"]["states"]["licensed"] == 2
        assert {("user", "u-1"), ("user", "u-2")} <= apple_holders(sim, adam_id)
    # u-1 held Pages already (synced): only u-2 was asked for; Numbers was new to both
    assert run.result("pages")["licensed"] == ["u-2"]
    assert sorted(run.result("numbers")["licensed"]) == ["u-1", "u-2"]
    assert apple_counts(sim, NUMBERS) == (2, 3, 5)
    bodies = [entry["body"] for entry in posts(sim, "/assets/associate")]
    assert all("serialNumbers" not in body for body in bodies)


def test_unknown_users_are_registered_and_get_invitation_links(runner, sim):
    members = [
        {"client_user_id": "new-1", "email": "new1@elsewhere.org"},
        {"client_user_id": "new-2", "email": "new2@example.org", "managed_apple_id": "new2@example.org"},
        "u-2",  # known to Apple, still Registered: listed with an invitation as well
    ]
    run = played(runner, [*setup_tasks(sim), deploy("deploy", "pages-new-staff", "user", members)])
    result = run.result("deploy")
    assert sorted(result["registered_users"]) == ["new-1", "new-2"]
    assert result["deployment"]["states"]["licensed"] == 3
    users = {user["clientUserId"]: user for user in sim.location_state(HQ)["users"]}
    assert users["new-1"]["status"] == "Registered"
    assert users["new-2"]["status"] == "Associated"  # managed Apple ID of the organisation: no invitation
    invitations = {item["client_user_id"]: item for item in result["invitations"]}
    assert sorted(invitations) == ["new-1", "u-2"]
    assert invitations["new-1"]["email"] == "new1@elsewhere.org"
    assert users["new-1"]["inviteCode"] in invitations["new-1"]["url"]
    [create] = posts(sim, "/users/create")
    assert sorted(user["clientUserId"] for user in create["body"]["users"]) == ["new-1", "new-2"]
    # the link is the one Apple's invitation e-mail carries: following it associates the user
    sim.accept_invite_code(users["new-1"]["inviteCode"])
    assert {u["clientUserId"]: u["status"] for u in sim.location_state(HQ)["users"]}["new-1"] == "Associated"
    with runner_store(runner) as store:
        assert store.get_user("hq", "new-2")["status"] == "Associated"


def test_short_of_licenses_is_refused_before_any_write_then_allow_partial_licenses_what_there_is(runner, sim):
    serials = ["SN-C%d" % index for index in range(5)]  # Keynote: 3 licenses
    played(runner, setup_tasks(sim, ["keynote"]))
    sim.clear_request_log()
    run = runner.play([deploy("refused", "keynote-ipads", "device", serials, application="keynote",
                              ignore_errors=True)])  # fmt: skip
    refused = run.result("refused")
    assert run.status("refused") == "failed" and refused["error_number"] == 9709
    assert "5 needed, 3 available" in refused["msg"]
    assert (refused["plan"]["needed"], refused["plan"]["available"], refused["plan"]["short"]) == (5, 3, 2)
    assert [e["member_id"] for e in refused["plan"]["to_license"]] == serials
    assert write_calls(sim) == []
    assert member_states(runner, "keynote-ipads") is None
    assert apple_counts(sim, KEYNOTE) == (0, 3, 3)

    run = played(runner, [deploy("partial", "keynote-ipads", "device", serials, application="keynote",
                                 allow_partial=True)])  # fmt: skip
    partial = run.result("partial")
    assert sorted(partial["licensed"]) == serials[:3]
    assert sorted(item["member_id"] for item in partial["failed_members"]) == serials[3:]
    assert {item["error_number"] for item in partial["failed_members"]} == {9709}
    assert apple_counts(sim, KEYNOTE) == (3, 0, 3)
    assert any("not enough licenses" in warning for warning in partial.get("warnings", []))


def test_a_book_to_a_device_collection_is_refused_before_any_call(runner, sim):
    played(runner, setup_tasks(sim, ["book"]))
    sim.clear_request_log()
    run = runner.play([deploy("book", "book-ipads", "device", ["SN-D1"], application="book", ignore_errors=True)])
    result = run.result("book")
    assert run.status("book") == "failed" and "books can only be deployed to user collections" in result["msg"]
    assert [entry for entry in sim.request_log(HQ) if entry["path"].startswith("/mdm/v2/")] == []
    assert member_states(runner, "book-ipads") is None


def test_available_purpose_is_refused(runner, sim):
    played(runner, setup_tasks(sim))
    sim.clear_request_log()
    run = runner.play([deploy("available", "pages-self-service", "user", ["u-1"], purpose="available",
                              ignore_errors=True)])  # fmt: skip
    result = run.result("available")
    assert run.status("available") == "failed" and "available installs are not supported; use required" in result["msg"]
    assert write_calls(sim) == [] and member_states(runner, "pages-self-service") is None


def test_the_action_of_a_deployment_never_changes(runner, sim):
    run = runner.play(
        [
            *setup_tasks(sim),
            deploy("install", "pages-staff", "user", ["u-1"]),
            deploy("uninstall", "pages-staff", "user", ["u-1"], action="uninstall", ignore_errors=True),
        ]
    )
    result = run.result("uninstall")
    assert run.status("uninstall") == "failed"
    assert "create a separate deployment with action uninstall" in result["msg"]
    assert member_states(runner, "pages-staff") == {"u-1": "licensed"}
    assert posts(sim, "/assets/disassociate") == []


def test_an_uninstall_deployment_returns_the_licenses(runner, sim):
    devices = ["SN-E1", "SN-E2", "SN-E3"]
    played(runner, [*setup_tasks(sim), deploy("install", "pages-ipads", "device", devices)])
    assert apple_counts(sim, PAGES) == (5, 45, 50)
    run = played(
        runner,
        [
            deploy("uninstall", "pages-ipads-reclaim", "device", devices[:2], action="uninstall"),
            deploy("again", "pages-ipads-reclaim", "device", devices[:2], action="uninstall"),
        ],
    )
    result = run.result("uninstall")
    assert sorted(result["reclaimed"]) == devices[:2]
    assert result["deployment"]["states"]["reclaimed"] == 2
    assert apple_counts(sim, PAGES) == (3, 47, 50)
    assert apple_holders(sim, PAGES) & {("device", s) for s in devices} == {("device", "SN-E3")}
    assert store_holders(runner, PAGES) & {("device", s) for s in devices} == {("device", "SN-E3")}
    [disassociate] = posts(sim, "/assets/disassociate")
    assert sorted(disassociate["body"]["serialNumbers"]) == devices[:2]
    assert run.result("again")["changed"] is False


def test_uninstalling_a_book_fails_per_member_without_asking_apple(runner, sim):
    run = played(
        runner,
        [
            *setup_tasks(sim, ["book"]),
            deploy("uninstall", "book-back", "user", ["u-1"], application="book", action="uninstall",
                   ignore_errors=True),
        ],
    )  # fmt: skip
    result = run.result("uninstall")
    # a member that ends failed fails the task, naming it with its reason; the result keeps failed_members
    assert run.status("uninstall") == "failed"
    assert (
        "deployment 'book-back': 1 member(s) ended failed: u-1 (error 9706: the licenses of this book"
        in (result["msg"])
    )
    assert "allow_partial: true" in result["msg"] and result["member_failures"] == 1
    [failed] = result["failed_members"]
    assert failed["member_id"] == "u-1" and failed["error_number"] == 9706
    assert "not revocable" in failed["error_message"] and "book" in failed["error_message"]
    assert posts(sim, "/assets/disassociate") == []
    assert ("user", "u-1") in apple_holders(sim, BOOK)


def test_members_added_and_removed(runner, sim):
    played(runner, [*setup_tasks(sim), deploy("first", "pages-ipads", "device", ["SN-F1", "SN-F2"])])
    run = played(runner, [deploy("second", "pages-ipads", "device", ["SN-F2", "SN-F3"])])
    second = run.result("second")
    assert second["licensed"] == ["SN-F3"] and second["untargeted"] == ["SN-F1"]
    assert member_states(runner, "pages-ipads") == {"SN-F1": "untargeted", "SN-F2": "licensed", "SN-F3": "licensed"}
    assert ("device", "SN-F1") in apple_holders(sim, PAGES)  # a removed member keeps its license

    run = played(runner, [deploy("reclaim", "pages-ipads", "device", ["SN-F2", "SN-F3"], reclaim_removed=True)])
    reclaim = run.result("reclaim")
    assert reclaim["reclaimed"] == ["SN-F1"]
    assert member_states(runner, "pages-ipads") == {"SN-F1": "reclaimed", "SN-F2": "licensed", "SN-F3": "licensed"}
    assert ("device", "SN-F1") not in apple_holders(sim, PAGES)
    assert apple_counts(sim, PAGES) == (4, 46, 50)


def test_reclaiming_removed_members_spares_licenses_another_install_deployment_needs(runner, sim):
    played(runner, [*setup_tasks(sim), deploy("carts", "pages-carts", "device", ["SN-H1", "SN-H2"]),
                    deploy("lab", "pages-lab", "device", ["SN-H2", "SN-H3"])])  # fmt: skip
    writes_before = len(posts(sim, "/assets/disassociate"))
    # both devices leave the carts; SN-H2 is still in the lab collection
    run = played(runner, [deploy("shrink", "pages-carts", "device", [], reclaim_removed=True)])
    shrink = run.result("shrink")
    assert shrink["reclaimed"] == ["SN-H1"] and shrink["untargeted"] == ["SN-H2"]
    assert ("device", "SN-H2") in apple_holders(sim, PAGES) and ("device", "SN-H1") not in apple_holders(sim, PAGES)
    assert member_states(runner, "pages-lab") == {"SN-H2": "licensed", "SN-H3": "licensed"}
    assert len(posts(sim, "/assets/disassociate")) == writes_before + 1
    again = played(runner, [deploy("again", "pages-carts", "device", [], reclaim_removed=True)])
    assert again.result("again")["changed"] is False
    assert len(posts(sim, "/assets/disassociate")) == writes_before + 1


def test_a_run_interrupted_after_submitting_resumes_by_polling_the_stored_events(runner, sim):
    played(runner, setup_tasks(sim))
    sim.configure(hold_events=True)
    run = runner.play([deploy("held", "pages-ipads", "device", ["SN-G1", "SN-G2"], wait_timeout=1,
                              ignore_errors=True)])  # fmt: skip
    held = run.result("held")
    assert run.status("held") == "failed" and "still pending" in held["msg"]
    assert len(held["pending_event_ids"]) == 1
    assert member_states(runner, "pages-ipads") == {"SN-G1": "pending", "SN-G2": "pending"}
    with runner_store(runner) as store:
        assert [event["event_id"] for event in store.pending_events(deployment="pages-ipads")] == held[
            "pending_event_ids"
        ]

    sim.configure(hold_events=False)
    sim.complete_events()
    sim.clear_request_log()
    run = played(runner, [deploy("resumed", "pages-ipads", "device", ["SN-G1", "SN-G2"])])
    resumed = run.result("resumed")
    assert resumed["changed"] is True and sorted(resumed["licensed"]) == ["SN-G1", "SN-G2"]
    assert member_states(runner, "pages-ipads") == {"SN-G1": "licensed", "SN-G2": "licensed"}
    assert posts(sim, "/assets/associate") == []
    polls = [entry for entry in sim.request_log(HQ) if entry["path"] == "/mdm/v2/status"]
    assert [entry["query"]["eventId"] for entry in polls] == [held["pending_event_ids"]]
    assert store_holders(runner, PAGES) >= {("device", "SN-G1"), ("device", "SN-G2")}


def test_wait_false_returns_pending_members_and_the_next_run_records_them(runner, sim):
    played(runner, setup_tasks(sim))
    sim.configure(hold_events=True)
    run = played(runner, [deploy("submit", "pages-ipads", "device", ["SN-H1"], wait=False)])
    submitted = run.result("submit")
    assert submitted["changed"] is True and submitted["pending"] == ["SN-H1"] and submitted["licensed"] == []
    sim.configure(hold_events=False)
    sim.complete_events()
    run = played(runner, [deploy("next", "pages-ipads", "device", ["SN-H1"])])
    assert run.result("next")["licensed"] == ["SN-H1"]
    assert len(posts(sim, "/assets/associate")) == 1


def test_check_apply_reapply_check_absent_absent(runner, sim):
    played(runner, setup_tasks(sim))
    sim.clear_request_log()
    members = ["SN-I1", "SN-I2"]
    check = played(runner, [deploy("check", "pages-ipads", "device", members, check_mode=True)], diff=True).result(
        "check"
    )
    assert write_calls(sim) == [] and member_states(runner, "pages-ipads") is None  # check mode wrote nothing
    run = played(runner, [deploy("apply", "pages-ipads", "device", members)], diff=True)
    apply = run.result("apply")
    assert_no_secret(run, sim.tokens[HQ])
    assert check["changed"] is True and [e["member_id"] for e in check["plan"]["to_license"]] == members
    assert check["plan"]["batches"]["associate"] == 1 and check["diff"]["before"] == {}
    assert apply["changed"] is True and sorted(apply["licensed"]) == members
    assert check["deployment"] == apply["deployment"]  # the prediction is what happened
    assert apply["diff"]["after"]["states"]["licensed"] == 2
    writes_after_apply = len(write_calls(sim))

    run = played(runner, [deploy("re-apply", "pages-ipads", "device", members),
                          deploy("check again", "pages-ipads", "device", members, check_mode=True),
                          {"name": "absent", "mdm.vpp.vpp_deployment": {"name": "pages-ipads", "state": "absent"}},
                          {"name": "absent again",
                           "mdm.vpp.vpp_deployment": {"name": "pages-ipads", "state": "absent"}}])  # fmt: skip
    assert run.result("re-apply")["changed"] is False
    assert run.result("check again")["changed"] is False
    assert len(write_calls(sim)) == writes_after_apply  # no POST after the first apply
    assert run.result("absent")["changed"] is True and run.result("absent again")["changed"] is False
    assert member_states(runner, "pages-ipads") is None
    assert {("device", "SN-I1"), ("device", "SN-I2")} <= apple_holders(sim, PAGES)  # absent reclaims nothing


def test_invalid_members_are_refused_before_any_call(runner, sim, tmp_path):
    played(runner, setup_tasks(sim))
    sim.clear_request_log()
    members_file = tmp_path / "ipads.csv"
    members_file.write_text("# sales iPads\nserial,user\nSN-J1,u-1\n\nSN-J1,u-2\nbad serial,u-3\n")
    run = runner.play([deploy("bad", "pages-ipads", "device", members_file=str(members_file), ignore_errors=True)])
    result = run.result("bad")
    assert run.status("bad") == "failed"
    assert "line 5: duplicate serial number 'SN-J1' (first at" in result["msg"]
    assert "line 6: 'bad serial' is not a serial number" in result["msg"]
    assert [entry for entry in sim.request_log(HQ) if entry["path"].startswith("/mdm/v2/")] == []


def test_ten_thousand_devices_cost_one_associate_call_per_thousand_and_a_rerun_writes_nothing(
    tmp_path, collections_path, simulator_factory
):
    bulk = "1000000050"
    scenario = deployment_scenario(maxSerialNumbers=1000)
    hq = next(location for location in scenario["locations"] if location["key"] == HQ)
    hq["assets"].append({"adamId": bulk, "name": "Bulk App", "total": 10000, "platforms": ["iOS"]})
    sim = simulator_factory(scenario)
    runner = Ansible(tmp_path, collections_path, sim.url)
    members_file = tmp_path / "fleet.txt"
    serials = ["FLEET%06d" % index for index in range(10000)]
    members_file.write_text("# the whole fleet\n" + "\n".join(serials) + "\n")
    app = {"name": "bulk app", "mdm.vpp.vpp_app": {"token": "hq", "adam_id": bulk, "name": "bulk"}}
    played(runner, [*setup_tasks(sim, []), app])
    sim.clear_request_log()

    run = played(runner, [deploy("fleet", "bulk-fleet", "device", application="bulk", members_file=str(members_file))])
    result = run.result("fleet")
    assert result["deployment"]["states"]["licensed"] == 10000
    associate = posts(sim, "/assets/associate")
    assert len(associate) == math.ceil(10000 / 1000)
    assert all(len(entry["body"]["serialNumbers"]) <= 1000 for entry in associate)
    assert write_calls(sim) == associate  # nothing but the associate calls was written
    assert apple_counts(sim, bulk) == (10000, 0, 10000)
    requests = result["requests"]["by_endpoint"]
    assert requests["POST /assets/associate"] == 10 and requests["GET /assets"] == 1
    assert requests["GET /status"] >= 10  # at least one poll per event

    sim.clear_request_log()
    run = played(runner, [deploy("again", "bulk-fleet", "device", application="bulk", members_file=str(members_file))])
    assert run.result("again")["changed"] is False
    assert write_calls(sim) == []


def test_token_and_adam_id_create_the_application_with_the_default_name(runner, sim):
    run = played(runner, [*setup_tasks(sim, []),
                          deploy("deploy", "pages-staff", "user", ["u-2"], application=None, token="hq",
                                 adam_id=PAGES)])  # fmt: skip
    result = run.result("deploy")
    assert result["application_created"] is True
    assert result["deployment"]["application"] == "Pages (hq)" and result["licensed"] == ["u-2"]
    with runner_store(runner) as store:
        assert store.find_application("hq", PAGES)["name"] == "Pages (hq)"


def test_a_token_revoked_during_a_deployment_is_stored_revoked_and_the_message_names_the_deployment(runner, sim):
    played(runner, setup_tasks(sim))
    sim.revoke_token(HQ)  # the administrator downloaded a new token in Apple Business meanwhile
    run = played(runner, [deploy("deploy", "pages-ipads", "device", ["SN-R1"], ignore_errors=True)])
    result = run.result("deploy")
    assert run.status("deploy") == "failed" and result["error_number"] == 9625
    assert result["msg"].startswith("deployment 'pages-ipads': ")
    with runner_store(runner) as store:
        assert store.get_token("hq")["status"] == "revoked"
    assert posts(sim, "/assets/associate") == []


@pytest.mark.parametrize("named", [True, False], ids=["errorinfo-names-them", "found-by-halving"])
def test_a_user_retired_at_apple_since_the_sync_is_registered_again_and_licensed_in_the_same_run(runner, sim, named):
    """Apple refuses the whole associate synchronously (9609, Fleet's production traffic): the other users are
    sent again without the retired one, who is registered once more and licensed; nobody is reported failed."""
    played(runner, setup_tasks(sim, ["keynote"]))
    sim.configure(unknown_user_info=named)
    api = Api(sim, sim.tokens[HQ])
    assert api.run_event("/users/retire", {"users": [{"clientUserId": "u-2"}]})["eventStatus"] == "COMPLETE"
    sim.clear_request_log()

    run = played(runner, [deploy("deploy", "keynote-staff", "user", ["u-1", "u-2"], application="keynote")])
    result = run.result("deploy")
    assert sorted(result["licensed"]) == ["u-1", "u-2"] and result["failed_members"] == []
    assert member_states(runner, "keynote-staff") == {"u-1": "licensed", "u-2": "licensed"}
    assert {("user", "u-1"), ("user", "u-2")} <= apple_holders(sim, KEYNOTE)
    [create] = posts(sim, "/users/create")
    assert [user["clientUserId"] for user in create["body"]["users"]] == ["u-2"]
    bodies = [entry["body"]["clientUserIds"] for entry in posts(sim, "/assets/associate")]
    assert bodies[0] == ["u-1", "u-2"] and bodies[-1] == ["u-2"] and ["u-1"] in bodies
    assert (
        played(runner, [deploy("again", "keynote-staff", "user", ["u-1", "u-2"], application="keynote")]).result(
            "again"
        )["changed"]
        is False
    )


def test_a_user_at_its_device_limit_fails_alone_with_9622_and_the_token_stays_valid(runner, sim):
    sim.set_limits(maxClientUserIds=1)  # one batch per user: the second batch must still go out
    played(runner, setup_tasks(sim, ["keynote"]))
    sim.set_user_device_limit(HQ, "u-1")
    with runner_store(runner) as store:
        status_before = store.get_token("hq")["status"]
    run = played(runner, [deploy("deploy", "keynote-staff", "user", ["u-1", "u-2"], application="keynote",
                                 ignore_errors=True)])  # fmt: skip
    result = run.result("deploy")
    assert run.status("deploy") == "failed" and "1 member(s) ended failed: u-1 (error 9622" in result["msg"]
    assert result["licensed"] == ["u-2"] and result["changed"] is True
    [failed] = result["failed_members"]
    assert failed["member_id"] == "u-1" and failed["error_number"] == 9622
    assert "maximum number of devices" in failed["error_message"]
    assert member_states(runner, "keynote-staff") == {"u-1": "failed", "u-2": "licensed"}
    with runner_store(runner) as store:
        assert store.get_token("hq")["status"] == status_before != "invalid"  # 9622 here is no token problem
