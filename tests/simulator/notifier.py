# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Webhook delivery (reference §11): bearer-authenticated POSTs from a background thread, up to 3 attempts."""

from __future__ import annotations

import collections
import json
import ssl
import threading
import time
import urllib.error
import urllib.request

from .catalogue import NOTIFICATION_ATTEMPTS


def post_json(url, auth_token, payload, timeout, ca_file=None):
    """POST ``payload``; returns the HTTP status, or None when the receiver could not be reached."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + auth_token},
    )
    context = ssl.create_default_context(cafile=ca_file) if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, ValueError):
        return None


def delivered(status):
    return status is not None and 200 <= status < 300


class Notifier:
    """Queue of notifications delivered in order by one daemon thread; every delivery is recorded for tests."""

    def __init__(self, settings):
        self._settings = settings  # the simulator's live settings dict
        self._queue = collections.deque()
        self._cond = threading.Condition()
        self._busy = False
        self._stopping = False
        self.deliveries = []
        self._thread = threading.Thread(target=self._run, name="vpp-sim-notifier", daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=5)

    def enqueue(self, location_key, url, auth_token, payload):
        if self._settings["drop_notifications"]:
            self._record(location_key, url, payload, attempts=0, status="dropped")
            return
        copies = 2 if self._settings["duplicate_notifications"] else 1
        with self._cond:
            for _round in range(copies):
                self._queue.append((location_key, url, auth_token, payload))
            self._cond.notify_all()

    def send_now(self, location_key, url, auth_token, payload):
        """One synchronous attempt (the TEST_NOTIFICATION that validates a new webhook); True when 2xx."""
        status = post_json(
            url, auth_token, payload, self._settings["notification_timeout"], self._settings["notification_ca_file"]
        )
        self._record(location_key, url, payload, attempts=1, status=status)
        return delivered(status)

    def wait_idle(self, timeout):
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def clear(self):
        with self._cond:
            self._queue.clear()
            self.deliveries = []

    def _record(self, location_key, url, payload, attempts, status):
        with self._cond:
            self.deliveries.append(
                {
                    "location": location_key,
                    "url": url,
                    "payload": payload,
                    "attempts": attempts,
                    "status": status,
                    "time": time.time(),
                }
            )

    def _run(self):
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                item = self._queue.popleft()
                self._busy = True
            try:
                self._deliver(*item)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _deliver(self, location_key, url, auth_token, payload):
        status, attempts = None, 0
        while attempts < NOTIFICATION_ATTEMPTS:
            attempts += 1
            status = post_json(
                url, auth_token, payload, self._settings["notification_timeout"], self._settings["notification_ca_file"]
            )
            if delivered(status):
                break
            time.sleep(self._settings["notification_retry_interval"])  # Apple retries over minutes; tests can't wait
        self._record(location_key, url, payload, attempts, status)
