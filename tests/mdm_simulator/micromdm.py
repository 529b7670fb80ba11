# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MicroMDM API (§3): ``/v1/commands`` (JSON and raw plist), ``/v1/devices``, ``/v1/push``; JSON errors (§3.2)."""

from __future__ import annotations

import base64
import json
import plistlib
import uuid as uuid_module

from .model import CommandError, decode_command
from .responses import NOT_FOUND, json_answer

# request type -> [(json field, plist key, kind)]; mdm/mdm/command.go. Unknown JSON fields are ignored, as Go does:
# InstallAsManaged, iOSApp, Items and real Configuration/Attributes cannot be expressed (§3.3).
FIELDS = {
    "InstallApplication": [
        ("itunes_store_id", "iTunesStoreID", int),
        ("identifier", "Identifier", str),
        ("management_flags", "ManagementFlags", int),
        ("change_management_state", "ChangeManagementState", str),
        ("manifest_url", "ManifestURL", str),
        ("options", "Options", "options"),
        ("configuration", "Configuration", "empty"),
        ("attributes", "Attributes", "empty"),
    ],
    "RemoveApplication": [("identifier", "Identifier", str)],
    "InstalledApplicationList": [("identifiers", "Identifiers", list), ("managed_appd_only", "ManagedAppsOnly", bool)],
    "ManagedApplicationList": [("identifiers", "Identifiers", list)],
    "DeviceInformation": [("queries", "Queries", list)],
    "InstallProfile": [("payload", "Payload", "data")],
    "RemoveProfile": [("identifier", "Identifier", str)],
    "DeclarativeManagement": [("data", "Data", "data")],
    "DeviceLock": [("pin", "PIN", str), ("message", "Message", str)],
    "EraseDevice": [("pin", "PIN", str)],
}
for _simple in ("ProfileList", "ProvisioningProfileList", "CertificateList", "SecurityInfo", "RestartDevice",
                "ShutDownDevice", "DeviceConfigured", "AvailableOSUpdates", "UserList"):  # fmt: skip
    FIELDS[_simple] = []


def error(text, status=500):
    return json_answer(status, {"error": text})  # pkg/httputil/httputil.go#L29-75


def ok(status, value):
    return json_answer(status, value, indent=2)  # successes are 2-space indented


def decode_json(body):
    """Request decoding runs before the auth middleware (§3.2): a bad body answers its decode error even
    with wrong credentials. Returns ``(value, error answer)``."""
    if not body:
        return None, error("EOF")  # an empty body is a decode error (§3.5)
    try:
        return json.loads(body), None
    except ValueError as failure:
        return None, error("invalid character: %s" % failure)


def build_command(request):
    """The plist ``Command`` dict and the JSON echo of a ``POST /v1/commands`` body."""
    request_type = request.get("request_type")
    fields = FIELDS.get(request_type)
    if fields is None:
        raise CommandError("mdm: unknown RequestType: %s" % request_type)  # unmarshal_json.go#L331-332
    command, echo = {"RequestType": request_type}, {"request_type": request_type}
    for field, key, kind in fields:
        if field not in request or request[field] in (None, "", [], 0, False):
            continue
        value = request[field]
        if kind == "options":
            method = (value or {}).get("purchase_method")
            command[key] = {"PurchaseMethod": int(method)} if method else {}
            echo[field] = {"purchase_method": int(method)} if method else {}
        elif kind == "empty":
            command[key], echo[field] = {}, {}  # an empty struct in MicroMDM (§3.3)
        elif kind == "data":
            command[key] = base64.b64decode(value)
            echo[field] = value
        else:
            command[key] = kind(value)
            echo[field] = kind(value)
    return command, echo


def handle(sim, method, path, query, body, authorized):
    """``authorized`` is the Basic auth outcome, applied after decoding (go-kit order, §3.2)."""
    if path == "/v1/commands" and method == "POST":
        request, failure = decode_json(body)
        if failure:
            return failure
        if not authorized:
            return None
        if not isinstance(request, dict) or not request.get("udid") or not request.get("request_type"):
            return error("request must contain UDID of the device")  # new_command.go#L79-87
        try:
            command, echo = build_command(request)
        except CommandError as failure:
            return error(str(failure))
        uuid = request.get("command_uuid") or str(uuid_module.uuid4())
        raw = plistlib.dumps({"CommandUUID": uuid, "Command": command})
        sim.enqueue_micro(request["udid"], uuid, command, raw)
        return ok(201, {"payload": {"command_uuid": uuid, "command": echo}})
    if path.startswith("/v1/commands/") and len(path) > len("/v1/commands/"):
        udid = path[len("/v1/commands/") :]
        if method in ("PUT", "POST"):
            return raw_command(sim, udid, body, authorized)
        if not authorized:
            return None
        if method == "GET":
            commands = [{"uuid": item.uuid, "payload": base64.b64encode(item.raw).decode("ascii")}
                        for item in sim.queue_commands(udid)]  # fmt: skip
            return ok(200, {"commands": commands} if commands else {})  # omitted when empty (view.go)
        if method == "DELETE":
            sim.clear_queue(udid)
            return ok(200, {})
    if path == "/v1/devices" and method == "POST":
        request, failure = decode_json(body)
        if failure:
            return failure
        if not authorized:
            return None
        return ok(200, {"devices": sim.micromdm_devices((request or {}).get("filter_serial") or [])})
    if (path.startswith("/v1/push/") and method == "POST") or (path.startswith("/push/") and method == "GET"):
        if not authorized:
            return None
        udid = path.rsplit("/", 1)[1]
        outcome = sim.push_one(udid)
        if "push_error" in outcome:
            return error(outcome["push_error"])  # §3.4: the response implements Failed()
        return ok(200, {"status": "success", "push_notification_id": outcome["push_result"]})
    return NOT_FOUND if authorized else None


def raw_command(sim, udid, body, authorized):
    try:
        uuid, command = decode_command(body)
    except CommandError as failure:
        text = "request is malformed" if str(failure) == "invalid command" else "parse payload as plist: %s" % failure
        return error(text)  # §5.6
    if not authorized:
        return None
    sim.enqueue_micro(udid, uuid, command, body)
    return ok(201, {"payload": {"udid": udid, "command_uuid": uuid, "command": {"request_type": command["RequestType"]},
                                "payload": base64.b64encode(body).decode("ascii")}})  # fmt: skip
