# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a simulated device answers one MDM command: its script first, then Apple's rules for apps (§1.3-§1.6, §5)."""

from __future__ import annotations

from .model import NOT_NOW

# §1.6: these statuses are reported once, then the entry disappears from ManagedApplicationList.
TRANSIENT_STATES = ("UserInstalledApp", "UserRejected", "UpdateRejected", "ManagementRejected", "Failed")
MANAGEMENT_FLAGS = (0, 1, 4, 5)  # §1.3 rangelist 1, 4, 5 (0 = none)
# [assume] ErrorDomain of 9610 and 12025 is not in any source (§7); the integer of "is not managed" neither.
LICENSE_ERROR = {"ErrorCode": 9610, "ErrorDomain": "ASDErrorDomain", "text": "License not found"}
ALREADY_INSTALLED_CODE, ALREADY_INSTALLED_DOMAIN = 12025, "MCMDMErrorDomain"
NOT_MANAGED_CODE, NOT_MANAGED_DOMAIN = 12026, "MDMErrorDomain"


def error_chain(code, domain, text):
    return [{"ErrorCode": int(code), "ErrorDomain": domain, "LocalizedDescription": text, "USEnglishDescription": text}]


def error(code, domain, text, **extra):
    return {"Status": "Error", "ErrorChain": error_chain(code, domain, text), **extra}


def format_error():
    return {"Status": "CommandFormatError"}


def script_item(item):
    """Normalise a scenario ``answers`` item to a dict with ``kind``."""
    if isinstance(item, str):
        return {"kind": item}
    item = dict(item)
    item["kind"] = item.pop("kind", None) or item.pop("status", None) or next(iter(item))
    return item


def answer(sim, enrollment, queued, session):
    """The result fields (``Status`` and response keys) the device sends for ``queued`` in session ``session``."""
    device = enrollment.device
    if queued.uuid in device.deferred:
        if device.deferred[queued.uuid] == session:
            return {"Status": NOT_NOW}  # still busy in this connection
        del device.deferred[queued.uuid]  # §5.9: on a later connection it answers normally
        return natural(sim, enrollment, queued.command)
    item = script_item(device.answers.pop(0)) if device.answers else {"kind": "acknowledged"}
    kind = item["kind"]
    if kind == "not_now":
        device.deferred[queued.uuid] = session
        return {"Status": NOT_NOW}
    if kind == "error":
        return error(item.get("code", 500), item.get("domain", "MDMErrorDomain"), item.get("text", "Simulated error"))
    if kind == "format_error":
        return format_error()
    return natural(sim, enrollment, queued.command)


def natural(sim, enrollment, command):
    handler = HANDLERS.get(command.get("RequestType"))
    return handler(sim, enrollment, command) if handler else {"Status": "Acknowledged"}


def _macos(device):
    return device.platform == "macos"


def _reason(device, reason):
    return "Other" if _macos(device) else reason  # §1.3 L375-389: "macOS only returns Other"


def resolve_app(sim, command):
    """``(bundle id, adam id or None)`` of an InstallApplication command, or ``(None, None)``."""
    if "iTunesStoreID" in command:
        adam_id = str(command["iTunesStoreID"])
        return sim.catalogue.get(adam_id), adam_id
    if command.get("Identifier"):
        bundle = command["Identifier"]
        adam_ids = [adam for adam, known in sim.catalogue.items() if known == bundle]
        return bundle, adam_ids[0] if adam_ids else None
    if command.get("ManifestURL"):
        return sim.catalogue.get(command["ManifestURL"], command["ManifestURL"]), None
    return None, None


