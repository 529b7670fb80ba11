# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the poller ``mdm.vpp.vpp_changes`` does at each look: the incremental sync of ``sync.py``, and one event
(``change_events``) per fact that changed since the previous look.

The state between looks is the store. The license counts before and after are the store's own diff, taken in the
sync's transaction (``license_count_changes``): a change another source already wrote to the store (Apple's
ASSET_COUNT through ``vpp_events``, a ``vpp_sync`` job) is not seen, and so not emitted, twice. A token's state
before a look is the one the previous look computed; on the first look after a start, the state the token had at
its last sync (``last_sync_at``), so a restart re-emits nothing and a token that entered its warning window while
no poller ran is reported once. A token's first import (never synced) emits only its apps that are low.

A token whose sync fails gives no count event (an error of Apple is never turned into data); its state event
comes from what the failure says about the token (revoked, expired, claimed_elsewhere), as the sync stores it.
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.change_events import (
    DEFAULT_LOW_THRESHOLD,
    FROM_POLL,
    app_fact,
    counts_fact,
    license_count_event,
    token_state_event,
)
from ansible_collections.mdm.vpp.plugins.module_utils.sync import SyncOptions, sync_tokens
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import parse_timestamp, utc_now
from ansible_collections.mdm.vpp.plugins.module_utils.token_facts import (
    DEFAULT_EXPIRY_WARNING_DAYS,
    token_facts,
    token_status,
)

POLL_MODE = "auto"  # incremental (Apple's versionId deltas), in full once a week as vpp_sync's mode auto
DEFAULT_INTERVAL = 300.0  # seconds between two looks: a few requests per token, far under Apple's rate limits
MIN_INTERVAL = 1.0


class ChangePoller:
    """Looks at the tokens ``names`` (None: every token of the store at each look) and tells what changed.

    ``client_factory(secret)`` returns a new ``VPPClient`` for a content token (called in the sync's threads).
    """

    def __init__(
        self,
        store,
        client_factory,
        names=None,
        low_threshold=DEFAULT_LOW_THRESHOLD,
        expiry_warning_days=DEFAULT_EXPIRY_WARNING_DAYS,
        parallel=None,
    ):
        self.store = store
        self.client_factory = client_factory
        self.names = list(names) if names else None
        self.low_threshold = low_threshold
        self.expiry_warning_days = expiry_warning_days
        self.parallel = parallel
        self.states = {}  # token name -> its state at the previous look

    def look(self, now=None):
        """Sync once; return ``(events, failures)``: the events of what changed, and ``(token, message, Apple's
        error number or None)`` of each token whose sync failed (the sync records Apple's refusal, never a secret)."""
        now = now or utc_now()
        names = self.names or [row["name"] for row in self.store.list_tokens()]
        if not names:
            return [], []
        rows_before = self.token_rows(names)
        outcome = sync_tokens(self.store, names, self.client_factory, SyncOptions(mode=POLL_MODE), self.parallel, now)
        rows_after = self.token_rows(names)
        events, failures = [], []
        for result in outcome["tokens"]:
            name, row_before = result["name"], rows_before.get(result["name"])
            if result["status"] == "ok":
                events.extend(self.count_events(name, result, first_import=not (row_before or {}).get("last_sync_at")))
            else:
                failures.append((name, result.get("msg") or "the sync failed", result.get("error_number")))
            event = self.token_event(name, row_before, rows_after.get(name), now)
            if event is not None:
                events.append(event)
        return events, failures

    def token_rows(self, names):
        """``{name: stored token row}`` of the registered ones among ``names``, in one query."""
        return {row["name"]: row for row in self.store.list_tokens(names)}

    def count_events(self, name, result, first_import=False):
        """One ``license_count`` event per app whose counts the sync changed (on a first import: the low ones)."""
        events = []
        for change in result["license_count_changes"]:
            app = app_fact(change["adam_id"], change["pricing_param"], change.get("name"))
            event = license_count_event(
                name, FROM_POLL, app, counts_fact(change["before"]), counts_fact(change["after"]), self.low_threshold
            )
            if not first_import or event["vpp"]["became_low"]:
                events.append(event)
        return events

    def token_event(self, name, row_before, row, now):
        """A ``token_state`` event when the token's state (``row``: its stored row after the look) differs from the
        previous look's, else None."""
        if row is None:  # not registered (its sync failed saying so) or deleted meanwhile
            self.states.pop(name, None)
            return None
        before = self.states.get(name)
        if before is None and row_before is not None:
            seen_at = parse_timestamp(row_before.get("last_sync_at")) or now
            before = token_status(row_before, seen_at, self.expiry_warning_days)
        facts = token_facts(row, now, self.expiry_warning_days)
        self.states[name] = facts["status"]
        if before is None or before == facts["status"]:
            return None
        return token_state_event(
            name, FROM_POLL, facts["status"], before, expires_at=facts["expires_at"], days_left=facts["days_left"]
        )
