# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An event source for ansible-rulebook: the incremental sync of the store's tokens on an interval, one event per
fact that changed (docs/events.md)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

DOCUMENTATION = r"""
---
short_description: Poll Apple's license service and emit what changed (license counts, low licenses, token states).
description:
  - Runs the incremental sync of mdm.vpp.vpp_sync (C(mode=auto)) on the store's tokens at start, then every
    O(interval) seconds, in a worker thread.
  - Puts on the queue one event per fact that changed since the previous look, in the vocabulary of
    mdm.vpp.vpp_events (C(event.vpp.kind)) - C(license_count) for an app whose counts changed (with C(low) and
    C(became_low) by O(low_threshold)), C(token_state) for a token that became expiring, expired, revoked or
    claimed_elsewhere (or valid again).
  - The state between looks is the store, so a restart emits nothing twice; a token synced for the first time
    emits only its apps that are low.
  - A token whose sync fails is logged (never with a secret) and the others go on.
options:
  tokens:
    description: The tokens to look at (names in the store); default every token of the store, at each look.
    type: list
    elements: str
  interval:
    description: Seconds between the starts of two looks (at least 1).
    type: float
    default: 300
  low_threshold:
    description: An app is low when it has licenses and at most this many are available.
    type: int
    default: 5
  expiry_warning_days:
    description: A token is C(expiring) from this many days before its expiry date.
    type: int
    default: 30
  parallel:
    description: How many tokens are synced at once; default derived from their number, as in mdm.vpp.vpp_sync.
    type: int
  store:
    description: The mdm.vpp store (SQLite path or postgresql:// DSN); default the environment variable VPP_STORE.
    type: str
  store_key:
    description: The store key; default VPP_STORE_KEY (a SQLite store may use its key file instead).
    type: str
  api_url:
    description: Apple's service URL; default VPP_API_URL, else Apple's.
    type: str
  validate_certs:
    description: Verify Apple's TLS certificate; default VPP_VALIDATE_CERTS, else true.
    type: bool
  ca_path:
    description: A CA bundle to verify Apple's certificate with; default VPP_CA_PATH.
    type: str
  timeout:
    description: Seconds one request to Apple may take; default VPP_TIMEOUT, else 30.
    type: int
  retries:
    description: How often a failed request to Apple is retried; default VPP_RETRIES, else 5.
    type: int
"""

EXAMPLES = r"""
- name: License changes from Apple
  hosts: localhost
  sources:
    - mdm.vpp.vpp_changes:
        interval: 600
        low_threshold: 10
  rules:
    - name: An app ran low
      condition: event.vpp.kind == "license_count" and event.vpp.became_low
      action:
        debug:
"""


