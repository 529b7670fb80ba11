# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``MDMSimulator``: the state plus its HTTP server and the test hooks (Python methods and ``/_mdm/`` calls)."""

from __future__ import annotations

import collections
import json
import threading

from .server import MDMHTTPServer, collapse, hook_answer, hook_error
from .state import DEFAULT_SETTINGS, State

HOST = "127.0.0.1"
FAULT_KINDS = ("500", "503", "drop", "401")


class MDMSimulator(State):
    """``with MDMSimulator(scenario, flavor="nanomdm") as mdm: requests.put(mdm.url + "/v1/enqueue/ID", ...)``."""

    def __init__(self, scenario=None, flavor="nanomdm", api_key="secret", port=0, webhook_url=None,
                 webhook_hmac_key=None, license_oracle=None, backend="kv"):  # fmt: skip
        super().__init__(scenario, flavor, backend, webhook_url, webhook_hmac_key, license_oracle)
        self.api_key, self.port = api_key, port
        self.url = self.root_url = None
        self._server = self._thread = None

    def start(self):
        self._server = MDMHTTPServer((HOST, self.port), self)
        self.port = self._server.server_address[1]
        self.url = self.root_url = "http://%s:%d" % (HOST, self.port)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="mdm-sim-http", daemon=True)  # fmt: skip
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self.stopping.set()
        for timer in list(self.timers):
            timer.cancel()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        return "MDMSimulator(flavor=%r, url=%r, devices=%d)" % (self.flavor, self.url, len(self.devices))

    # --- request log, faults -------------------------------------------------------------------------------------

    def record_request(self, entry):
        with self.lock:
            self.log.append(entry)

    def request_log(self):
        with self.lock:
            return [dict(entry) for entry in self.log]

    def request_counts(self):
        """``{"PUT /v1/enqueue": n}``: the trailing id list collapsed."""
        with self.lock:
            return dict(collections.Counter("%s %s" % (e["method"], collapse(e["path"])) for e in self.log))

    def clear_request_log(self):
        with self.lock:
            self.log = []
        return True

    def inject_fault(self, kind, count=1, path=None):
        if str(kind) not in FAULT_KINDS:
            raise ValueError("fault kind is one of %s" % ", ".join(FAULT_KINDS))
        with self.lock:
            self.faults.append({"kind": str(kind), "count": int(count), "path": path})
            return [dict(fault) for fault in self.faults]

    def clear_faults(self):
        with self.lock:
            self.faults = []
        return True

    def take_fault(self, path):
        with self.lock:
            for fault in self.faults:
                if fault["path"] is None or path.startswith(fault["path"]):
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                    return fault["kind"]
        return None

    # --- hooks -------------------------------------------------------------------------------------------------

    def configure(self, **settings):
        unknown = set(settings) - set(DEFAULT_SETTINGS)
        if unknown:
            raise ValueError("unknown settings: %s" % ", ".join(sorted(unknown)))
        with self.lock:
            self.settings.update(settings)
            return dict(self.settings)

    def reset(self):
        """Back to the scenario: devices, queues, DDM data, webhooks, log and faults."""
        with self.lock:
            self._build()
        return True

    def queue_state(self, enrollment_id):
        return [item.summary() for item in self.queue_commands(enrollment_id)]

    def device_state(self, enrollment_id):
        with self.lock:
            return self._device(enrollment_id).snapshot()

    def webhook_deliveries(self):
        with self.lock:
            return [dict(item) for item in self.webhooks.deliveries]

    def redeliver_webhook(self, index=None, last=False):
        return self.webhooks.redeliver(index, last)

    def set_answers(self, enrollment_id, answers):
        with self.lock:
            self._device(enrollment_id).answers = list(answers)
        return True

    def user_install(self, enrollment_id, bundle_id, adam_id=None):
        """The user installs an app himself (unmanaged)."""
        with self.lock:
            self._device(enrollment_id).installed[bundle_id] = {
                "adam_id": adam_id, "managed": False, "state": "UserInstalledApp", "management_flags": 0,
                "source": "user", "name": bundle_id, "version": "1.0"}  # fmt: skip
        return True

    def user_delete(self, enrollment_id, bundle_id):
        """The user deletes an app: a managed one becomes ManagedButUninstalled, an unmanaged one goes."""
        with self.lock:
            app = self._device(enrollment_id).installed.get(bundle_id)
            if app is None:
                raise ValueError("not installed: %s" % bundle_id)
            if app["managed"] and app["source"] == "mdm":
                app["state"] = "ManagedButUninstalled"
            else:
                del self._device(enrollment_id).installed[bundle_id]
        return True

    def run_hook(self, method, path, query, raw):
        handler = HOOKS.get((method, path))
        if handler is None:
            return hook_error(404, "unknown hook %s /_mdm%s" % (method, path))
        try:
            body = json.loads(raw) if raw else {}
            return hook_answer(handler(self, lambda name: (query.get(name) or [None])[0] or body.get(name), body))
        except (ValueError, TypeError, KeyError, IndexError) as error:
            return hook_error(400, str(error))


HOOKS = {
    ("GET", "/health"): lambda sim, q, b: {"ok": True, "url": sim.url, "flavor": sim.flavor},
    ("POST", "/devices/connect"): lambda sim, q, b: sim.connect(b.get("ids"), b.get("rounds", 1)),
    ("POST", "/devices/authenticate"): lambda sim, q, b: sim.authenticate(b["id"]),
    ("POST", "/devices/token_update"): lambda sim, q, b: sim.token_update(b["id"]),
    ("POST", "/devices/answers"): lambda sim, q, b: sim.set_answers(b["id"], b["answers"]),
    ("POST", "/devices/user_install"): lambda sim, q, b: sim.user_install(b["id"], b["bundle_id"], b.get("adam_id")),
    ("POST", "/devices/user_delete"): lambda sim, q, b: sim.user_delete(b["id"], b["bundle_id"]),
    ("POST", "/apps"): lambda sim, q, b: sim.set_apps(b),
    ("POST", "/webhook/redeliver"): lambda sim, q, b: sim.redeliver_webhook(b.get("index"), b.get("last", False)),
    ("GET", "/webhooks"): lambda sim, q, b: sim.webhook_deliveries(),
    ("GET", "/queue"): lambda sim, q, b: sim.queue_state(q("id")),
    ("GET", "/device"): lambda sim, q, b: sim.device_state(q("id")),
    ("GET", "/request_log"): lambda sim, q, b: sim.request_log(),
    ("DELETE", "/request_log"): lambda sim, q, b: sim.clear_request_log(),
    ("GET", "/request_counts"): lambda sim, q, b: sim.request_counts(),
    ("POST", "/reset"): lambda sim, q, b: sim.reset(),
    ("POST", "/configure"): lambda sim, q, b: sim.configure(**b),
    ("POST", "/faults"): lambda sim, q, b: sim.inject_fault(**b),
    ("DELETE", "/faults"): lambda sim, q, b: sim.clear_faults(),
}
