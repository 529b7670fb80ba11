# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How simulated devices answer app commands (§1.3-§1.6; §5 items 12-16), licences from the Apple stand-in."""

from __future__ import annotations

import base64
import plistlib

import pytest

from tests.mdm_simulator.testing import IPAD, IPHONE, MAC, MAC_USER, Client, command
from tests.simulator.testing import Api

PAGES, KEYNOTE, FREE = 1000000001, 1000000002, 1000000009


def report_of(receiver, uuid):
    for event in receiver.events("mdm.Connect"):
        if event["acknowledge_event"].get("command_uuid") == uuid:
            last = plistlib.loads(base64.b64decode(event["acknowledge_event"]["raw_payload"]))
    return last


def run(client, receiver, enrollment_id, request_type, uuid, **keys):
    client.request("PUT", "/v1/enqueue/%s?nopush=1" % enrollment_id, data=command(request_type, uuid, **keys))
    client.connect(enrollment_id)
    return report_of(receiver, uuid)


@pytest.fixture
def licensed(mdm_factory, receiver, simulator):
    """NanoMDM whose devices ask the Apple stand-in (tests/simulator small.yml, location business-hq)."""
    oracle = {"apple_sim_url": simulator.root_url, "location": "business-hq"}
    return Client(mdm_factory(flavor="nanomdm", webhook_url=receiver.url, license_oracle=oracle))


def vpp_install(adam_id, **keys):
    return {"iTunesStoreID": adam_id, "Options": {"PurchaseMethod": 1}, "ManagementFlags": 1, **keys}


def test_unlicensed_install_is_9610_with_apple_stand_in(licensed, receiver, simulator):
    """§5.13: no licence for the serial or the user -> Error 9610 "License not found"; after a real associate
    through the Apple stand-in's API the same install is accepted."""
    report = run(licensed, receiver, IPAD, "InstallApplication", "lic-1", **vpp_install(KEYNOTE))
    assert report["Status"] == "Error"
    assert report["ErrorChain"][0]["ErrorCode"] == 9610
    assert report["ErrorChain"][0]["LocalizedDescription"] == "License not found"
    hq = Api(simulator, simulator.tokens["business-hq"])
    done = hq.run_event("/assets/associate", {"assets": [{"adamId": str(KEYNOTE)}], "serialNumbers": ["DMPXK1ABCDEF"]})
    assert done["eventStatus"] == "COMPLETE"
    report = run(licensed, receiver, IPAD, "InstallApplication", "lic-2", **vpp_install(KEYNOTE))
    assert (report["Status"], report["Identifier"], report["State"]) == ("Acknowledged", "com.apple.iwork.keynote",
                                                                         "Queued")  # fmt: skip


def test_device_and_user_licences(licensed, receiver):
    """§6: Pages is licensed to the iPhone's serial (device) and to u-1, the iPad's user (user licence)."""
    assert (
        run(licensed, receiver, IPHONE, "InstallApplication", "d-1", **vpp_install(PAGES))["Status"] == "Acknowledged"
    )
    assert run(licensed, receiver, IPAD, "InstallApplication", "u-1", **vpp_install(PAGES))["Status"] == "Acknowledged"
    inventory = run(
        licensed, receiver, IPHONE, "InstalledApplicationList", "inv-1", Identifiers=["com.apple.iwork.pages"]
    )
    assert inventory["InstalledApplicationList"][0]["DeviceBasedVPP"] is True


def test_callable_oracle_and_app_already_installed(mdm_factory, receiver):
    """§5.12: a user-installed app answers 12025 AppAlreadyInstalled; a managed one is updated."""
    client = Client(mdm_factory(webhook_url=receiver.url, license_oracle=lambda adam, serial, users: True))
    report = run(client, receiver, IPHONE, "InstallApplication", "ai-1", **vpp_install(FREE))
    assert report["Status"] == "Error"
    assert report["RejectionReason"] == "AppAlreadyInstalled"
    assert report["ErrorChain"][0]["ErrorCode"] == 12025
    assert (
        report["ErrorChain"][0]["USEnglishDescription"]
        == "The app with iTunes Store ID 1000000009 is already installed."
    )
    assert run(client, receiver, IPHONE, "InstallApplication", "ai-2", **vpp_install(PAGES))["Status"] == "Acknowledged"
    assert run(client, receiver, IPHONE, "InstallApplication", "ai-3", **vpp_install(PAGES))["Status"] == "Acknowledged"
    take_over = run(client, receiver, IPHONE, "InstallApplication", "ai-4", ChangeManagementState="Managed",
                    **vpp_install(FREE))  # fmt: skip
    assert take_over["Status"] == "Acknowledged"


