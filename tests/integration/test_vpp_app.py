# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mdm.vpp.vpp_app: real ansible-playbook runs against the simulator, checked in the store.

Each test registers and syncs both locations of ``app_scenario()`` in the first tasks of its first play.
"""

from __future__ import annotations

import pytest

from tests.integration.app_helpers import (
    FINAL_CUT,
    KEYNOTE,
    PAGES,
    app_scenario,
    app_task,
    info_task,
    played,
    setup_tasks,
    stored_applications,
)
from tests.integration.conftest import Ansible
from tests.integration.token_helpers import opened_store

WRITE_PATHS = ("/mdm/v2/assets/associate", "/mdm/v2/assets/disassociate", "/mdm/v2/assets/revoke")


@pytest.fixture
def sim(simulator_factory):
    return simulator_factory(app_scenario())


@pytest.fixture
def runner(tmp_path, collections_path, sim):
    return Ansible(tmp_path, collections_path, sim.url)


def test_idempotency_sequence(runner, sim):
    keynote = {"token": "hq", "adam_id": KEYNOTE, "description": "Slides"}
    first = played(runner, [*setup_tasks(sim), app_task("check create", check_mode=True, **keynote)])
    predicted = first.result("check create")
    assert predicted["changed"] is True
    assert predicted["application"]["name"] == "Keynote (hq)" and predicted["application"]["created_at"] is None
    assert stored_applications(runner) == {}, "check mode wrote to the store"

    run = played(runner, [app_task("create", **keynote), app_task("again", **keynote),
                          app_task("check again", check_mode=True, **keynote)])  # fmt: skip
    created = run.result("create")
    assert created["changed"] is True
    assert {
        key: created["application"][key] for key in ("name", "token", "adam_id", "pricing_param", "description")
    } == {"name": "Keynote (hq)", "token": "hq", "adam_id": KEYNOTE, "pricing_param": "STDQ", "description": "Slides"}
    assert (created["app"]["name"], created["app"]["total"], created["app"]["application"]) == (
        "Keynote", 3, "Keynote (hq)",
    )  # fmt: skip
    assert run.result("again")["changed"] is False and run.result("check again")["changed"] is False
    assert run.result("again")["application"] == created["application"]
    assert stored_applications(runner) == {"Keynote (hq)": ("hq", KEYNOTE, "STDQ", "Slides", [])}

    gone = played(runner, [app_task("absent", state="absent", **keynote),
                           app_task("absent again", state="absent", **keynote)])  # fmt: skip
    assert gone.result("absent")["changed"] is True
    assert gone.result("absent")["application"]["name"] == "Keynote (hq)"
    assert gone.result("absent again")["changed"] is False and gone.result("absent again")["application"] is None
    assert stored_applications(runner) == {}
    assert not [entry for entry in sim.request_log() if entry["path"] in WRITE_PATHS]


def test_the_same_app_under_two_tokens_is_two_applications(runner, sim):
    run = played(runner, [
        *setup_tasks(sim),
        app_task("hq pages", token="hq", adam_id=PAGES),
        app_task("east pages", token="east", adam_id=PAGES),
        info_task("listed", adam_id=PAGES),
    ])  # fmt: skip

    assert run.result("hq pages")["application"]["name"] == "Pages (hq)"
    assert run.result("east pages")["application"]["name"] == "Pages (east)"
    assert stored_applications(runner) == {
        "Pages (hq)": ("hq", PAGES, "STDQ", None, []),
        "Pages (east)": ("east", PAGES, "STDQ", None, []),
    }
    assert [(app["token"], app["pricing_param"], app["application"]) for app in run.result("listed")["apps"]] == [
        ("east", "STDQ", "Pages (east)"), ("hq", "PLUS", None), ("hq", "STDQ", "Pages (hq)"),
    ]  # fmt: skip


def test_an_app_the_token_does_not_license_is_refused_and_nothing_is_written(runner, sim):
    run = played(runner, [
        *setup_tasks(sim),
        app_task("unknown", ignore_errors=True, token="hq", adam_id="1999999999", name="Ghost"),
        app_task("not at east", ignore_errors=True, token="east", adam_id=KEYNOTE),
        app_task("unknown token", ignore_errors=True, token="west", adam_id=PAGES),
        app_task("absent from unknown token", token="west", adam_id=PAGES, state="absent"),
    ])  # fmt: skip

    assert run.status("unknown") == "failed"
    message = run.result("unknown")["msg"]
    assert "token 'hq' does not license app 1999999999 (STDQ): it is not among the apps synced for that token" in (
        message
    )
    assert "run mdm.vpp.vpp_sync for token hq" in message and "check the adamId" in message
    assert "token 'east' does not license app %s" % KEYNOTE in run.result("not at east")["msg"]
    assert "token 'west' is not registered" in run.result("unknown token")["msg"]
    gone = run.result("absent from unknown token")  # a deleted token took its applications with it
    assert (gone["changed"], gone["application"]) == (False, None)
    assert stored_applications(runner) == {}


def test_name_based_lookup_unique_and_ambiguous(runner, sim):
    run = played(runner, [
        *setup_tasks(sim),
        app_task("unique", token="hq", app_name="final cut pro"),
        app_task("ambiguous", ignore_errors=True, token="hq", app_name="Pages"),
        app_task("narrowed", token="hq", app_name="Pages", pricing_param="PLUS"),
        app_task("misspelt", ignore_errors=True, token="hq", app_name="Keynot"),
    ])  # fmt: skip

    assert run.result("unique")["application"]["adam_id"] == FINAL_CUT
    assert run.status("ambiguous") == "failed"
    assert (
        "app name 'Pages' is ambiguous in token 'hq': \"Pages\" (adamId %s, PLUS), \"Pages\" (adamId %s, STDQ)"
        % (PAGES, PAGES)
    ) in run.result("ambiguous")["msg"]
    assert "give adam_id (and pricing_param) instead of app_name" in run.result("ambiguous")["msg"]
    assert 'similar names: "Keynote" (adamId %s, STDQ)' % KEYNOTE in run.result("misspelt")["msg"]
    assert stored_applications(runner) == {
        "Final Cut Pro (hq)": ("hq", FINAL_CUT, "STDQ", None, []),
        "Pages (hq)": ("hq", PAGES, "PLUS", None, []),
    }


def test_diff_on_description_change_and_rename(runner, sim):
    pages = {"token": "hq", "adam_id": PAGES, "pricing_param": "STDQ"}
    played(runner, [*setup_tasks(sim), app_task("create", description="Word processor", categories=["office"],
                                                **pages)])  # fmt: skip

    run = runner.play([app_task("describe", description="Documents", **pages),
                       app_task("rename", name="Pages for HQ", **pages),
                       app_task("taken", ignore_errors=True, token="east", adam_id=PAGES, name="Pages for HQ")],
                      diff=True)  # fmt: skip

    assert run.rc == 0, run.stdout
    described = run.result("describe")
    assert described["changed"] is True
    assert described["diff"]["before"]["description"] == "Word processor"
    assert described["diff"]["after"] == dict(described["diff"]["before"], description="Documents")
    renamed = run.result("rename")
    assert (renamed["diff"]["before"]["name"], renamed["diff"]["after"]["name"]) == ("Pages (hq)", "Pages for HQ")
    assert "already used by the application of app %s (STDQ) of token 'hq'" % PAGES in run.result("taken")["msg"]
    assert stored_applications(runner) == {"Pages for HQ": ("hq", PAGES, "STDQ", "Documents", ["office"])}


def test_absent_with_deployments_is_refused_unless_forced(runner, sim):
    pages = {"token": "hq", "adam_id": PAGES, "pricing_param": "STDQ"}
    played(runner, [*setup_tasks(sim), app_task("create", **pages)])
    with opened_store(runner) as store:  # the deployment module's records, written through the store API
        store.upsert_deployment("pages-ipads", application="Pages (hq)", collection_name="iPads",
                                collection_type="device", action="install", purpose="required")  # fmt: skip
        store.upsert_members("pages-ipads", [{"member_id": "C02XK0AAJG5H", "state": "licensed"}])
    sim.clear_request_log()

    run = played(runner, [
        app_task("refused", ignore_errors=True, state="absent", **pages),
        app_task("forced check", check_mode=True, state="absent", force=True, **pages),
        app_task("forced", state="absent", force=True, **pages),
    ])  # fmt: skip

    refused = run.result("refused")["msg"]
    assert "application 'Pages (hq)' has 1 deployment(s): pages-ipads: remove its deployments first" in refused
    assert run.result("forced check")["changed"] is True
    forced = run.result("forced")
    assert forced["forgotten_deployments"] == ["pages-ipads"]
    assert any("no license was reclaimed" in warning for warning in forced["warnings"])
    assert (forced["app"]["application"], forced["app"]["deployed"]) == (None, 0)
    with opened_store(runner) as store:
        assert store.list_applications() == [] and store.get_deployment("pages-ipads") is None
    # the license stays with the device at Apple: nothing was sent
    assert not [entry for entry in sim.request_log() if entry["method"] == "POST"]
    assert any(a.get("serialNumber") == "C02XK0AAJG5H" for a in sim.location_state("business-hq")["assignments"])
