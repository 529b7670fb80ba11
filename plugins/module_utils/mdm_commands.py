# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection asks an MDM server to do, as data: the MDM commands and the DDM declarations (pure).

Commands follow Apple's ``InstallApplication`` / ``RemoveApplication`` (§1.1, §1.3, §1.4 of
``mdm-servers-api.md``); declarations follow ``com.apple.configuration.app.managed``, the status subscription and
the simple activation KMFDDM serves (§1.7, §4.3).
"""

from __future__ import annotations

import plistlib
import uuid

from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import DEVICE, LICENSE_TYPES, USER

INSTALL_APPLICATION = "InstallApplication"
REMOVE_APPLICATION = "RemoveApplication"
# Apple's rangelist of ManagementFlags: 1 remove with the MDM profile, 4 no backup, 5 both; 0 (neither) is sent
# as no ManagementFlags at all.
MANAGEMENT_FLAGS = (0, 1, 4, 5)
VPP_PURCHASE_METHOD = 1  # "Volume Purchase Program (VPP) app assignment": an Apps and Books license

APP_MANAGED = "com.apple.configuration.app.managed"
STATUS_SUBSCRIPTIONS = "com.apple.configuration.management.status-subscriptions"
SIMPLE_ACTIVATION = "com.apple.activation.simple"
APP_STATUS_ITEM = "app.managed.list"
DECLARATION_PREFIX = "mdm.vpp."
STATUS_SUBSCRIPTION_ID = DECLARATION_PREFIX + "status.apps"
LICENSE_ASSIGNMENTS = {DEVICE: "Device", USER: "User"}


def new_command_uuid():
    """A fresh command UUID (kept with the member before sending, so a rerun re-sends the same one)."""
    return str(uuid.uuid4())


def install_application(command_uuid, adam_id, management_flags=1, mac=False):
    """``InstallApplication`` of an App Store app with its Apps and Books license (``PurchaseMethod`` 1).

    ``InstallAsManaged`` is macOS-only (macOS 11+): without it a Mac reinstall turns a managed app unmanaged.
    """
    if management_flags not in MANAGEMENT_FLAGS:
        raise ValueError(
            "ManagementFlags must be one of %s, not %r" % (", ".join(map(str, MANAGEMENT_FLAGS)), management_flags)
        )
    command = {
        "RequestType": INSTALL_APPLICATION,
        "iTunesStoreID": int(adam_id),
        "Options": {"PurchaseMethod": VPP_PURCHASE_METHOD},
    }
    if management_flags:
        command["ManagementFlags"] = management_flags
    if mac:
        command["InstallAsManaged"] = True
    return {"CommandUUID": str(command_uuid), "Command": command}


def remove_application(command_uuid, bundle_id):
    """``RemoveApplication`` of the managed app ``bundle_id``."""
    if not bundle_id:
        raise ValueError("RemoveApplication needs the app's bundle id")
    return {"CommandUUID": str(command_uuid), "Command": {"RequestType": REMOVE_APPLICATION, "Identifier": bundle_id}}


def command_plist(command):
    """The XML plist body of a command, as NanoMDM's enqueue and MicroMDM's raw endpoint take it."""
    if not command.get("CommandUUID") or not command.get("Command", {}).get("RequestType"):
        raise ValueError("a command needs a CommandUUID and a Command with a RequestType")
    return plistlib.dumps(command, fmt=plistlib.FMT_XML, sort_keys=True)


def check_license_type(license_type):
    if license_type not in LICENSE_TYPES:
        raise ValueError("license type must be one of %s, not %r" % (", ".join(LICENSE_TYPES), license_type))
    return license_type


def app_declaration_id(adam_id, license_type):
    """The identifier of the app's declaration: ``mdm.vpp.app.<adamId>.<device|user>``."""
    return "%sapp.%s.%s" % (DECLARATION_PREFIX, int(adam_id), check_license_type(license_type))


def app_declaration(adam_id, license_type):
    """``com.apple.configuration.app.managed`` installing the app (required) with a device or user license."""
    return {
        "Identifier": app_declaration_id(adam_id, license_type),
        "Type": APP_MANAGED,
        "Payload": {
            "AppStoreID": str(int(adam_id)),  # a string in the declaration, unlike iTunesStoreID
            "InstallBehavior": {"Install": "Required", "License": {"Assignment": LICENSE_ASSIGNMENTS[license_type]}},
        },
    }


def status_subscription_declaration():
    """The status subscription that makes devices report ``app.managed.list``."""
    return {
        "Identifier": STATUS_SUBSCRIPTION_ID,
        "Type": STATUS_SUBSCRIPTIONS,
        "Payload": {"StatusItems": [{"Name": APP_STATUS_ITEM}]},
    }


def activation_declaration(adam_id, license_type):
    """``com.apple.activation.simple`` activating the app's declaration and the status subscription."""
    return {
        "Identifier": "%sactivation.%s.%s" % (DECLARATION_PREFIX, int(adam_id), check_license_type(license_type)),
        "Type": SIMPLE_ACTIVATION,
        "Payload": {"StandardConfigurations": [app_declaration_id(adam_id, license_type), STATUS_SUBSCRIPTION_ID]},
    }


def app_set_name(adam_id, license_type):
    """The KMFDDM set holding the app's declarations: ``mdm.vpp.app.<adamId>.<device|user>``."""
    return app_declaration_id(adam_id, license_type)