def test_remove_application_not_managed(nano, receiver):
    """§5.14: MDMErrorDomain "The app \u201c<id>\u201d is not managed." for unmanaged and absent apps;
    a managed app goes."""
    for uuid, bundle in (("rm-1", "com.example.free"), ("rm-2", "com.example.absent")):
        report = run(nano, receiver, IPHONE, "RemoveApplication", uuid, Identifier=bundle)
        assert report["Status"] == "Error"
        assert report["ErrorChain"][0]["ErrorDomain"] == "MDMErrorDomain"
        assert report["ErrorChain"][0]["USEnglishDescription"] == "The app \u201c%s\u201d is not managed." % bundle
    run(nano, receiver, IPHONE, "InstallApplication", "rm-3", **vpp_install(PAGES))
    assert run(nano, receiver, IPHONE, "RemoveApplication", "rm-4", Identifier="com.apple.iwork.pages")["Status"] == (
        "Acknowledged"
    )
    assert "com.apple.iwork.pages" not in nano.hook("GET", "/device", id=IPHONE)["installed"]


def test_managed_application_list_transients(mdm_factory, receiver):
    """§5.15 / §1.6: a dict keyed by bundle id; Failed is reported once, then the key vanishes."""
    device = {"udid": IPHONE, "serial": "S1", "install_results": {"com.example.notes": "Failed"}}
    scenario = {"apps": {str(PAGES): "com.apple.iwork.pages", "361309726": "com.example.notes"}, "devices": [device]}
    client = Client(mdm_factory(scenario, webhook_url=receiver.url))
    run(client, receiver, IPHONE, "InstallApplication", "t-1", **vpp_install(PAGES))
    run(client, receiver, IPHONE, "InstallApplication", "t-2", **vpp_install(361309726))
    first = run(client, receiver, IPHONE, "ManagedApplicationList", "t-3")["ManagedApplicationList"]
    assert {bundle: app["Status"] for bundle, app in first.items()} == {
        "com.apple.iwork.pages": "Managed",
        "com.example.notes": "Failed",
    }
    assert first["com.apple.iwork.pages"]["ManagementFlags"] == 1
    second = run(client, receiver, IPHONE, "ManagedApplicationList", "t-4")["ManagedApplicationList"]
    assert list(second) == ["com.apple.iwork.pages"]


def test_platform_rules(nano, receiver):
    """§5.16: InstallAsManaged / iOSApp only on macOS 11+; RemoveApplication not on the macOS user channel;
    ManagementFlags 1/4/5; macOS RejectionReason is Other. RemoveApplication on iOS is allowed (iOS 5.0+)."""
    ios = run(nano, receiver, IPHONE, "InstallApplication", "p-1", **vpp_install(PAGES, InstallAsManaged=True))
    assert ios["Status"] == "CommandFormatError"
    assert (
        run(nano, receiver, IPHONE, "InstallApplication", "p-2", **vpp_install(PAGES, ManagementFlags=2))["Status"]
        == "CommandFormatError"
    )
    mac = run(nano, receiver, MAC, "InstallApplication", "p-3", **vpp_install(PAGES, InstallAsManaged=True))
    assert mac["Status"] == "Acknowledged"
    channel = "%s:%s" % (MAC, MAC_USER)
    assert (
        run(nano, receiver, channel, "RemoveApplication", "p-4", Identifier="com.apple.iwork.pages")["Status"]
        == "CommandFormatError"
    )
    assert run(nano, receiver, MAC, "RemoveApplication", "p-5", Identifier="com.apple.iwork.pages")["Status"] == (
        "Acknowledged"
    )
    nano.hook("POST", "/devices/user_install", {"id": MAC, "bundle_id": "com.apple.iwork.keynote"})
    again = run(nano, receiver, MAC, "InstallApplication", "p-6", **vpp_install(KEYNOTE, InstallAsManaged=True))
    assert again["RejectionReason"] == "Other"
    run(nano, receiver, IPHONE, "InstallApplication", "p-7", **vpp_install(PAGES))
    assert run(nano, receiver, IPHONE, "RemoveApplication", "p-8", Identifier="com.apple.iwork.pages")["Status"] == (
        "Acknowledged"
    )
