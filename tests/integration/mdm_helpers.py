# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the MDM deployment tests: the Apple simulator, the MDM stand-in and the real ``vpp_events`` source.

``MDMStack`` starts, for one test, the Apple simulator (``deployment_scenario``), a private store with hq
registered, synced and its apps created, the event source ``extensions/eda/plugins/event_source/vpp_events.py``
(its ``main(queue, args)`` in a thread of its own with its own asyncio loop) on that store, and the MDM stand-in of
the test's flavor whose webhook posts to the event source and whose devices hold an app only with an Apple
license (``license_oracle``). Plays run with ``VPP_MDM_TYPE``, ``VPP_MDM_URL`` and ``VPP_MDM_API_KEY`` set.
"""

from __future__ import annotations

import asyncio
import math
import os
import plistlib
import runpy
import socket
import threading
import time

from tests.conftest import COLLECTIONS_PATH
from tests.integration.deployment_helpers import (
    HQ,
    deployment_runner,
    deployment_scenario,
    played,
    posts,
    setup_tasks,
)
from tests.mdm_simulator import MDMSimulator
from tests.mdm_simulator.scenario import SMALL_SCENARIO, load_scenario

API_KEY = "mdm-api-key-7f3a9c2e5b"  # distinctive: the tests search every output for it
HMAC_KEY = "webhook-hmac-key-41d8e0"
EVENTS_PATH = os.path.join(
    COLLECTIONS_PATH,
    "ansible_collections",
    "mdm",
    "vpp",
    "extensions",
    "eda",
    "plugins",
    "event_source",
    "vpp_events.py",
)
START_TIMEOUT = 10.0

# The devices of tests/mdm_simulator/scenarios/small.yml (enrollment id = UDID)
IPHONE = {"serial": "C02XK0AAJG5H", "enrollment_id": "00008030-001A2B3C4D5E802E"}  # holds a Pages license at Apple
IPAD = {"serial": "DMPXK1ABCDEF", "enrollment_id": "00008101-000E3C2A1A90001E"}
MAC = {"serial": "C02ZZ9MACOS1", "enrollment_id": "564D1F3A-7B2C-4E8F-9A1B-2C3D4E5F6A7B", "platform": "macos"}
NOT_ENROLLED = {"serial": "NOTENROLLED1", "enrollment_id": "00008030-0000000000NOTENR"}
PAGES_BUNDLE = "com.apple.iwork.pages"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EventSource:
    """The real ``mdm.vpp.vpp_events`` serving on 127.0.0.1 in a background thread; ``events`` it put on its queue."""

    def __init__(self, store, hmac_key=None):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d/mdm/webhook" % self.port
        self.args = {"host": "127.0.0.1", "port": self.port, "store": str(store), "mdm_path": "/mdm/webhook"}
        if hmac_key:
            self.args["mdm_hmac_key"] = hmac_key
        self.events = []
        self.error = None
        self._loop = self._task = None
        self._thread = threading.Thread(target=self._serve, name="vpp-events", daemon=True)

    def _serve(self):
        main = runpy.run_path(EVENTS_PATH)["main"]
        loop = asyncio.new_event_loop()
        self._loop = loop

        async def serve():
            queue = asyncio.Queue()

            async def consume():
                while True:
                    self.events.append(await queue.get())

            consumer = asyncio.ensure_future(consume())
            try:
                await main(queue, self.args)
            finally:
                consumer.cancel()

        self._task = loop.create_task(serve())
        try:
            loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # reported by start() or the test
            self.error = exc
        finally:
            loop.close()

    def start(self):
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self._thread.is_alive():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.02)
        raise AssertionError("vpp_events did not start listening: %r" % (self.error,))

    def answers(self, count):
        """The first ``count`` events, once the source queued them (it answers the MDM before queueing)."""
        deadline = time.monotonic() + START_TIMEOUT
        while len(self.events) < count and time.monotonic() < deadline and self.error is None:
            time.sleep(0.01)
        assert len(self.events) >= count, (self.error, self.events)
        return [event["vpp"] for event in self.events[:count]]

    def stop(self):
        if self._loop is not None and self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout=10)


def device_scenario(count, prefix="SNB"):
    """An MDM scenario of ``count`` enrolled iPads and the members naming them: ``(scenario, members)``."""
    devices, members = [], []
    for index in range(count):
        udid = "00008101-%016X" % (0xB000 + index)
        serial = "%s%07d" % (prefix, index)
        devices.append({"udid": udid, "serial": serial, "platform": "ios", "os_version": "18.1"})
        members.append({"serial": serial, "enrollment_id": udid})
    scenario = load_scenario(SMALL_SCENARIO)
    scenario["devices"] = devices
    return scenario, members


class MDMStack:
    """One test's Apple simulator, store (hq registered, synced, apps created), event source and MDM stand-in."""

    def __init__(
        self,
        simulator_factory,
        tmp_path,
        collections_path,
        flavor="nanomdm",
        mdm_scenario=None,
        apple_scenario=None,
        applications=("pages",),
        hmac=False,
        backend="kv",
    ):
        self.sim = simulator_factory(apple_scenario or deployment_scenario())
        self.runner = deployment_runner(tmp_path, collections_path, self.sim)
        played(self.runner, setup_tasks(self.sim, applications))
        self.events = EventSource(self.runner.store, HMAC_KEY if hmac else None).start()
        self.mdm = MDMSimulator(
            mdm_scenario or SMALL_SCENARIO,
            flavor=flavor,
            api_key=API_KEY,
            port=0,
            webhook_url=self.events.url,
            webhook_hmac_key=HMAC_KEY if hmac else None,
            license_oracle={"apple_sim_url": self.sim.root_url, "location": HQ},
            backend=backend,
        ).start()
        self.runner.env.update({"VPP_MDM_TYPE": flavor, "VPP_MDM_URL": self.mdm.url, "VPP_MDM_API_KEY": API_KEY})
        self.sim.clear_request_log()

    def stop(self):
        self.mdm.stop()
        self.events.stop()

    def play(self, tasks, **options):
        """Run ``tasks`` as one play that must succeed; the API key must appear nowhere in what it shows."""
        run = played(self.runner, tasks, **options)
        assert_no_key(run)
        return run

    def connect(self, ids=None, rounds=1):
        """The devices connect and answer; their webhooks reach vpp_events (synchronously). Returns the results."""
        results = self.mdm.connect(ids, rounds)
        failed = [d for d in self.mdm.webhook_deliveries() if not d["ok"]]
        assert not failed, failed
        assert self.events.error is None, self.events.error
        return results

    def requests(self, method, endpoint):
        """The MDM stand-in's log entries of ``method`` on paths starting with ``endpoint``."""
        return [e for e in self.mdm.request_log() if e["method"] == method and e["path"].startswith(endpoint)]