def _collection_root():
    """The directory holding ``ansible_collections/`` (this file is .../mdm/vpp/extensions/eda/plugins/event_source)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.abspath(os.path.join(here, *[os.pardir] * 7))


if _collection_root() not in sys.path:
    sys.path.insert(0, _collection_root())

# pylint: disable=wrong-import-position
from ansible.module_utils.parsing.convert_bool import boolean  # noqa: E402

from ansible_collections.mdm.vpp.plugins.module_utils.change_events import DEFAULT_LOW_THRESHOLD  # noqa: E402
from ansible_collections.mdm.vpp.plugins.module_utils.change_poll import (  # noqa: E402
    DEFAULT_INTERVAL,
    MIN_INTERVAL,
    ChangePoller,
)
from ansible_collections.mdm.vpp.plugins.module_utils.client import DEFAULT_API_URL, VPPClient  # noqa: E402
from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError, VPPError  # noqa: E402
from ansible_collections.mdm.vpp.plugins.module_utils.module import censored, check_api_url  # noqa: E402
from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store  # noqa: E402
from ansible_collections.mdm.vpp.plugins.module_utils.token_facts import DEFAULT_EXPIRY_WARNING_DAYS  # noqa: E402

LOG = logging.getLogger("mdm.vpp.vpp_changes")

# option -> (environment variable, default, type) for the connection options shared with the modules
CONNECTION = {
    "api_url": ("VPP_API_URL", DEFAULT_API_URL, str),
    "validate_certs": ("VPP_VALIDATE_CERTS", True, boolean),
    "ca_path": ("VPP_CA_PATH", None, str),
    "timeout": ("VPP_TIMEOUT", 30, int),
    "retries": ("VPP_RETRIES", 5, int),
}


def connection(args):
    """The connection options: the source's argument, else its environment variable, else the modules' default."""
    settings = {}
    for option, (variable, default, kind) in CONNECTION.items():
        value = args.get(option)
        if value is None or value == "":
            value = os.environ.get(variable) or default
        settings[option] = None if value is None else kind(value)
    check_api_url(settings["api_url"])
    return settings


def number(args, option, default, kind, least):
    """A numeric option, at least ``least``; a clear error otherwise."""
    value = args.get(option)
    try:
        value = default if value is None or value == "" else kind(value)
    except (TypeError, ValueError):
        value = None
    if value is None or value < least:
        raise ConfigurationError(
            "mdm.vpp.vpp_changes: %s must be a number of at least %s, got %r" % (option, least, args.get(option)),
            hint="fix the source's %s argument in the rulebook" % option,
        )
    return value


class Source:
    """The source's settings and its poller; ``secrets`` are the content tokens its clients were given, so that
    no log line can hold one."""

    def __init__(self, args):
        location = args.get("store") or os.environ.get("VPP_STORE")
        if not location:
            raise ConfigurationError(
                "mdm.vpp.vpp_changes needs store (or the environment variable VPP_STORE): the mdm.vpp store whose "
                "tokens it syncs; set it in the source's arguments or in ansible-rulebook's environment"
            )
        self.interval = number(args, "interval", DEFAULT_INTERVAL, float, MIN_INTERVAL)
        self.connection = connection(args)
        low_threshold = number(args, "low_threshold", DEFAULT_LOW_THRESHOLD, int, 0)
        warning_days = number(args, "expiry_warning_days", DEFAULT_EXPIRY_WARNING_DAYS, int, 0)
        parallel = number(args, "parallel", None, int, 1) if args.get("parallel") else None
        tokens = args.get("tokens") or None
        if isinstance(tokens, str):
            tokens = [tokens]
        self.secrets = set()
        self.failed = {}  # token name -> its failure at the previous look (Apple's error number, else the message)
        self.store = open_store(location, args.get("store_key") or os.environ.get("VPP_STORE_KEY"), create=False)
        self.poller = ChangePoller(self.store, self.client_for, tokens, low_threshold, warning_days, parallel)

    def client_for(self, secret):
        self.secrets.add(secret)
        options = dict(self.connection)
        return VPPClient(options.pop("api_url"), secret, manager_id=self.store.manager_id, **options)

    def look(self):
        """One look (in a worker thread): the events; failures are logged here, without secrets."""
        try:
            events, failures = self.poller.look()
        except VPPError as exc:  # the store could not be read: nothing is known, nothing is emitted
            LOG.error("mdm.vpp.vpp_changes: the look failed, tried again in %s s: %s", self.interval, self.censor(exc))
            return []
        failed = {}
        for name, message, error_number in failures:
            # said once at WARNING; the same failure at the next looks (a revoked token stays revoked) at DEBUG
            failed[name] = error_number if error_number is not None else message
            level = logging.DEBUG if self.failed.get(name) == failed[name] else logging.WARNING
            LOG.log(level, "mdm.vpp.vpp_changes: token %s was not synced: %s", name, self.censor(message))
        self.failed = failed
        return events

    def censor(self, message):
        return censored(str(message), self.secrets)


async def main(queue, args):
    """Look at start, then every ``interval`` seconds, until cancelled."""
    source = Source(args)
    loop = asyncio.get_running_loop()
    LOG.info("mdm.vpp.vpp_changes: a look every %s s", source.interval)
    looking = None
    try:
        while True:
            started = loop.time()
            looking = asyncio.ensure_future(asyncio.to_thread(source.look))
            for event in await asyncio.shield(looking):  # a cancel leaves the sync to end
                await queue.put(event)
            await asyncio.sleep(max(0.0, source.interval - (loop.time() - started)))
    finally:
        if looking is not None and not looking.done():
            # cancelled during a look: the sync's thread cannot be stopped; its end is awaited before the store closes
            LOG.info("mdm.vpp.vpp_changes: stopping after the look under way")
            await asyncio.wait([looking])
        source.store.close()