def install_application(sim, enrollment, command):
    device = enrollment.device
    macos_only = command.get("InstallAsManaged") or command.get("iOSApp")
    if macos_only and not (_macos(device) and device.os_at_least("11")):
        return format_error()  # §5.16 [inferred]: InstallAsManaged / iOSApp are macOS 11+ keys
    if command.get("ManagementFlags", 0) not in MANAGEMENT_FLAGS or (
        enrollment.user is not None and not _macos(device)
    ):
        return format_error()
    bundle, adam_id = resolve_app(sim, command)
    if bundle is None:
        return error(
            1, "MCMDMErrorDomain", "Could not verify app ID.", RejectionReason=_reason(device, "CouldNotVerifyAppID")
        )
    present = device.installed.get(bundle)
    if present and present["source"] == "ddm":
        return error(
            12082, "MCMDMErrorDomain", "The app \u201c%s\u201d is managed by Declarative Device Management." % bundle
        )
    change_management = command.get("ChangeManagementState") == "Managed"
    if present and not present["managed"] and not change_management:
        text = "The app with iTunes Store ID %s is already installed." % (adam_id or bundle)
        return error(  # §5.12, fleetdm/fleet#32400
            ALREADY_INSTALLED_CODE,
            ALREADY_INSTALLED_DOMAIN,
            text,
            RejectionReason=_reason(device, "AppAlreadyInstalled"),
        )
    if "ManifestURL" not in command:
        licensed = sim.licensed(adam_id, device, enrollment)
        if not licensed:
            return error(LICENSE_ERROR["ErrorCode"], LICENSE_ERROR["ErrorDomain"], LICENSE_ERROR["text"])  # §5.13
    managed = bool(command.get("InstallAsManaged")) if _macos(device) else True
    name, version = sim.app_info(adam_id, bundle)
    final = device.install_results.pop(bundle, "Managed" if managed else "UserInstalledApp")
    device.installed[bundle] = {
        "adam_id": adam_id,
        "managed": managed,
        "state": final,
        "management_flags": command.get("ManagementFlags", 0),
        "source": "mdm",
        "name": name,
        "version": version,
        "device_based": sim.licensed_to_device(adam_id, device),
    }
    if final in TRANSIENT_STATES and final != "UserInstalledApp":
        device.installed[bundle]["managed"] = True  # shown once in ManagedApplicationList, then gone (§5.15)
    return {"Status": "Acknowledged", "Identifier": bundle, "State": "Queued"}


def remove_application(sim, enrollment, command):
    device = enrollment.device
    # apple:mdm/commands/application.remove.yaml: iOS 5.0+ (device channel), macOS 11.0+ device channel only,
    # user enrollment forbidden on macOS (§1.4 quotes only the macOS rule).
    if enrollment.user is not None or (_macos(device) and not device.os_at_least("11")):
        return format_error()
    bundle = command.get("Identifier")
    if not bundle:
        return format_error()
    present = device.installed.get(bundle)
    if present and present["source"] == "ddm":
        return error(
            12082, "MCMDMErrorDomain", "The app \u201c%s\u201d is managed by Declarative Device Management." % bundle
        )
    if not present or not present["managed"] or present["state"] in TRANSIENT_STATES:
        return error(NOT_MANAGED_CODE, NOT_MANAGED_DOMAIN, "The app \u201c%s\u201d is not managed." % bundle)  # §5.14
    del device.installed[bundle]
    return {"Status": "Acknowledged"}


def managed_application_list(sim, enrollment, command):
    device = enrollment.device
    wanted = command.get("Identifiers")
    listed = {}
    for bundle, app in list(device.installed.items()):
        if not app["managed"] or app["source"] == "ddm" or (wanted and bundle not in wanted):
            continue  # DDM apps are excluded (§1.6 L59-71)
        listed[bundle] = {
            "Status": app["state"],
            "ManagementFlags": app["management_flags"],
            "HasConfiguration": False,
            "HasFeedback": False,
            "IsValidated": True,
            "ExternalVersionIdentifier": 800000000 + len(bundle),
        }
        if app["state"] in TRANSIENT_STATES:
            del device.installed[bundle]  # reported once (§1.6 L114-119, §5.15)
    return {"Status": "Acknowledged", "ManagedApplicationList": listed}


def installed_application_list(sim, enrollment, command):
    device = enrollment.device
    wanted = command.get("Identifiers")
    managed_only = command.get("ManagedAppsOnly", False)
    listed = []
    for bundle, app in device.installed.items():
        if app["state"] in TRANSIENT_STATES and app["state"] != "UserInstalledApp":
            continue  # not on disk
        if (wanted and bundle not in wanted) or (managed_only and (not app["managed"] or app["source"] == "ddm")):
            continue
        entry = {
            "Identifier": bundle,
            "Name": app["name"],
            "Version": app["version"],
            "ShortVersion": app["version"],
            "Installing": False,
            "DeviceBasedVPP": bool(app.get("device_based")),
            "IsValidated": True,
        }
        if app["source"] == "ddm":
            entry["Source"] = "Declarative Device Management"  # §1.5
        listed.append(entry)
    return {"Status": "Acknowledged", "InstalledApplicationList": listed}


HANDLERS = {
    "InstallApplication": install_application,
    "RemoveApplication": remove_application,
    "ManagedApplicationList": managed_application_list,
    "InstalledApplicationList": installed_application_list,
}
