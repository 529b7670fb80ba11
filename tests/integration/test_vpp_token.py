# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mdm.vpp.vpp_token: real ansible-playbook runs against the simulator, checked at the simulator and in the store."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from ansible_collections.mdm.vpp.plugins.module_utils.stoken import parse_content_token
from ansible_collections.mdm.vpp.plugins.module_utils.tokens import MAX_TOKENS
from tests.integration.reliability_helpers import BackgroundPlay
from tests.integration.token_helpers import (
    OTHER_MANAGER,
    assert_no_secret,
    create_store,
    opened_store,
    posts,
    refused,
    stored_tokens,
    token_task,
)
from tests.simulator.service import make_stoken

HQ, SCHOOL = "business-hq", "school-east"
HQ_UID = "9000000000000001"
PAGES = "1000000001"


def test_check_apply_reapply_check_is_idempotent_and_writes_apple_once(ansible, simulator):
    token = simulator.tokens[HQ]
    options = {"token": token, "description": "Headquarters", "categories": ["europe"], "token_type": "business"}
    create_store(ansible)  # check mode never creates a store (test_bad_input.py)
    run = ansible.play(
        [
            dict(token_task("hq", "check", **options), check_mode=True),
            token_task("hq", "apply", **options),
            token_task("hq", "re-apply", **options),
            dict(token_task("hq", "check again", **options), check_mode=True),
        ]
    )
    assert run.rc == 0, run.stdout
    check, apply, again, check_again = (run.result(n) for n in ("check", "apply", "re-apply", "check again"))
    assert check["changed"] is True and check["actions"] == ["register", "claim"]
    assert apply["changed"] is True and apply["actions"] == ["register", "claim"]
    assert again["changed"] is False and again["actions"] == []
    assert check_again["changed"] is False
    # the prediction matches what was done, and the facts are Apple's
    assert check["token"] == apply["token"] == again["token"]
    facts = apply["token"]
    assert facts["uid"] == HQ_UID and facts["location_name"] == "Example HQ" and facts["country"] == "US"
    assert facts["token_type"] == "business" and facts["website_url"] == "https://business.apple.com"
    assert facts["org_name"] == "Example Corp" and facts["status"] == "valid" and facts["claimed"] is True
    assert facts["fingerprint"] == parse_content_token(token).fingerprint
    assert facts["days_left"] in (364, 365) and facts["last_sync_at"] is None

    # one claim at Apple for the four tasks: neither check mode nor the re-run wrote anything
    assert len(posts(simulator)) == 1
    with opened_store(ansible) as store:
        assert simulator.location_state(HQ)["mdmInfo"] == {
            "id": store.manager_id,
            "name": "mdm.vpp",
            "metadata": "mdm.vpp 0.1.0",
        }
        assert [row["name"] for row in store.list_tokens()] == ["hq"]
        assert store.get_token_secret("hq") == token
    # stored encrypted: the token text is nowhere in the database file
    assert token.encode() not in ansible.store.read_bytes()


def test_absent_deletes_once_then_reports_no_change(ansible, simulator):
    with opened_store(ansible) as store:
        store.upsert_token("doomed", parse_content_token(simulator.tokens[HQ]), uid=HQ_UID)
        store.replace_assets("doomed", [{"adam_id": PAGES, "total_count": 50}])
        store.apply_assignment_delta("doomed", [{"adam_id": PAGES, "target_kind": "user", "target_id": "u-1"}])
    run = ansible.play(
        [
            dict(token_task("doomed", "check absent", state="absent"), check_mode=True),
            token_task("doomed", "absent", state="absent"),
            token_task("doomed", "absent again", state="absent"),
        ]
    )
    assert run.rc == 0, run.stdout
    assert run.result("check absent")["changed"] is True
    assert run.result("absent")["changed"] is True and run.result("absent")["actions"] == ["delete"]
    assert run.result("absent")["token"]["name"] == "doomed"
    assert run.result("absent again")["changed"] is False and run.result("absent again")["token"] is None
    with opened_store(ansible) as store:
        assert store.list_tokens() == []
        # the cascade: nothing synced through the token is left (a new token of the same name starts empty)
        store.upsert_token("doomed", parse_content_token(simulator.tokens[HQ]))
        assert store.list_assets("doomed") == [] and store.count_assignments("doomed") == 0
    assert simulator.request_log() == []  # without revoke_on_delete, deleting asks Apple nothing


