# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the event source tests: a store holding deployments that wait on MDM commands, the source
``mdm.vpp.vpp_events`` served on 127.0.0.1 by its own ``main(queue, args)``, and the MDM stand-in posting to it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket

import pytest
import pytest_asyncio

from ansible_collections.mdm.vpp.extensions.eda.plugins.event_source import vpp_events
from ansible_collections.mdm.vpp.plugins.module_utils.stoken import parse_content_token
from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store
from tests.mdm_simulator import MDMSimulator
from tests.mdm_simulator.testing import IPAD, IPHONE

STORE_KEY = "store key of the event source tests"
HMAC_KEY = "webhook hmac key of the event source tests"
API_KEY = "nanomdm api key of the event source tests"
INSTALL_UUID = "0c9a4c8e-1111-4000-8000-000000000001"
REMOVE_UUID = "0c9a4c8e-2222-4000-8000-000000000002"
PAGES = "1000000001"
PHONE_SERIAL, IPAD_SERIAL = "C02XK0AAJG5H", "DMPXK1ABCDEF"
START_TIMEOUT = 10.0  # seconds for the source's port to answer


def content_token():
    payload = json.dumps({"token": "c2VjcmV0LXRva2Vu-INNER", "expDate": "2031-02-14T09:15:00+0000",
                          "orgName": "Example School"})  # fmt: skip
    return parse_content_token(base64.b64encode(payload.encode("utf-8")).decode("ascii") + "\n")


@pytest.fixture
def store_path(tmp_path):
    """A SQLite store: install deployment ``pages-phones`` (two devices sent INSTALL_UUID) and uninstall deployment
    ``pages-off`` (the iPhone sent REMOVE_UUID), as vpp_deployment records them."""
    path = str(tmp_path / "store" / "vpp.db")
    store = open_store(path, key=STORE_KEY)
    try:
        store.upsert_token("hq", content_token(), uid="9000000000000001", token_type="business")
        store.upsert_application("pages", token="hq", adam_id=PAGES)
        for name, action in (("pages-phones", "install"), ("pages-off", "uninstall")):
            store.upsert_deployment(name, application="pages", collection_name=name + " collection",
                                    collection_type="device", action=action, purpose="required",
                                    license_type="device")  # fmt: skip
        store.upsert_members("pages-phones", [
            {"member_id": serial, "license_type": "device", "state": "licensed", "enrollment_id": udid,
             "install_state": "sent", "command_uuid": INSTALL_UUID}
            for serial, udid in ((PHONE_SERIAL, IPHONE), (IPAD_SERIAL, IPAD))
        ])  # fmt: skip
        store.upsert_members("pages-off", [
            {"member_id": PHONE_SERIAL, "license_type": "device", "state": "pending", "enrollment_id": IPHONE,
             "install_state": "removal_sent", "command_uuid": REMOVE_UUID}
        ])  # fmt: skip
    finally:
        store.close()
    return path


def install_states(path, deployment):
    """``{member_id: (install_state, install_error)}`` of a deployment, read from the store."""
    store = open_store(path, key=STORE_KEY, create=False)
    try:
        return {
            row["member_id"]: (row["install_state"], row["install_error"]) for row in store.list_members(deployment)
        }
    finally:
        store.close()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Source:
    """``vpp_events.main(queue, args)`` running as a task of the test's event loop."""

    def __init__(self, args):
        self.args = dict(args)
        self.args.setdefault("port", free_port())
        self.url = "http://127.0.0.1:%d%s" % (self.args["port"], self.args.get("mdm_path") or "/mdm/webhook")
        self.queue = asyncio.Queue()
        self.task = None

    async def start(self):
        self.task = asyncio.create_task(vpp_events.main(self.queue, self.args))
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        while True:
            if self.task.done():
                self.task.result()  # raises the source's error
            try:
                writer = (await asyncio.open_connection("127.0.0.1", self.args["port"]))[1]
            except OSError:
                assert asyncio.get_running_loop().time() < deadline, "the source did not listen in time"
                await asyncio.sleep(0.02)
                continue
            writer.close()
            await writer.wait_closed()
            return self

    async def stop(self):
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    async def next_event(self, timeout=10.0):
        return await asyncio.wait_for(self.queue.get(), timeout)

    def drain(self):
        """The events queued so far."""
        events = []
        while not self.queue.empty():
            events.append(self.queue.get_nowait())
        return events


@pytest_asyncio.fixture
async def source_factory():
    started = []

    async def factory(**args):
        source = await Source(args).start()
        started.append(source)
        return source

    yield factory
    for source in started:
        await source.stop()


@pytest_asyncio.fixture
async def source(source_factory, store_path):
    """The source on the store, checking NanoMDM's HMAC."""
    return await source_factory(store=store_path, store_key=STORE_KEY, mdm_hmac_key=HMAC_KEY)


@pytest.fixture
def mdm_factory():
    """MDM stand-ins (small.yml, every App Store install licensed) posting their webhook where told."""
    started = []

    def factory(webhook_url, flavor="nanomdm", hmac_key=HMAC_KEY):
        mdm = MDMSimulator(flavor=flavor, api_key=API_KEY, webhook_url=webhook_url, webhook_hmac_key=hmac_key)
        started.append(mdm.start())
        return mdm

    yield factory
    for mdm in started:
        mdm.stop()
