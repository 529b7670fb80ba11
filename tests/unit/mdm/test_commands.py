# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MDM commands and DDM declarations the collection sends, as the reference spells them."""

from __future__ import annotations

import plistlib
import uuid

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils import mdm_commands as commands


def test_a_command_uuid_is_a_fresh_uuid4():
    first, second = commands.new_command_uuid(), commands.new_command_uuid()
    assert first != second
    assert uuid.UUID(first).version == 4


def test_install_application_uses_the_license_and_the_flags():
    assert commands.install_application("u-1", "361309726") == {
        "CommandUUID": "u-1",
        "Command": {
            "RequestType": "InstallApplication",
            "iTunesStoreID": 361309726,
            "Options": {"PurchaseMethod": 1},
            "ManagementFlags": 1,
        },
    }


def test_install_as_managed_only_on_a_mac():
    assert "InstallAsManaged" not in commands.install_application("u", 1, mac=False)["Command"]
    assert commands.install_application("u", 1, mac=True)["Command"]["InstallAsManaged"] is True


@pytest.mark.parametrize("flags", [4, 5])
def test_apple_management_flags_are_sent(flags):
    assert commands.install_application("u", 1, management_flags=flags)["Command"]["ManagementFlags"] == flags


def test_no_management_flags_means_none_sent():
    assert "ManagementFlags" not in commands.install_application("u", 1, management_flags=0)["Command"]


@pytest.mark.parametrize("flags", [2, 3, 6, -1, "1"])
def test_other_management_flags_are_refused(flags):
    with pytest.raises(ValueError, match="ManagementFlags"):
        commands.install_application("u", 1, management_flags=flags)


def test_remove_application_names_the_bundle_id():
    assert commands.remove_application("rm-1", "com.example.notes") == {
        "CommandUUID": "rm-1",
        "Command": {"RequestType": "RemoveApplication", "Identifier": "com.example.notes"},
    }
    with pytest.raises(ValueError):
        commands.remove_application("rm-1", "")


def test_the_plist_body_reads_back_as_the_command():
    command = commands.install_application("u-2", 497799835, mac=True)
    body = commands.command_plist(command)
    assert body.startswith(b"<?xml")
    assert plistlib.loads(body) == command


def test_a_command_without_its_envelope_is_not_sent():
    with pytest.raises(ValueError):
        commands.command_plist({"Command": {"RequestType": "InstallApplication"}})
    with pytest.raises(ValueError):
        commands.command_plist({"CommandUUID": "x", "Command": {}})


def test_the_app_declaration_has_a_string_store_id_and_the_license_kind():
    assert commands.app_declaration(361309726, "device") == {
        "Identifier": "mdm.vpp.app.361309726.device",
        "Type": "com.apple.configuration.app.managed",
        "Payload": {
            "AppStoreID": "361309726",
            "InstallBehavior": {"Install": "Required", "License": {"Assignment": "Device"}},
        },
    }
    user = commands.app_declaration("361309726", "user")
    assert user["Identifier"] == "mdm.vpp.app.361309726.user"
    assert user["Payload"]["InstallBehavior"]["License"] == {"Assignment": "User"}


def test_an_unknown_license_type_is_refused():
    with pytest.raises(ValueError):
        commands.app_declaration_id(1, "school")


def test_the_activation_names_the_app_and_the_status_subscription():
    subscription = commands.status_subscription_declaration()
    assert subscription["Type"] == "com.apple.configuration.management.status-subscriptions"
    assert subscription["Payload"] == {"StatusItems": [{"Name": "app.managed.list"}]}
    activation = commands.activation_declaration(361309726, "device")
    assert activation["Type"] == "com.apple.activation.simple"
    assert activation["Payload"]["StandardConfigurations"] == [
        "mdm.vpp.app.361309726.device",
        subscription["Identifier"],
    ]
    assert activation["Identifier"] not in activation["Payload"]["StandardConfigurations"]


def test_the_set_name_is_per_app_and_license_type():
    assert commands.app_set_name(1, "device") != commands.app_set_name(1, "user")
    assert commands.app_set_name(1, "device") != commands.app_set_name(2, "device")
