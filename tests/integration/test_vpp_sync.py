# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mdm.vpp.vpp_sync: real ansible-playbook runs against the simulator, checked at the simulator and in the store.

Tokens are registered with mdm.vpp.vpp_token in the same play as the first sync, except for the 300-token scale
test, which registers them through the store API to keep the play short.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from ansible_collections.mdm.vpp.plugins.module_utils.stoken import parse_content_token
from ansible_collections.mdm.vpp.plugins.module_utils.sync import REASON_COUNTS_DISAGREE, REASON_NEVER_SYNCED
from tests.integration.conftest import ANSIBLE_BIN, Ansible
from tests.integration.token_helpers import assert_no_secret, opened_store
from tests.simulator.scenario import generated_scenario
from tests.simulator.testing import Api, small_scenario
from tests.sync_helpers import api_counts, apple_assignments, store_assignments

LOCATIONS = {"hq": "business-hq", "east": "school-east"}
HQ = LOCATIONS["hq"]
KEYNOTE, PAGES = "1000000002", "1000000001"
NO_CHANGES = {"added": 0, "changed": 0, "removed": 0}


def register_tasks(simulator):
    """vpp_token tasks registering (and claiming) the simulator's locations from their token files."""
    return [
        {
            "name": "register %s" % name,
            "mdm.vpp.vpp_token": {"name": name, "token_file": os.path.join(simulator.tokens_dir, key + ".vpptoken")},
        }
        for name, key in LOCATIONS.items()
    ]


def sync_task(task_name="sync", ignore_errors=False, **options):
    task = {"name": task_name, "mdm.vpp.vpp_sync": options}
    if ignore_errors:
        task["ignore_errors"] = True
    return task


def by_name(result):
    return {token["name"]: token for token in result["tokens"]}


def registered_and_synced(ansible, simulator, **options):
    """Register both locations and sync them in full; return that sync's result."""
    run = ansible.play([*register_tasks(simulator), sync_task(**options)])
    assert run.rc == 0, run.stdout
    return run.result("sync")


def store_picture(ansible, name):
    """Assets (with counts), assignments and users of a token, as comparable sets."""
    with opened_store(ansible) as store:
        assets = {(a["adam_id"], a["assigned_count"], a["available_count"], a["total_count"])
                  for a in store.list_assets(name)}  # fmt: skip
        users = {(u["client_user_id"], u["status"]) for u in store.iter_users(name)}
        assignments = store_assignments(store, name)
    return assets, assignments, users


def apple_picture(simulator, location):
    state = simulator.location_state(location)
    assets = {(a["adamId"], a["assignedCount"], a["availableCount"], a["totalCount"]) for a in state["assets"]}
    # the store keeps one record per clientUserId: the active one wins over retired ones
    users = {}
    for user in state["users"]:
        if user["clientUserId"] not in users or user["status"] in ("Registered", "Associated"):
            users[user["clientUserId"]] = user["status"]
    return assets, apple_assignments(simulator, location), set(users.items())


def database_dump(path):
    """Every row of the SQLite store, to prove that a run wrote nothing."""
    conn = sqlite3.connect(str(path))
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def copy_database(source, destination):
    """Copy a closed SQLite store (every connection closed: its write-ahead log is folded into the file)."""
    assert not os.path.exists(str(source) + "-wal")
    shutil.copy(source, destination)


def change_licenses_at_apple(simulator):
    """Someone else's changes at Apple: a license gained, a license lost, licenses bought, an invitation accepted."""
    api = Api(simulator, simulator.tokens[HQ])
    api.run_event("/assets/associate", {"assets": [{"adamId": KEYNOTE}], "clientUserIds": ["u-2"]})
    api.run_event("/assets/disassociate", {"assets": [{"adamId": PAGES}], "clientUserIds": ["u-1"]})
    simulator.purchase(HQ, PAGES, 5)
    simulator.accept_invitation(HQ, "u-2")


