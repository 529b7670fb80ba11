# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The poller ``mdm.vpp.vpp_changes``: its ``main(queue, args)`` against the Apple simulator (its hooks buy and
refund licenses, expire and revoke tokens) and a real SQLite store.

A look's end is seen through the simulator: look n+1 asks for each token's client config only once look n has put
its events on the queue, so no test waits on a clock."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import timedelta

import pytest
import pytest_asyncio

from ansible_collections.mdm.vpp.extensions.eda.plugins.event_source import vpp_changes
from ansible_collections.mdm.vpp.plugins.module_utils.client import VPPClient
from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.stoken import parse_content_token
from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store
from ansible_collections.mdm.vpp.plugins.module_utils.sync import SyncOptions, sync_tokens
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import utc_now
from tests.unit.sync.conftest import LOCATIONS, scenario

pytestmark = pytest.mark.asyncio

STORE_KEY = "store key of the poller tests"
PAGES, KEYNOTE = "1000000001", "1000000002"
CLIENT_CONFIG = ("GET", "/mdm/v2/client/config")
LOOK_TIMEOUT = 30.0  # seconds for the poller to reach a look


@pytest.fixture
def sim(simulator_factory):
    return simulator_factory(scenario())


def register(path, sim, synced=True):
    """Both locations registered as vpp_token leaves them; ``synced``: and synced once, as vpp_sync leaves them."""
    store = open_store(path, key=STORE_KEY)
    try:
        for name, location in LOCATIONS.items():
            store.upsert_token(name, parse_content_token(sim.tokens[location]), status="active")
        if synced:

            def client(secret):
                return VPPClient(sim.url, secret, manager_id=store.manager_id, timeout=5)

            outcome = sync_tokens(store, list(LOCATIONS), client, SyncOptions(mode="full"))
            assert [result["status"] for result in outcome["tokens"]] == ["ok", "ok"]
    finally:
        store.close()


@pytest.fixture
def store_path(tmp_path, sim):
    path = str(tmp_path / "store" / "vpp.db")
    register(path, sim)
    return path