def test_renewal_replaces_the_secret_and_keeps_synced_data(ansible, simulator):
    assert ansible.play([token_task("hq", "register", token=simulator.tokens[HQ])]).rc == 0
    with opened_store(ansible) as store:
        store.replace_assets("hq", [{"adam_id": PAGES, "total_count": 50, "assigned_count": 2}])
        store.apply_assignment_delta("hq", [{"adam_id": PAGES, "target_kind": "device", "target_id": "C02XK0AAJG5H"}])
        store.upsert_application("pages", token="hq", adam_id=PAGES)
        old = store.get_token("hq")
    renewed = simulator.renew_token(HQ)  # the previous token is revoked at Apple from now on

    run = ansible.play([token_task("hq", "renew", token=renewed), token_task("hq", "renew again", token=renewed)])
    assert run.rc == 0, run.stdout
    result = run.result("renew")
    assert result["changed"] is True and result["actions"] == ["renew"]
    assert result["token"]["uid"] == old["uid"] == HQ_UID
    assert result["token"]["fingerprint"] == parse_content_token(renewed).fingerprint != old["fingerprint"]
    assert run.result("renew again")["changed"] is False
    with opened_store(ansible) as store:
        assert store.get_token_secret("hq") == renewed
        assert store.get_asset("hq", PAGES)["total_count"] == 50
        assert store.count_assignments("hq") == 1
        assert store.get_application("pages") is not None
    assert len(posts(simulator)) == 1  # claimed once, at registration; the location stayed ours


def test_renewal_with_another_locations_token_is_refused(ansible, simulator):
    assert ansible.play([token_task("hq", "register", token=simulator.tokens[HQ])]).rc == 0
    before = stored_tokens(ansible)
    run = ansible.play([token_task("hq", "renew with school token", token=simulator.tokens[SCHOOL])])
    assert run.rc != 0
    message = run.result("renew with school token")["msg"]
    assert "belongs to location 9000000000000002" in message and "registered for location %s" % HQ_UID in message
    assert stored_tokens(ansible) == before
    with opened_store(ansible) as store:
        assert store.get_token_secret("hq") == simulator.tokens[HQ]
    assert simulator.location_state(SCHOOL)["mdmInfo"] is None  # the other location was not claimed either


def test_takeover_is_refused_then_forced(ansible, simulator):
    simulator.set_mdm_info(HQ, OTHER_MANAGER)
    token = simulator.tokens[HQ]
    run = ansible.play([token_task("hq", "register", token=token)])
    assert run.rc != 0
    message = run.result("register")["msg"]
    assert "'Other MDM'" in message and "force_takeover" in message and "'hq'" in message
    assert stored_tokens(ansible) == []
    assert simulator.location_state(HQ)["mdmInfo"] == OTHER_MANAGER

    run = ansible.play([token_task("hq", "take over", token=token, force_takeover=True)])
    assert run.rc == 0, run.stdout
    result = run.result("take over")
    assert result["actions"] == ["register", "take_over"] and result["token"]["claimed"] is True
    with opened_store(ansible) as store:
        assert simulator.location_state(HQ)["mdmInfo"]["id"] == store.manager_id


def test_a_second_token_of_a_registered_location_is_a_duplicate(ansible, simulator):
    assert ansible.play([token_task("hq", "register", token=simulator.tokens[HQ])]).rc == 0
    before = stored_tokens(ansible)
    second = simulator.issue_token(HQ)
    run = ansible.play([token_task("hq-copy", "register copy", token=second)])
    assert run.rc != 0
    assert "duplicate location: already registered as 'hq'" in run.result("register copy")["msg"]
    assert stored_tokens(ansible) == before


def test_two_jobs_registering_one_location_under_two_names_at_once_store_it_once(ansible, simulator):
    # Each answer takes 2 s: both jobs have read the location's uid, and passed the duplicate check, before
    # either has committed its token (its claim call to Apple runs inside the write transaction).
    simulator.configure(latency_ms=2000)
    tokens = {"hq-a": simulator.tokens[HQ], "hq-b": simulator.issue_token(HQ)}
    plays = [BackgroundPlay(ansible, [token_task(name, "register", token=token)], name)
             for name, token in tokens.items()]  # fmt: skip
    runs = [play.finish() for play in plays]
    assert sorted(run.rc != 0 for run in runs) == [False, True], [run.stdout for run in runs]
    [failed] = [run for run in runs if run.rc != 0]
    assert "duplicate location: already registered as" in failed.result("register")["msg"]
    assert [row["uid"] for row in stored_tokens(ansible)] == [HQ_UID]
    assert len(posts(simulator)) == 1  # only the winner claimed the location


