# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stand-in's state and server-side behaviour: enrollments, queues, push, enqueue, device sessions, webhooks.

One re-entrant lock guards the state; webhook deliveries happen outside it (a receiver may call back)."""

from __future__ import annotations

import json
import plistlib
import threading
import time
import uuid as uuid_module

from . import ddm
from . import device as device_rules
from .kmfddm import DDMStore
from .licenses import LicenseOracle
from .model import IDLE, Device, MicroQueue, NanoQueue, QueuedCommand, enrollment_ids
from .nanomdm import enqueue_error
from .scenario import load_scenario
from .webhooks import WebhookSender, acknowledge_event, checkin_event

FLAVORS = ("nanomdm", "nanohub", "micromdm", "kmfddm")
DEFAULT_SETTINGS = {
    "background": False,  # devices connect by themselves after a successful push
    "connect_delay": 0.2,  # ... that many seconds later
    "not_now_retry": 0.5,  # background: a device that said NotNow comes back after this
    "fail_push_for": [],  # enrollment ids whose APNs push answers 410 Unregistered
    "push_cert": True,  # false: the topic's push certificate is missing
    "micromdm_queue_delay": 0.05,  # §5.21: the pubsub worker stores the command this much later
    "max_commands": 100,  # per connection
    "max_body": 10 * 1024 * 1024,  # 413 beyond
}


class State:
    def __init__(self, scenario, flavor="nanomdm", backend="kv", webhook_url=None, webhook_hmac_key=None,
                 license_oracle=None):  # fmt: skip
        if flavor not in FLAVORS:
            raise ValueError("flavor is one of %s" % ", ".join(FLAVORS))
        if backend not in ("kv", "mysql"):
            raise ValueError("backend is kv or mysql")
        self.flavor, self.backend = flavor, backend
        self.scenario = load_scenario(scenario)
        self.oracle = LicenseOracle(license_oracle)
        self.webhook_url, self.webhook_hmac_key = webhook_url, webhook_hmac_key
        self.lock = threading.RLock()
        self.timers = []
        self.stopping = threading.Event()
        self._build()

    def _build(self):
        self.settings = dict(DEFAULT_SETTINGS, **self.scenario.get("settings", {}))
        self.push_topic = self.scenario.get(
            "push_topic", "com.apple.mgmt.External.00000000-0000-0000-0000-000000000000"
        )
        self.catalogue, self.app_names = {}, {}
        self.set_apps(self.scenario.get("apps") or {})
        self.devices = {spec["udid"]: Device(spec) for spec in self.scenario.get("devices") or ()}
        self.enrollments = {}
        for item in self.devices.values():
            if item.enrolled:
                self.enrollments.update((e.id, e) for e in enrollment_ids(item, self.flavor))
        self.queues = {}
        self.command_uuids = set()
        self.ddm = DDMStore()
        self.webhooks = WebhookSender(self.flavor, self.webhook_url, self.webhook_hmac_key)
        self.log, self.faults = [], []

    # --- apps and licences ---------------------------------------------------------------------------------------

    def set_apps(self, apps):
        """Catalogue ``{adamId: bundle id or {bundle_id, name, version}}`` (also ManifestURL -> bundle id)."""
        with self.lock:
            for key, value in apps.items():
                value = value if isinstance(value, dict) else {"bundle_id": value}
                self.catalogue[str(key)] = value["bundle_id"]
                self.app_names[str(key)] = (value.get("name", value["bundle_id"]), str(value.get("version", "1.0")))
            return dict(self.catalogue)

    def app_info(self, adam_id, bundle):
        return self.app_names.get(str(adam_id), (bundle, "1.0"))

    def licensed(self, adam_id, device, enrollment, kind=None):
        return self.oracle.licensed(adam_id, device.serial, device.client_user_ids(), kind)

    def licensed_to_device(self, adam_id, device):
        return self.oracle.device_based(adam_id, device.serial)

    # --- queues and push -----------------------------------------------------------------------------------------

    def queue(self, enrollment_id):
        if enrollment_id not in self.queues:
            self.queues[enrollment_id] = MicroQueue() if self.flavor == "micromdm" else NanoQueue()
        return self.queues[enrollment_id]

    def queue_commands(self, enrollment_id):
        with self.lock:
            return self.queue(enrollment_id).commands()

    def clear_queue(self, enrollment_id):
        with self.lock:
            self.queue(enrollment_id).clear()

    def enqueue_nano(self, ids, uuid, command, raw):
        """NanoMDM storage enqueue (§2.3); returns a top-level error text or None."""
        with self.lock:
            error = enqueue_error(self, ids, uuid)
            if error:
                return error
            self.command_uuids.add(uuid)
            for enrollment_id in ids:  # multi-target: one command UUID for many IDs
                self.queue(enrollment_id).add(QueuedCommand(uuid, command, raw, time.time()))
            return None

    def enqueue_micro(self, queue_key, uuid, command, raw):
        """MicroMDM: the command lands a little later (pubsub worker, §5.21), then an automatic silent push."""

        def store():
            with self.lock:
                self.queue(queue_key).add(QueuedCommand(uuid, command, raw, time.time()))
            self.push_one(queue_key)  # failures only printed by MicroMDM (apns/service.go#L96-99)

        self.later(self.settings["micromdm_queue_delay"], store)

    def push_one(self, enrollment_id):
        """``{"push_result": apns-id}`` or ``{"push_error": text}`` (§2.4, §3.4)."""
        with self.lock:
            enrollment = self.enrollments.get(enrollment_id)
            if enrollment is None or not enrollment.device.token_update:
                if self.flavor == "micromdm":
                    return {"push_error": "retrieving PushInfo by UDID: not found: %s" % enrollment_id}
                return {"push_error": "push data missing for id"}  # push/service/service.go#L93
            if enrollment_id in self.settings["fail_push_for"]:
                return {"push_error": "push HTTP status: 410: APNs push error: Unregistered"}
            apns_id = str(uuid_module.uuid4()).upper()
        if self.settings["background"]:
            self.later(self.settings["connect_delay"], lambda: self.connect([enrollment_id]))
        return {"push_result": apns_id}

    def push_many(self, ids, result):
        if not self.settings["push_cert"]:
            result["push_error"] = 'retrieving push cert for topic "%s": push cert not found' % self.push_topic
            return
        result["status"] = {enrollment_id: self.push_one(enrollment_id) for enrollment_id in ids}

    def later(self, delay, action):
        def run():
            if not self.stopping.is_set():
                action()

        timer = threading.Timer(delay, run)
        timer.daemon = True
        with self.lock:
            self.timers = [item for item in self.timers if item.is_alive()] + [timer]
        timer.start()

    # --- DDM notify (KMFDDM -> in-process NanoMDM enqueue, §4.2) ---------------------------------------------------

    def notify(self, declarations=(), sets=(), ids=()):
        with self.lock:
            targets = self.ddm.affected(declarations, sets, ids)
            if not targets:
                return []
            command = {"RequestType": "DeclarativeManagement"}
            if len(targets) == 1:  # the tokens travel in Data (notifier.go#L84-91)
                command["Data"] = json.dumps(self.ddm.tokens(targets[0])).encode("utf-8")
            uuid = str(uuid_module.uuid4())
            raw = plistlib.dumps({"CommandUUID": uuid, "Command": command})
            self.enqueue_nano(targets, uuid, command, raw)
            for target in targets:
                self.push_one(target)
            return targets

    # --- device sessions ---------------------------------------------------------------------------------------

    def connect(self, ids=None, rounds=1):
        """Each (or every enrolled device-channel) enrollment connects ``rounds`` times; returns the results."""
        with self.lock:
            if ids is None:
                ids = [e.id for e in self.enrollments.values() if e.user is None]
            missing = [item for item in ids if item not in self.enrollments]
        if missing:
            raise ValueError("not enrolled: %s" % ", ".join(missing))
        results = []
        for _round in range(int(rounds)):
            for enrollment_id in ids:
                results.extend(self._session(self.enrollments[enrollment_id]))
        return results

    def _session(self, enrollment):
        device = enrollment.device
        results = []
        with device.session_lock:
            with self.lock:
                device.sessions += 1
                session = device.sessions
                report = {**enrollment.identity(), "Status": IDLE}
                queued = self.queue(enrollment.id).next(IDLE)  # Idle: nothing stored (§5.10)
            self.webhooks.send(acknowledge_event(self.flavor, enrollment, IDLE, None, plistlib.dumps(report)))
            for _command in range(self.settings["max_commands"]):
                if queued is None:
                    break
                extra = []
                with self.lock:
                    fields = device_rules.answer(self, enrollment, queued, session)
                    status = fields["Status"]
                    report = {**enrollment.identity(), "CommandUUID": queued.uuid, **fields}
                    raw = plistlib.dumps(report)
                    self.queue(enrollment.id).record(queued.uuid, status)
                    item = {"id": enrollment.id, "command_uuid": queued.uuid, "request_type": queued.request_type,
                            "status": status}  # fmt: skip
                    device.answered.append(dict(item))
                    results.append(item)
                    if (status == "Acknowledged" and queued.request_type == "DeclarativeManagement"
                            and self.flavor in ("nanohub", "kmfddm")):  # fmt: skip
                        extra = ddm.sync(self, enrollment)
                    queued = self.queue(enrollment.id).next(status)
                self.webhooks.send(acknowledge_event(self.flavor, enrollment, status, item["command_uuid"], raw))
                for payload in extra:
                    self.webhooks.send(checkin_event(self.flavor, "mdm.DeclarativeManagement", enrollment, payload))
            pending = bool(device.deferred)
        if pending and self.settings["background"]:
            self.later(self.settings["not_now_retry"], lambda: self.connect([enrollment.id]))
        return results

    # --- re-enrollment -----------------------------------------------------------------------------------------

    def authenticate(self, enrollment_id):
        """A new Authenticate: queue of the device and its user channels wiped, push off until TokenUpdate (§5.17)."""
        with self.lock:
            device = self._device(enrollment_id)
            for enrollment in enrollment_ids(device, self.flavor):
                if self.flavor != "micromdm":  # NanoMDM service.go#L115-139; MicroMDM's behaviour is not in §3
                    self.queue(enrollment.id).clear()
                self.enrollments[enrollment.id] = enrollment
            device.enrolled, device.token_update, device.deferred = True, False, {}
            body = {"MessageType": "Authenticate", "UDID": device.udid, "SerialNumber": device.serial,
                    "Topic": self.push_topic}  # fmt: skip
            event = checkin_event(self.flavor, "mdm.Authenticate", self.enrollments[device.udid], plistlib.dumps(body))
        self.webhooks.send(event)
        return {"id": device.udid, "token_update": False}

    def token_update(self, enrollment_id):
        with self.lock:
            device = self._device(enrollment_id)
            device.token_update = True
            device.token_update_tally += 1
            body = {"MessageType": "TokenUpdate", "UDID": device.udid, "Topic": self.push_topic,
                    "PushMagic": str(uuid_module.uuid4()), "Token": b"\x01" * 32}  # fmt: skip
            tally = device.token_update_tally if self.flavor != "micromdm" else None
            event = checkin_event(self.flavor, "mdm.TokenUpdate", self.enrollments[device.udid],
                                  plistlib.dumps(body), tally)  # fmt: skip
        self.webhooks.send(event)
        return {"id": device.udid, "token_update": True}

    def _device(self, enrollment_id):
        if enrollment_id in self.devices:
            return self.devices[enrollment_id]
        if enrollment_id in self.enrollments:
            return self.enrollments[enrollment_id].device
        raise ValueError("unknown device: %s" % enrollment_id)

    def micromdm_devices(self, serials):
        with self.lock:
            return [{"serial_number": d.serial, "udid": d.udid, "enrollment_status": d.enrolled,
                     "last_seen": "2026-01-01T00:00:00Z", "dep_profile_status": ""}
                    for d in self.devices.values() if not serials or d.serial in serials] or None  # fmt: skip