class Poller:
    """``vpp_changes.main(queue, args)`` as a task of the test's event loop, looking every second."""

    def __init__(self, sim, args):
        self.sim, self.args, self.queue = sim, args, asyncio.Queue()
        self.task = asyncio.create_task(vpp_changes.main(self.queue, args))
        self.tokens = len(args.get("tokens") or LOCATIONS)
        self.base = sim.request_counts().get(CLIENT_CONFIG, 0)

    def looks_begun(self):
        return -(-(self.sim.request_counts().get(CLIENT_CONFIG, 0) - self.base) // self.tokens)

    async def settled(self):
        """The events put since the last call, once a look that began after this call has ended (a change made
        at Apple before the call is seen by it): waits until the look after that one begins."""
        deadline = asyncio.get_running_loop().time() + LOOK_TIMEOUT
        wanted = self.base + self.tokens * (self.looks_begun() + 1) + 1
        while self.sim.request_counts().get(CLIENT_CONFIG, 0) < wanted:
            if self.task.done():
                self.task.result()
            assert asyncio.get_running_loop().time() < deadline, "the poller did not end a look in time"
            await asyncio.sleep(0.05)
        events = []
        while not self.queue.empty():
            events.append(self.queue.get_nowait()["vpp"])
        return events

    async def stop(self):
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@pytest_asyncio.fixture
async def poller(sim, store_path):
    started = []

    def start(**args):
        args = dict({"store": store_path, "store_key": STORE_KEY, "api_url": sim.url, "interval": 1}, **args)
        started.append(Poller(sim, args))
        return started[-1]

    yield start
    for running in started:
        await running.stop()


def no_secret(sim, *texts):
    for text in texts:
        text = text if isinstance(text, str) else json.dumps(text)
        assert STORE_KEY not in text
        for token in sim.tokens.values():
            assert token not in text


def counts(total, assigned, available):
    return {"total": total, "assigned": assigned, "available": available}


async def test_a_purchase_gives_one_count_event_and_no_change_gives_none(sim, poller, caplog):
    watching = poller()
    assert await watching.settled() == []  # the store is as Apple is: nothing to tell
    sim.purchase("business-hq", PAGES, 5)
    events = await watching.settled()
    assert events == [
        {"kind": "license_count", "token": "hq", "source": "sync",
         "app": {"adam_id": PAGES, "pricing_param": "STDQ", "name": "Pages"},
         "counts_before": counts(50, 2, 48), "counts": counts(55, 2, 53), "delta": 5,
         "low": False, "became_low": False, "low_threshold": 5}
    ]  # fmt: skip
    assert await watching.settled() == []
    await watching.stop()
    # a restart compares with the store: what was told is not told again
    assert await poller().settled() == []
    no_secret(sim, events, caplog.text)


async def test_an_app_becoming_low_is_told_once(sim, poller):
    watching = poller(low_threshold=5, tokens=["hq"])
    await watching.settled()
    sim.purchase("business-hq", PAGES, -44)  # 6 licenses, 2 assigned: 4 left
    (low,) = await watching.settled()
    assert (low["counts"], low["low"], low["became_low"]) == (counts(6, 2, 4), True, True)
    sim.purchase("business-hq", PAGES, -1)
    (lower,) = await watching.settled()
    assert (lower["counts"], lower["low"], lower["became_low"]) == (counts(5, 2, 3), True, False)
    sim.purchase("business-hq", PAGES, 10)
    (enough,) = await watching.settled()
    assert (enough["counts"], enough["low"], enough["became_low"]) == (counts(15, 2, 13), False, False)


async def test_a_revoked_token_is_told_once_and_the_other_token_goes_on(sim, poller, caplog):
    caplog.set_level(logging.WARNING, logger="mdm.vpp.vpp_changes")
    watching = poller()
    await watching.settled()
    sim.revoke_token("business-hq")
    sim.purchase("school-east", PAGES, 2)
    events = await watching.settled()
    by_kind = {event["kind"]: event for event in events}
    assert len(events) == 2
    assert by_kind["token_state"]["token"] == "hq"
    assert (by_kind["token_state"]["state_before"], by_kind["token_state"]["state"]) == ("valid", "revoked")
    assert by_kind["license_count"]["token"] == "east"
    assert by_kind["license_count"]["counts"] == counts(12, 0, 12)
    assert "token hq was not synced" in caplog.text and "revoked" in caplog.text
    assert await watching.settled() == []  # still revoked: nothing new, and the warning is not repeated
    assert caplog.text.count("token hq was not synced") == 1
    no_secret(sim, events, caplog.text)


async def test_expired_and_claimed_elsewhere_tokens_are_told(sim, poller):
    watching = poller()
    await watching.settled()
    sim.expire_token("school-east")
    sim.set_mdm_info("business-hq", {"id": "another-mdm", "name": "Other MDM", "metadata": "x"})
    events = await watching.settled()
    states = {event["token"]: (event["state_before"], event["state"]) for event in events}
    assert states == {"east": ("expiring", "expired"), "hq": ("valid", "claimed_elsewhere")}
    assert {event["kind"] for event in events} == {"token_state"}


async def test_a_token_that_entered_its_warning_window_since_its_last_sync_is_told(sim, store_path, poller):
    store = open_store(store_path, key=STORE_KEY, create=False)
    try:  # east expires in 10 days; when it was last synced, 25 days ago, it had 35 left
        store.mark_synced("east", at=utc_now() - timedelta(days=25))
    finally:
        store.close()
    watching = poller()
    (expiring,) = await watching.settled()
    assert (expiring["kind"], expiring["token"]) == ("token_state", "east")
    assert (expiring["state_before"], expiring["state"]) == ("valid", "expiring")
    assert expiring["days_left"] in (9, 10) and expiring["expires_at"]
    assert await watching.settled() == []


async def test_a_first_import_tells_only_the_apps_that_are_low(sim, tmp_path, poller):
    path = str(tmp_path / "fresh" / "vpp.db")
    register(path, sim, synced=False)
    (keynote,) = await poller(store=path).settled()  # Keynote: 3 licenses, none assigned
    assert (keynote["token"], keynote["app"]["adam_id"]) == ("hq", KEYNOTE)
    assert (keynote["counts_before"], keynote["counts"]) == (counts(0, 0, 0), counts(3, 0, 3))
    assert keynote["became_low"] is True


async def test_bad_arguments_are_refused_before_anything_is_synced(sim, store_path, monkeypatch):
    monkeypatch.delenv("VPP_STORE", raising=False)
    before = sim.request_counts()
    for args, words in (
        ({}, "needs store"),
        ({"store": store_path, "store_key": STORE_KEY, "interval": 0}, "interval must be a number of at least 1"),
        ({"store": store_path, "store_key": STORE_KEY, "api_url": "http://apple.example.com/mdm/v2"}, "api_url"),
    ):
        with pytest.raises(ConfigurationError, match=words):
            await vpp_changes.main(asyncio.Queue(), args)
    assert sim.request_counts() == before