def test_full_sync_imports_every_token(ansible, simulator):
    result = registered_and_synced(ansible, simulator)

    assert result["changed"] is True
    tokens = by_name(result)
    assert list(tokens) == ["east", "hq"]
    hq = tokens["hq"]
    assert (hq["status"], hq["mode"], hq["mode_reason"], hq["token_status"]) == ("ok", "full", "requested", "valid")
    assert hq["assignments"] == {"added": 3, "changed": 0, "removed": 0}
    assert result["totals"]["succeeded"] == 2 and result["totals"]["failed"] == 0
    for name, location in LOCATIONS.items():
        assert store_picture(ansible, name) == apple_picture(simulator, location)
    with opened_store(ansible) as store:
        assert store.get_metadata(KEYNOTE)["name"] == "Keynote"
        assert store.adam_ids_missing_metadata() == []  # looked up by hq or east, whichever came first
        assert store.get_token("hq")["last_full_sync_at"] is not None
    # east's token expires in 10 days: the task says so
    assert any("expires on" in warning for warning in tokens["east"]["warnings"])


def test_a_sync_without_changes_reports_unchanged(ansible, simulator):
    registered_and_synced(ansible, simulator)
    run = ansible.play([sync_task(), sync_task("incremental", mode="incremental")])
    assert run.rc == 0, run.stdout
    for task in ("sync", "incremental"):
        result = run.result(task)
        assert result["changed"] is False
        assert result["totals"]["assignments"] == result["totals"]["users"] == NO_CHANGES
        assert run.status(task) == "ok"


def test_incremental_brings_the_changes_made_at_apple(ansible, simulator):
    registered_and_synced(ansible, simulator)
    api = Api(simulator, simulator.tokens[HQ])
    api.run_event("/assets/associate", {"assets": [{"adamId": KEYNOTE}], "clientUserIds": ["u-2"]})
    simulator.purchase(HQ, PAGES, 5)
    simulator.accept_invitation(HQ, "u-2")
    simulator.clear_request_log()

    run = ansible.play([sync_task(mode="incremental")])

    assert run.rc == 0, run.stdout
    result = run.result("sync")
    hq = by_name(result)["hq"]
    assert (hq["mode"], hq["mode_reason"], hq["changed"]) == ("incremental", "requested", True)
    assert hq["assignments"] == {"added": 1, "changed": 0, "removed": 0}
    assert hq["users"] == {"added": 0, "changed": 1, "removed": 0}
    deltas = {change["adam_id"]: change["delta"] for change in hq["license_count_changes"]}
    assert deltas[PAGES]["total_count"] == 5 and deltas[KEYNOTE]["assigned_count"] == 1
    assert by_name(result)["east"]["changed"] is False
    assert store_picture(ansible, "hq") == apple_picture(simulator, HQ)
    reads = [e for e in simulator.request_log(HQ) if e["path"] in ("/mdm/v2/assignments", "/mdm/v2/users")]
    assert len(reads) == 2 and all("sinceVersionId" in entry["query"] for entry in reads)
    with opened_store(ansible) as store:
        audited = {(e["kind"], e["adam_id"], e["target_id"]) for e in store.iter_audit(run_id=result["run_id"])}
    assert ("assignment_added", KEYNOTE, "u-2") in audited and ("user_changed", None, "u-2") in audited


def test_auto_is_full_when_never_synced_or_older_than_the_interval_and_incremental_otherwise(ansible, simulator):
    first = registered_and_synced(ansible, simulator, mode="auto")
    assert {(t["mode"], t["mode_reason"]) for t in first["tokens"]} == {("full", REASON_NEVER_SYNCED)}

    recent = ansible.play([sync_task(mode="auto")])
    assert {(t["mode"], t["mode_reason"]) for t in recent.result("sync")["tokens"]} == {
        ("incremental", "auto: last full sync 0 days ago")
    }

    with opened_store(ansible) as store:
        store.mark_synced("hq", full=True, at=datetime.now(UTC) - timedelta(days=10))
    aged = ansible.play([sync_task(mode="auto", full_sync_interval_days=7)])
    modes = {t["name"]: (t["mode"], t["mode_reason"]) for t in aged.result("sync")["tokens"]}
    assert modes == {
        "hq": ("full", "auto: last full sync 10 days ago"),
        "east": ("incremental", "auto: last full sync 0 days ago"),
    }
    with opened_store(ansible) as store:
        last_full = datetime.fromisoformat(store.get_token("hq")["last_full_sync_at"])
    assert datetime.now(UTC) - last_full < timedelta(hours=1)


