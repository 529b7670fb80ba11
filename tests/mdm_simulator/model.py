# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Devices, enrollments and the two queue disciplines (NanoMDM §2.6, MicroMDM §3.6) of the MDM stand-in.

Section numbers (§) refer to ``shared/mdm-servers-api.md``.
"""

from __future__ import annotations

import plistlib
import threading

NOT_NOW = "NotNow"
IDLE = "Idle"
FINAL_STATUSES = ("Acknowledged", "Error", "CommandFormatError")
STATUSES = (IDLE, NOT_NOW, *FINAL_STATUSES)  # §1.2: anything else is "unknown response status"


class CommandError(ValueError):
    """A command body the server refuses to decode (§1.1)."""


def decode_command(raw):
    """The ``(command_uuid, command dict)`` of a raw plist command; ``CommandError`` as NanoMDM words it (§1.1)."""
    try:
        body = plistlib.loads(raw)
    except Exception as error:  # plistlib raises several types (InvalidFileException, ExpatError, ValueError)
        raise CommandError("plist: error parsing property list: %s" % error) from None
    if not isinstance(body, dict):
        raise CommandError("invalid command")
    command = body.get("Command")
    uuid = body.get("CommandUUID")
    if not isinstance(command, dict) or not isinstance(uuid, str) or not uuid or not command.get("RequestType"):
        raise CommandError("invalid command")  # nanomdm:mdm/command.go#L47-71
    return uuid, command


class QueuedCommand:
    __slots__ = ("uuid", "request_type", "command", "raw", "not_now", "created")

    def __init__(self, uuid, command, raw, created=0.0):
        self.uuid, self.command, self.raw, self.created = uuid, command, raw, created
        self.request_type = command.get("RequestType")
        self.not_now = False

    def summary(self):
        return {"uuid": self.uuid, "request_type": self.request_type, "not_now": self.not_now}


class NanoQueue:
    """NanoMDM (kv and mysql) queue: FIFO, a NotNow command stays and is skipped only in the reply to that NotNow
    report (§2.6, storage/kv/queue.go#L22-100, mysql ``r.status = 'NotNow' AND NOT ?``)."""

    def __init__(self):
        self.items = []

    def add(self, queued):
        self.items.append(queued)

    def next(self, last_status):
        skip_not_now = last_status == NOT_NOW
        for item in self.items:
            if not (skip_not_now and item.not_now):
                return item
        return None

    def record(self, uuid, status):
        for item in list(self.items):
            if item.uuid == uuid:
                if status == NOT_NOW:
                    item.not_now = True
                else:
                    self.items.remove(item)  # non-NotNow results unlink the command (§2.6)

    def commands(self):
        return list(self.items)

    def clear(self):
        self.items = []


class MicroQueue:
    """MicroMDM queue (§3.6, platform/queue/queue.go#L106-203): the first command is offered and re-appended until
    answered; NotNow moves it to a NotNow list, re-offered only when the main queue is empty and the current report
    is not NotNow. Answered commands go to Completed / Failed history."""

    def __init__(self):
        self.items, self.not_now_items, self.completed, self.failed = [], [], [], []

    def add(self, queued):
        self.items.append(queued)

    def next(self, last_status):
        if not self.items and last_status != NOT_NOW and self.not_now_items:
            self.items, self.not_now_items = self.not_now_items, []
        if not self.items:
            return None
        item = self.items.pop(0)
        self.items.append(item)
        return item

    def record(self, uuid, status):
        found = [item for item in self.items + self.not_now_items if item.uuid == uuid]
        self.items = [item for item in self.items if item.uuid != uuid]
        self.not_now_items = [item for item in self.not_now_items if item.uuid != uuid]
        for item in found[:1]:
            if status == NOT_NOW:
                item.not_now = True
                self.not_now_items.append(item)
            elif status == "Acknowledged":
                self.completed.append(item)
            else:
                self.failed.append(item)

    def commands(self):
        return self.items + self.not_now_items

    def clear(self):
        self.items, self.not_now_items = [], []


class Device:
    """One enrolled (or not yet enrolled) device with its installed apps and its answer script."""

    def __init__(self, spec):
        self.udid = spec["udid"]
        self.serial = spec.get("serial", "")
        self.platform = spec.get("platform", "ios")
        self.os_version = str(spec.get("os_version", "17.4"))
        self.users = [dict(user) for user in spec.get("users") or ()]
        self.client_user_id = spec.get("client_user_id")
        self.enrolled = spec.get("enrolled", True)
        self.token_update = spec.get("token_update", True)
        self.token_update_tally = 1 if self.token_update else 0
        self.answers = list(spec.get("answers") or ())
        self.install_results = dict(spec.get("install_results") or {})  # bundle id -> final Status (Failed, ...)
        self.installed = {}  # bundle id -> {adam_id, managed, state, management_flags, source, ...}
        for app in spec.get("installed") or ():
            self.installed[app["bundle_id"]] = {
                "adam_id": app.get("adam_id"),
                "managed": app.get("managed", False),
                "state": app.get("state", "Managed" if app.get("managed") else "UserInstalledApp"),
                "management_flags": app.get("management_flags", 0),
                "source": "mdm" if app.get("managed") else "user",
                "name": app.get("name", app["bundle_id"]),
                "version": str(app.get("version", "1.0")),
            }
        self.deferred = {}  # command uuid -> session number in which the device said NotNow
        self.answered = []  # results sent: {command_uuid, request_type, status, enrollment_id}
        self.ddm_apps = {}  # declaration id -> bundle id installed through DDM
        self.ddm_removed = []  # bundle ids whose DDM app went away since the last status report
        self.ddm_tokens = {}  # declaration id -> server token the device last fetched
        self.reports_sent = 0
        self.ddm_subscribed = False
        self.session_lock = threading.Lock()
        self.sessions = 0

    def os_at_least(self, version):
        def parts(text):
            return [int(part) for part in str(text).split(".") if part.isdigit()]

        return parts(self.os_version) >= parts(version)

    def client_user_ids(self):
        ids = [self.client_user_id] if self.client_user_id else []
        return ids + [user["client_user_id"] for user in self.users if user.get("client_user_id")]

    def snapshot(self):
        return {
            "udid": self.udid,
            "serial": self.serial,
            "platform": self.platform,
            "os_version": self.os_version,
            "enrolled": self.enrolled,
            "token_update": self.token_update,
            "installed": {bundle: dict(app) for bundle, app in self.installed.items()},
            "answered": list(self.answered),
            "answers_left": list(self.answers),
            "not_now_pending": sorted(self.deferred),
        }


class Enrollment:
    """An enrollment ID as NanoMDM forms it (§2.5): ``UDID`` for the device channel, ``UDID:UserID`` (NanoMDM) or
    ``UserID`` (MicroMDM, §3.6) for a macOS user channel, ``UDID:UserShortName`` for a Shared iPad user."""

    def __init__(self, enrollment_id, device, user=None):
        self.id, self.device, self.user = enrollment_id, device, user

    @property
    def type(self):
        if self.user is None:
            return "Device"
        return "Shared iPad" if self.user.get("user_id") == SHARED_IPAD_USER else "User"

    def ids(self):
        """NanoMDM webhook ``ids`` (§2.7)."""
        if self.user is None:
            return {"id": self.id, "type": self.type}
        return {"id": self.id, "parent_id": self.device.udid, "type": self.type}

    def identity(self):
        """Identifier keys the device puts in every report (§1.2)."""
        keys = {"UDID": self.device.udid}
        if self.user is not None:
            keys["UserID"] = self.user["user_id"]
            if self.user.get("short_name"):
                keys["UserShortName"] = self.user["short_name"]
        return keys


SHARED_IPAD_USER = "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"


def enrollment_ids(device, flavor):
    """Every enrollment ID of a device: the device channel, then one per user channel (§2.5, §3.6)."""
    result = [Enrollment(device.udid, device)]
    for user in device.users:
        if user.get("user_id") == SHARED_IPAD_USER and user.get("short_name"):
            channel = "%s:%s" % (device.udid, user["short_name"])
        elif flavor == "micromdm":
            channel = user["user_id"]
        else:
            channel = "%s:%s" % (device.udid, user["user_id"])
        result.append(Enrollment(channel, device, user))
    return result