def test_the_3001st_token_is_refused_and_nothing_changes(ansible, simulator):
    expires = datetime.now(UTC) + timedelta(days=300)
    with opened_store(ansible) as store, store.transaction():
        for index in range(MAX_TOKENS):
            store.upsert_token(
                "loc-%04d" % index, parse_content_token(make_stoken("Org %d" % index, expires)), uid=str(index)
            )
    run = ansible.play([token_task("one-more", "register 3001st", token=simulator.tokens[HQ])])
    assert run.rc != 0
    message = run.result("register 3001st")["msg"]
    assert "already holds 3000 tokens" in message and "state: absent" in message
    with opened_store(ansible) as store:
        assert store.count_tokens() == MAX_TOKENS and store.get_token("one-more") is None
    assert simulator.request_log() == []  # refused before asking Apple anything


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def test_malformed_or_expired_token_text_is_refused_before_any_call(ansible, simulator):
    past = make_stoken("Example Corp", datetime.now(UTC) - timedelta(days=2))
    cases = {
        "not base64": ("not base64 !!", "not valid Base64"),
        "not json": (_b64("hello there"), "does not contain JSON"),
        "missing fields": (_b64(json.dumps({"token": "abc"})), "missing or has an empty or non-text field: expDate"),
        "past expDate": (past, "expired on %s" % (datetime.now(UTC) - timedelta(days=2)).date().isoformat()),
    }
    tasks = [refused(token_task("bad", case, token=text)) for case, (text, _expected) in cases.items()]
    tasks.append(refused(token_task("never-registered", "no token for a new name", description="x")))
    create_store(ansible)  # else "no store at ..." (only registering a content token creates one)
    run = ansible.play(tasks)
    for case, (_text, expected) in cases.items():
        assert run.status(case) == "failed"
        assert expected in run.result(case)["msg"], run.result(case)["msg"]
    message = run.result("no token for a new name")["msg"]
    assert "not registered yet, and neither token nor token_file was given" in message
    assert stored_tokens(ansible) == []
    assert simulator.request_log() == []
    assert_no_secret(run, past)


def test_tokens_apple_refuses_are_reported_clearly_and_nothing_is_stored(ansible, simulator):
    simulator.expire_token(SCHOOL)
    simulator.revoke_token(HQ)
    unknown = make_stoken("Nobody", datetime.now(UTC) + timedelta(days=100))
    run = ansible.play(
        [
            refused(token_task("school", "expired at apple", token=simulator.tokens[SCHOOL])),
            refused(token_task("hq", "revoked at apple", token=simulator.tokens[HQ])),
            refused(token_task("ghost", "unknown at apple", token=unknown)),
        ]
    )
    # as Apple's production answers them (Fleet): revoked and unknown tokens with HTTP 200 and the error body
    expected = {
        "expired at apple": (9621, 401, "new content token"),
        "revoked at apple": (9625, 200, "current content token"),
        "unknown at apple": (9622, 200, "whole file"),
    }
    for task, (error_number, http_status, hint) in expected.items():
        result = run.result(task)
        assert run.status(task) == "failed"
        assert result["error_number"] == error_number and result["http_status"] == http_status
        assert hint in result["msg"] and "GET /client/config" in result["msg"]
    expired = run.result("expired at apple")["msg"]
    # said once: Apple's own "Download a new one ..." would repeat the hint
    assert "Apple says the content token has expired (error 9621, HTTP 401): download a new" in expired
    assert expired.lower().count("download") == 1, expired
    assert stored_tokens(ansible) == []
    assert posts(simulator) == []
    assert_no_secret(run, simulator.tokens[SCHOOL], simulator.tokens[HQ], unknown)