def test_a_revoked_token_fails_the_task_but_the_other_is_synced(ansible, simulator):
    registered_and_synced(ansible, simulator)
    simulator.revoke_token(LOCATIONS["east"])
    simulator.purchase(HQ, PAGES, 5)

    run = ansible.play([sync_task(ignore_errors=True)])

    assert run.status("sync") == "failed"
    result = run.result("sync")
    assert result["msg"].startswith("1 of 2 token(s) failed to sync: east: ")
    assert "9625" in result["msg"] and "download the current content token" in result["msg"]
    tokens = by_name(result)
    assert (tokens["east"]["status"], tokens["east"]["token_status"]) == ("failed", "revoked")
    assert (tokens["hq"]["status"], tokens["hq"]["changed"]) == ("ok", True)
    assert result["changed"] is True  # hq's data did change
    with opened_store(ansible) as store:
        assert store.get_token("east")["status"] == "revoked"
        assert store.get_asset("hq", PAGES)["total_count"] == 55


def test_an_expired_token_is_said_once(ansible, simulator):
    registered_and_synced(ansible, simulator)
    simulator.expire_token(LOCATIONS["east"])

    run = ansible.play([sync_task(ignore_errors=True)])

    message = run.result("sync")["msg"]
    assert message == (
        "1 of 2 token(s) failed to sync: east: GET /client/config: Apple says the content token has expired "
        "(error 9621, HTTP 401): download a new content token from Apple Business or Apple School Manager and run "
        "vpp_token again"
    )
    assert by_name(run.result("sync"))["east"]["token_status"] == "expired"


def test_check_mode_reports_the_drift_and_writes_nothing(ansible, simulator):
    registered_and_synced(ansible, simulator)
    change_licenses_at_apple(simulator)
    simulator.clear_request_log()
    before = database_dump(ansible.store)

    run = ansible.play([sync_task()], check=True, diff=True)

    assert run.rc == 0, run.stdout
    hq = by_name(run.result("sync"))["hq"]
    assert hq["changed"] is True and run.result("sync")["changed"] is True
    assert hq["assignments"] == {"added": 1, "changed": 0, "removed": 1}
    assert hq["users"] == {"added": 0, "changed": 1, "removed": 0}
    diff = run.result("sync")["diff"]
    # apps named by their catalogue name, adamId and pricing, in the diff and in the license count changes
    apps_before, apps_after = diff["before"]["hq"]["apps"], diff["after"]["hq"]["apps"]
    assert apps_before["Keynote (1000000002, STDQ)"] == "0/3 assigned"
    assert apps_after["Keynote (1000000002, STDQ)"] == "1/3 assigned"
    pages = "Pages (1000000001, STDQ)"
    assert (apps_before[pages], apps_after[pages]) == ("2/50 assigned", "1/55 assigned")
    assert "Pages (1000000001, STDQ)" in run.stdout and "1000000002/STDQ" not in run.stdout
    names = {change["adam_id"]: change["name"] for change in hq["license_count_changes"]}
    assert names == {"1000000001": "Pages", "1000000002": "Keynote"}
    assert database_dump(ansible.store) == before
    # nothing was written to Apple either
    assert not [e for e in simulator.request_log() if e["method"] == "POST" and e["path"].startswith("/mdm/v2/")]


def test_after_a_store_restore_auto_converges(ansible, simulator, tmp_path):
    registered_and_synced(ansible, simulator)
    backup = tmp_path / "backup.db"
    copy_database(ansible.store, backup)
    change_licenses_at_apple(simulator)
    assert ansible.play([sync_task()]).rc == 0
    copy_database(backup, ansible.store)  # the restore: versionIds and licenses of before the changes

    run = ansible.play([sync_task(mode="auto")])

    assert run.rc == 0, run.stdout
    hq = by_name(run.result("sync"))["hq"]
    # the stored versionId is still known to Apple, but its delta cannot report the lost license
    assert (hq["mode"], hq["mode_reason"]) == ("full", REASON_COUNTS_DISAGREE)
    assert hq["assignments"] == {"added": 1, "changed": 0, "removed": 1}
    for name, location in LOCATIONS.items():
        assert store_picture(ansible, name) == apple_picture(simulator, location)
    again = ansible.play([sync_task(mode="auto")]).result("sync")
    assert again["changed"] is False
    assert {token["mode"] for token in again["tokens"]} == {"incremental"}


