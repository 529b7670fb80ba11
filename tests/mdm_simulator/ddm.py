# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The device side of Declarative Device Management (§1.7, §4.2-§4.3): after acknowledging a
``DeclarativeManagement`` command the device fetches tokens, items and declarations, applies
``com.apple.configuration.app.managed`` and PUTs a status report. Every step is a DM check-in, which NanoMDM
turns into an ``mdm.DeclarativeManagement`` webhook event whose ``raw_payload`` is the check-in plist (the status
report JSON is that plist's ``Data``, §2.8)."""

from __future__ import annotations

import json
import plistlib
import time

from .device import TRANSIENT_STATES

APP_MANAGED = "com.apple.configuration.app.managed"
SUBSCRIPTIONS = "com.apple.configuration.management.status-subscriptions"
ACTIVATION = "com.apple.activation.simple"
GROUPS = {"activation": "activations", "configuration": "configurations", "asset": "assets", "management": "management"}


def checkin(enrollment, endpoint, data=None):
    body = {"MessageType": "DeclarativeManagement", "Endpoint": endpoint, **enrollment.identity()}
    if data is not None:
        body["Data"] = data
    return plistlib.dumps(body)


def sync(sim, enrollment):
    """Run one DDM sync; returns the check-in plists (for webhooks). Called with the simulator lock held."""
    device, store = enrollment.device, sim.ddm
    payloads = [checkin(enrollment, "tokens"), checkin(enrollment, "declaration-items")]
    declarations = store.effective(enrollment.id)
    for declaration in declarations:
        if device.ddm_tokens.get(declaration["Identifier"]) != declaration["ServerToken"]:
            payloads.append(checkin(enrollment, "declaration/%s/%s" % (kind(declaration), declaration["Identifier"])))
            device.ddm_tokens[declaration["Identifier"]] = declaration["ServerToken"]
    referenced = set()
    for declaration in declarations:
        if declaration["Type"] == ACTIVATION:
            referenced.update(declaration["Payload"].get("StandardConfigurations") or ())
    statuses, apps = {}, []
    wanted_items = set()
    for declaration in declarations:
        status = {"identifier": declaration["Identifier"], "active": True, "valid": "valid",
                  "server-token": declaration["ServerToken"]}  # fmt: skip
        if kind(declaration) == "configuration":
            if declaration["Identifier"] not in referenced:
                status.update(active=False, reasons=[{"code": "Info.NotReferencedByActivation"}])
            elif declaration["Type"] == APP_MANAGED and not (device.platform == "ios" and device.os_at_least("17.2")):
                status.update(active=False, valid="invalid", reasons=[{"code": "Error.ConfigurationCannotBeApplied"}])
            elif declaration["Type"] == SUBSCRIPTIONS:
                wanted_items.update(item.get("Name") for item in declaration["Payload"].get("StatusItems") or ())
        statuses.setdefault(GROUPS.get(kind(declaration), "configurations"), []).append(status)
        if declaration["Type"] == APP_MANAGED and status["active"]:
            apps.append(apply_app(sim, enrollment, declaration))
    active_apps = {item["declaration-identifier"] for item in apps if item.get("state") != "failed"}
    for declaration_id, bundle in list(device.ddm_apps.items()):
        if declaration_id not in active_apps:
            device.ddm_apps.pop(declaration_id)
            device.installed.pop(bundle, None)  # the declaration went away: the app is removed
            device.ddm_removed.append(bundle)
    declarations = {key: statuses.get(key, []) for key in GROUPS.values()}
    report = {
        "StatusItems": {"management": {"declarations": declarations}},
        "Errors": [],
        "FullReport": device.reports_sent == 0,
    }
    # only if subscribed (status-subscriptions, §1.7); [assume] a device whose subscription went away with its
    # apps announces the removals in one last app.managed.list
    if "app.managed.list" in wanted_items or (device.ddm_subscribed and device.ddm_removed):
        removed = [{"identifier": bundle, "_removed": True} for bundle in device.ddm_removed]
        report["StatusItems"]["app"] = {"managed": {"list": apps + removed}}  # [inferred nesting] §1.7
        device.ddm_removed = []
    device.ddm_subscribed = "app.managed.list" in wanted_items
    device.reports_sent += 1
    raw = json.dumps(report).encode("utf-8")
    store_report(sim, enrollment, raw, statuses)
    payloads.append(checkin(enrollment, "status", raw))
    return payloads


def kind(declaration):
    return declaration["Type"].split(".")[2] if declaration["Type"].count(".") >= 2 else "configuration"


def apply_app(sim, enrollment, declaration):
    device, payload = enrollment.device, declaration["Payload"]
    adam_id = payload.get("AppStoreID")
    bundle = payload.get("BundleID") or (sim.catalogue.get(str(adam_id)) if adam_id else None)
    bundle = bundle or sim.catalogue.get(payload.get("ManifestURL", ""), payload.get("ManifestURL"))
    item = {"identifier": bundle, "declaration-identifier": declaration["Identifier"]}
    behaviour = payload.get("InstallBehavior") or {}
    if device.ddm_apps.get(declaration["Identifier"]) == bundle and bundle in device.installed:
        return dict(item, state="managed", **version_keys(device.installed[bundle]))
    present = device.installed.get(bundle)
    if present and present["source"] == "user" and present["state"] not in TRANSIENT_STATES[1:]:
        return dict(item, state="failed", reasons=[{"code": "Error.UnmanagedAppAlreadyInstalled"}])
    if adam_id:
        assignment = ((behaviour.get("License") or {}).get("Assignment") or "Device").lower()
        if not sim.licensed(adam_id, device, enrollment, kind=assignment):
            reason = {"code": "Error.LicenseNotFound", "description": "A license for the app was not available."}
            return dict(item, state="failed", reasons=[reason])
    if behaviour.get("Install", "Optional") != "Required":
        return dict(item, state="optional")  # offered to the user, not installed
    name, version = sim.app_info(adam_id, bundle)
    device.installed[bundle] = {"adam_id": adam_id, "managed": True, "state": "Managed", "management_flags": 0,
                                "source": "ddm", "name": name, "version": version,
                                "device_based": sim.licensed_to_device(adam_id, device)}  # fmt: skip
    device.ddm_apps[declaration["Identifier"]] = bundle
    return dict(item, state="managed", **version_keys(device.installed[bundle]))


def version_keys(app):
    return {"name": app["name"], "version": app["version"], "short-version": app["version"]}


def store_report(sim, enrollment, raw, statuses):
    """KMFDDM ``PUT /status``: keep the raw report and the declaration status (ddm/status.go)."""
    store = sim.ddm
    store.report_counter += 1
    status_id = "%s.%d" % (enrollment.id, store.report_counter)
    now = time.time()
    store.reports.setdefault(enrollment.id, []).insert(0, {"raw": raw, "time": now, "status_id": status_id})
    received = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    table = {}
    for items in statuses.values():
        for status in items:
            declaration = store.declarations.get(status["identifier"]) or {}
            table[status["identifier"]] = {
                "identifier": status["identifier"],
                "active": status["active"],
                "valid": status["valid"],
                "server-token": status["server-token"],
                "current": declaration.get("ServerToken") == status["server-token"],
                "status_received": received,
                "status_id": status_id,
                "reasons": status.get("reasons"),
            }
    store.status[enrollment.id] = table