def test_delete_with_revoke_releases_the_locations_licenses(ansible, simulator):
    assert ansible.play([token_task("hq", "register", token=simulator.tokens[HQ])]).rc == 0
    run = ansible.play([dict(token_task("hq", "predict", state="absent", revoke_on_delete=True), check_mode=True)])
    predicted = run.result("predict")
    assert predicted["changed"] is True and predicted["actions"] == ["revoke", "delete"]
    assert predicted["revoked"] == {"users": 1, "devices": 1, "licenses": 2, "events": []}
    assert len(simulator.location_state(HQ)["assignments"]) == 3 and stored_tokens(ansible) != []

    run = ansible.play([token_task("hq", "delete", state="absent", revoke_on_delete=True)])
    assert run.rc == 0, run.stdout
    revoked = run.result("delete")["revoked"]
    # users and devices go in separate requests (client.plan_batches): two events
    assert (revoked["users"], revoked["devices"], revoked["licenses"], len(revoked["events"])) == (1, 1, 2, 2)
    state = simulator.location_state(HQ)
    # Pages went back from the device and the user; the book stays (Apple cannot revoke books)
    assert state["assignments"] == [{"adamId": "2000000001", "pricingParam": "STDQ", "clientUserId": "u-1"}]
    pages = next(asset for asset in state["assets"] if asset["adamId"] == PAGES)
    assert pages["assignedCount"] == 0 and pages["availableCount"] == 50
    assert stored_tokens(ansible) == []


def test_metadata_change_shows_a_diff_and_the_secret_never_leaks(ansible, simulator):
    token = simulator.tokens[HQ]
    first = ansible.play(
        [token_task("hq", "register", token=token, description="HQ", categories=["europe"])], diff=True, verbosity=3
    )
    assert first.rc == 0, first.stdout
    run = ansible.play(
        [token_task("hq", "describe", description="HQ and Lyon", categories=["europe", "france"], apple_id="a@b.org")],
        diff=True,
        verbosity=3,
    )
    assert run.rc == 0, run.stdout
    result = run.result("describe")
    assert result["changed"] is True and result["actions"] == ["update"]
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert (before["description"], before["categories"], before["apple_id"]) == ("HQ", ["europe"], None)
    expected = ("HQ and Lyon", ["europe", "france"], "a@b.org")
    assert (after["description"], after["categories"], after["apple_id"]) == expected
    assert {key for key in before if before[key] != after[key]} == {"description", "categories", "apple_id"}
    assert "HQ and Lyon" in run.stdout  # the diff is shown
    assert_no_secret(first, token)
    assert_no_secret(run, token)
    assert len(posts(simulator)) == 1  # a metadata change writes nothing at Apple


def test_token_file_claim_false_and_token_type_check(ansible, simulator):
    token_file = os.path.join(simulator.tokens_dir, HQ + ".vpptoken")
    run = ansible.play(
        [
            refused(token_task("hq", "wrong type", token_file=token_file, token_type="education")),
            token_task("hq", "unclaimed", token_file=token_file, token_type="business", claim=False),
        ]
    )
    message = run.result("wrong type")["msg"]
    assert "declared token_type education, but Apple reports its location as business" in message
    result = run.result("unclaimed")
    assert result["changed"] is True and result["actions"] == ["register"] and result["token"]["claimed"] is False
    assert simulator.location_state(HQ)["mdmInfo"] is None and posts(simulator) == []
    assert [row["name"] for row in stored_tokens(ansible)] == ["hq"]


def test_ansible_doc_renders_both_modules(collections_path, tmp_path):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_HOME=str(tmp_path))
    for module in ("mdm.vpp.vpp_token", "mdm.vpp.vpp_token_info"):
        proc = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "-t", "module", module],
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert "EXAMPLES:" in proc.stdout and "RETURN VALUES:" in proc.stdout and "ERROR" not in proc.stderr


def test_a_failed_revocation_keeps_the_token(ansible, simulator):
    assert ansible.play([token_task("hq", "register", token=simulator.tokens[HQ])]).rc == 0
    before = stored_tokens(ansible)
    simulator.configure(hold_events=True)
    with ThreadPoolExecutor(max_workers=1) as pool:
        play = pool.submit(ansible.play, [token_task("hq", "delete", state="absent", revoke_on_delete=True)])
        # Apple fails each revocation (one for the user, one for the device) once the module has submitted it: keep
        # failing what is pending until the play ends, since the second may be sent after the first has failed
        deadline = time.monotonic() + 120
        failed = []
        while not play.done():
            assert time.monotonic() < deadline, "the play did not end within 120 s"
            failed += simulator.fail_events(9644)
            time.sleep(0.05)  # polling for the submitted events, not a timing assertion
        run = play.result()
    assert len(failed) == 2, run.stdout  # the user's and the device's revocation
    assert run.rc != 0
    message = run.result("delete")["msg"]
    assert "could not revoke the licenses of 2 user(s) or device(s)" in message and "the token was kept" in message
    assert run.result("delete")["error_number"] == 9644
    assert stored_tokens(ansible) == before
    assert len(simulator.location_state(HQ)["assignments"]) == 3
