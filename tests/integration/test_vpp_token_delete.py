# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mdm.vpp.vpp_token state=absent with applications and deployments depending on the token: refused unless force,
check mode and diff name what goes, a forced delete warns what it leaves assigned at Apple."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Ansible
from tests.integration.deployment_helpers import (
    PAGES,
    TOKEN,
    apple_holders,
    deploy,
    deployment_scenario,
    played,
    setup_tasks,
    write_calls,
)
from tests.integration.token_helpers import assert_no_secret, opened_store, refused, token_task

SERIALS = ["SN-D1", "SN-D2", "SN-D3"]


@pytest.fixture
def sim(simulator_factory):
    return simulator_factory(deployment_scenario())


@pytest.fixture
def runner(tmp_path, collections_path, sim):
    return Ansible(tmp_path, collections_path, sim.url)


def _deployed(runner, sim):
    played(runner, [*setup_tasks(sim, ("pages", "keynote")), deploy("deploy", "pages-ipads", "device", SERIALS)])
    return {holder for holder in apple_holders(sim, PAGES) if holder[1] in SERIALS}


def test_deleting_a_token_with_deployments_is_refused_and_changes_nothing(runner, sim):
    held = _deployed(runner, sim)
    assert len(held) == 3
    writes = len(write_calls(sim))
    run = runner.play(
        [
            refused(dict(token_task(TOKEN, "predict", state="absent"), check_mode=True)),
            refused(token_task(TOKEN, "delete", state="absent")),
            refused(token_task(TOKEN, "delete and revoke", state="absent", revoke_on_delete=True)),
        ]
    )
    for task in ("predict", "delete", "delete and revoke"):
        assert run.status(task) == "failed", task
        message = run.result(task)["msg"]
        assert "token 'hq' is used by 2 application(s) (keynote, pages)" in message, message
        assert "1 deployment(s) (pages-ipads (install of pages, 3 member(s), 3 licensed))" in message, message
        assert "uninstall deployment" in message and "force: true" in message, message
    assert "stay assigned at Apple unless revoke_on_delete" in run.result("delete")["msg"]
    assert "takes every revocable license of the location back" in run.result("delete and revoke")["msg"]
    with opened_store(runner) as store:
        assert store.get_token(TOKEN) is not None
        assert [d["name"] for d in store.list_deployments()] == ["pages-ipads"]
    assert len(write_calls(sim)) == writes  # nothing revoked
    assert_no_secret(run, sim.tokens["business-hq"])


def test_forced_delete_predicts_names_what_goes_and_leaves_licenses_at_apple(runner, sim):
    held = _deployed(runner, sim)
    writes = len(write_calls(sim))
    forced = token_task(TOKEN, "forced", state="absent", force=True)
    run = played(runner, [dict(forced, name="predict", check_mode=True)], diff=True)
    predicted = run.result("predict")
    removed = {
        "applications": ["keynote", "pages"],
        "deployments": [
            {"name": "pages-ipads", "application": "pages", "action": "install", "members": 3, "licensed": 3}
        ],
        "synced_assets": 5,
    }
    assert predicted["changed"] is True and predicted["actions"] == ["delete"]
    assert predicted["removed"] == removed
    before = predicted["diff"]["before"]
    assert before["name"] == TOKEN and before["fingerprint"] and predicted["diff"]["after"] == {}
    assert {key: before[key] for key in removed} == removed
    assert "would delete 2 application(s)" in " ".join(predicted["warnings"])
    with opened_store(runner) as store:
        assert store.get_token(TOKEN) is not None  # check mode wrote nothing

    run = played(runner, [forced, dict(forced, name="forced again")])
    result = run.result("forced")
    assert result["changed"] is True and result["removed"] == removed
    warning = " ".join(result["warnings"])
    assert "deleted 2 application(s) (keynote, pages) and 1 deployment(s)" in warning
    assert "stay assigned at Apple" in warning
    again = run.result("forced again")
    assert again["changed"] is False and again["token"] is None and "removed" not in again
    with opened_store(runner) as store:
        assert store.get_token(TOKEN) is None and store.list_applications() == []
        assert store.list_deployments() == []
    assert len(write_calls(sim)) == writes  # nothing sent to Apple: the licenses stay assigned
    assert held <= apple_holders(sim, PAGES)


def test_a_token_without_applications_is_deleted_without_force(runner, sim):
    played(runner, setup_tasks(sim, ()))
    run = played(runner, [token_task(TOKEN, "delete", state="absent")], diff=True)
    result = run.result("delete")
    assert result["changed"] is True and result["removed"]["applications"] == []
    assert result["removed"]["synced_assets"] == 5 and not result.get("warnings")


def test_the_vpp_token_role_removes_a_token_with_applications_only_when_the_item_says_force(runner, sim):
    _deployed(runner, sim)

    def role(**item):
        tokens = [dict(item, name=TOKEN, state="absent")]
        return {
            "name": "role",
            "ansible.builtin.include_role": {"name": "mdm.vpp.vpp_token"},
            "vars": {"vpp_token_tokens": tokens, "vpp_token_check": False},
        }

    refused_run = runner.play([role()])
    assert refused_run.rc != 0
    assert "is used by 2 application(s) (keynote, pages)" in refused_run.stdout
    with opened_store(runner) as store:
        assert store.get_token(TOKEN) is not None

    forced_run = played(runner, [role(force=True)])
    assert "hq: delete" in forced_run.stdout
    with opened_store(runner) as store:
        assert store.get_token(TOKEN) is None and store.list_applications() == []