def started_stacks(simulator_factory, tmp_path, collections_path):
    """The body of a ``stacks`` fixture: yields ``start(**MDMStack options)``, stops every stack started after."""
    started = []

    def start(**options):
        stack = MDMStack(simulator_factory, tmp_path, collections_path, **options)
        started.append(stack)
        return stack

    yield start
    for stack in started:
        stack.stop()


def assert_no_key(run):
    text = run.stdout + run.stderr + repr(run.results)
    assert API_KEY not in text
    assert HMAC_KEY not in text


def enqueued(entries, prefix):
    """``[(ids, command)]`` of enqueue requests: the ids of the path after ``prefix`` and the plist's command."""
    found = []
    for entry in entries:
        ids = entry["path"][len(prefix) :].split(",")
        found.append((ids, plistlib.loads(entry["body"].encode("utf-8"))))
    return found


def batches_needed(count, size=100):
    return math.ceil(count / size)


def first_time(entries):
    return min(entry["time"] for entry in entries)


def apple_associates(sim):
    return posts(sim, "/assets/associate")


def apple_disassociates(sim):
    return posts(sim, "/assets/disassociate")


def info_task(task_name, name):
    return {"name": task_name, "mdm.vpp.vpp_deployment_info": {"name": name, "members": True}}


def members_of(run, task_name):
    """``{member id: member}`` of the one deployment a ``vpp_deployment_info`` task returned."""
    [deployment] = run.result(task_name)["deployments"]
    return {member["id"]: member for member in deployment["member_details"]}
