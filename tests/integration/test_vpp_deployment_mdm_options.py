# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mdm.vpp.vpp_deployment's MDM options (issue 16): install_via license leaves the MDM alone, check mode and diff
show the commands that would go and send nothing, partial MDM options fail before anything is sent, a wrong API
key fails clearly and never shows up, and the next run with the right key sends what was held back."""

from __future__ import annotations

import pytest

from tests.integration.deployment_helpers import PAGES, apple_holders, deploy, member_states, write_calls
from tests.integration.mdm_helpers import (
    API_KEY,
    IPAD,
    IPHONE,
    MAC,
    MDMStack,
    assert_no_key,
    enqueued,
    info_task,
    members_of,
)

MDM_ENV = ("VPP_MDM_TYPE", "VPP_MDM_URL", "VPP_MDM_API_KEY")


@pytest.fixture
def stack(simulator_factory, tmp_path, collections_path):
    started = MDMStack(simulator_factory, tmp_path, collections_path)
    yield started
    started.stop()


def test_check_mode_and_diff_show_the_commands_and_send_nothing(stack):
    members = [IPHONE, IPAD, MAC]
    run = stack.play([deploy("predict", "pages-ipads", "device", members)], check=True, diff=True, verbosity=3)
    assert_no_key(run)
    result = run.result("predict")
    assert result["changed"] is True
    mdm = result["diff"]["after"]["mdm"]
    assert mdm["install_via"] == "command"
    serials = sorted(d["serial"] for d in members)
    assert mdm["InstallApplication"] == {"members": 3, "first": serials, "requests": 2}  # the Mac's apart
    assert mdm["RemoveApplication"]["members"] == 0
    assert result["plan"]["mdm"]["install"] == mdm["InstallApplication"]
    assert "InstallApplication" in run.stdout and MAC["serial"] in run.stdout  # the diff shown to the user
    assert member_states(stack.runner, "pages-ipads") is None  # nothing in the store
    assert write_calls(stack.sim) == [] and stack.mdm.request_log() == []

    # after the real run and the devices' answers, check mode predicts nothing more
    stack.play([deploy("deploy", "pages-ipads", "device", members)])
    stack.connect()
    stack.mdm.clear_request_log()
    stack.sim.clear_request_log()
    run = stack.play([deploy("again", "pages-ipads", "device", members)], check=True, diff=True)
    again = run.result("again")
    assert again["changed"] is False and again["plan"]["mdm"]["install"]["members"] == 0
    assert write_calls(stack.sim) == [] and stack.mdm.request_log() == []

    # install_via: license with an MDM configured assigns the license and sends nothing to the MDM
    other = {"serial": "C02LICENSE01", "enrollment_id": "00008030-00000000LICENSE1"}
    run = stack.play([deploy("licenses", "pages-licenses", "device", [other], install_via="license")])
    result = run.result("licenses")
    assert result["licensed"] == [other["serial"]] and "mdm" not in result
    assert ("device", other["serial"]) in apple_holders(stack.sim, PAGES)
    assert stack.mdm.request_log() == []


def test_bad_mdm_options_fail_clearly_and_the_next_good_run_sends_the_install(stack):
    # mdm_type without mdm_url, or without mdm_api_key: refused before anything is sent
    saved = {name: stack.runner.env.pop(name) for name in MDM_ENV}
    task = deploy("deploy", "pages-ipads", "device", [IPAD], ignore_errors=True, mdm_type="nanomdm")
    run = stack.runner.play(
        [
            task,
            dict(
                task,
                name="no key",
                **{"mdm.vpp.vpp_deployment": dict(task["mdm.vpp.vpp_deployment"], mdm_url=stack.mdm.url)},
            ),
        ]
    )
    assert_no_key(run)
    for name, missing in (("deploy", "mdm_url"), ("no key", "mdm_api_key")):
        assert run.status(name) == "failed"
        message = run.result(name)["msg"]
        assert missing in message and "mdm_type" in message, message
    assert stack.sim.request_log() == [] and stack.mdm.request_log() == []
    assert member_states(stack.runner, "pages-ipads") is None
    stack.runner.env.update(saved)

    # a wrong API key: NanoMDM answers 401; the license step is done, the install is held back
    wrong = "wrong-api-key-0b9e1d"
    run = stack.runner.play(
        [deploy("deploy", "pages-ipads", "device", [IPAD], ignore_errors=True)],
        env={"VPP_MDM_API_KEY": wrong},
        verbosity=3,
    )
    assert_no_key(run)
    assert wrong not in run.stdout + run.stderr + repr(run.results)
    assert run.status("deploy") == "failed"
    message = run.result("deploy")["msg"]
    assert "401" in message and "mdm_api_key" in message and "VPP_MDM_API_KEY" in message, message
    assert [entry["status"] for entry in stack.mdm.request_log()] == [401]
    assert stack.mdm.connect([IPAD["enrollment_id"]]) == []  # nothing queued for the device

    # with the right key the same run sends the install held back
    run = stack.play([deploy("deploy", "pages-ipads", "device", [IPAD]), info_task("info", "pages-ipads")])
    assert run.result("deploy")["mdm"]["sent"] == [IPAD["serial"]]
    assert members_of(run, "info")[IPAD["serial"]]["install_state"] == "sent"
    refused, accepted = enqueued(stack.mdm.request_log(), "/v1/enqueue/")
    assert stack.mdm.request_log()[-1]["status"] == 200
    assert refused[1]["CommandUUID"] == accepted[1]["CommandUUID"]  # the command held back, sent as it was
    assert API_KEY not in repr(stack.events.events)