def test_an_incremental_sync_without_changes_costs_one_request_per_endpoint(
    collections_path, simulator_factory, tmp_path
):
    # two records per page: the full sync needs several pages per listing, the delta one
    simulator = simulator_factory(small_scenario(page_size=2))
    ansible = Ansible(tmp_path, collections_path, simulator.url)
    first = registered_and_synced(ansible, simulator)
    assert by_name(first)["hq"]["requests"]["by_endpoint"]["GET /assignments"] == 2
    simulator.clear_request_log()

    run = ansible.play([sync_task(mode="incremental")])

    assert run.rc == 0, run.stdout
    result = run.result("sync")
    expected = {
        "business-hq": {"GET /client/config": 1, "GET /assets": 2, "GET /assignments": 1, "GET /users": 1},
        "school-east": {"GET /client/config": 1, "GET /assets": 1, "GET /assignments": 1, "GET /users": 1},
    }
    for name, location in LOCATIONS.items():
        assert api_counts(simulator, location) == expected[location]
        # the module's own count agrees (the service config is fetched once per run, by whichever token is first)
        counted = dict(by_name(result)[name]["requests"]["by_endpoint"])
        counted.pop("GET /service/config", None)
        assert counted == expected[location]
    assert result["totals"]["requests"]["by_endpoint"]["GET /service/config"] == 1
    assert result["changed"] is False


def test_300_tokens_are_synced_by_one_task_in_parallel(collections_path, simulator_factory, tmp_path):
    simulator = simulator_factory(generated_scenario(locations=300, assets=3, assignments=6, users=3))
    ansible = Ansible(tmp_path, collections_path, simulator.url)
    keys = sorted(simulator.tokens)
    with opened_store(ansible) as store:
        for key in keys:
            store.upsert_token(key, parse_content_token(simulator.tokens[key]))

    full = ansible.play([sync_task(parallel=16)])
    assert full.rc == 0, full.stdout
    assert full.result("sync")["totals"]["succeeded"] == 300
    simulator.clear_request_log()

    run = ansible.play([sync_task(mode="incremental")])  # parallel unset: 64 tokens at once, sharing connections

    assert run.rc == 0, run.stdout
    result = run.result("sync")
    assert result["totals"]["succeeded"] == 300 and result["changed"] is False
    assert {token["mode"] for token in result["tokens"]} == {"incremental"}
    economy = {"GET /client/config": 1, "GET /assets": 1, "GET /assignments": 1, "GET /users": 1}
    per_location = api_counts(simulator)
    assert sorted(per_location) == keys
    assert all(counts == economy for counts in per_location.values())
    # Apple's per-token rate limit held: nothing was throttled
    assert not [entry for entry in simulator.request_log() if entry["status"] == 429]
    with opened_store(ansible) as store:
        assert store_assignments(store, keys[-1]) == apple_assignments(simulator, keys[-1])
        assert all(token["last_sync_at"] for token in store.list_tokens())


def test_ad_hoc_ansible_with_only_the_two_environment_variables(collections_path, simulator, tmp_path):
    store_path = tmp_path / "adhoc" / "vpp.db"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "ANSIBLE_COLLECTIONS_PATH": str(collections_path),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "VPP_STORE": str(store_path),
        "VPP_API_URL": simulator.url,
    }

    def adhoc(module, args):
        command = [str(ANSIBLE_BIN / "ansible"), "localhost", "-m", module, "-a", args]
        return subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)

    token_file = os.path.join(simulator.tokens_dir, HQ + ".vpptoken")
    registered = adhoc("mdm.vpp.vpp_token", "name=hq token_file=%s" % token_file)
    assert registered.returncode == 0, registered.stdout + registered.stderr

    synced = adhoc("mdm.vpp.vpp_sync", "mode=full")

    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert synced.stdout.startswith("localhost | CHANGED => ")
    result = json.loads(synced.stdout.split("=>", 1)[1])
    assert by_name(result)["hq"]["assignments"]["added"] == 3
    assert simulator.tokens[HQ] not in synced.stdout + synced.stderr


def test_results_and_output_never_carry_a_token(ansible, simulator):
    registered_and_synced(ansible, simulator)
    simulator.revoke_token(LOCATIONS["east"])  # a failure message, too, must not carry a token
    run = ansible.play([sync_task(ignore_errors=True)], verbosity=3)
    assert run.status("sync") == "failed"
    assert_no_secret(run, simulator.tokens[HQ], simulator.tokens[LOCATIONS["east"]])


def test_ansible_doc_renders(collections_path):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path))
    proc = subprocess.run(
        [str(ANSIBLE_BIN / "ansible-doc"), "-t", "module", "mdm.vpp.vpp_sync"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for text in ("full_sync_interval_days", "incremental", "EXAMPLES", "mode: auto", "RETURN VALUES"):
        assert text in proc.stdout
    assert "WARNING" not in proc.stderr
