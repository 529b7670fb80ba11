# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Syncing many tokens (``vpp_sync``, and ``vpp_app_info``'s refresh): one ``TokenSync`` per token, in parallel.

Tokens are synced by a bounded thread pool; each worker has its own ``VPPClient`` (Apple's per-token rate limit is
the client's business) and the store hands every thread its own connection. One failing token never stops the
others; ``run_module`` fails at the end, naming each failed token. One token's sync is ``token_sync.py``, the pure
decisions ``sync_decisions.py``.
"""

from __future__ import annotations

import time

from ansible_collections.mdm.vpp.plugins.module_utils.errors import VPPError
from ansible_collections.mdm.vpp.plugins.module_utils.parallel import DEFAULT_PARALLEL, for_each_token
from ansible_collections.mdm.vpp.plugins.module_utils.sync_decisions import (
    DEFAULT_FULL_SYNC_INTERVAL_DAYS,
    DEFAULT_MODE,
    MODES,
    REASON_COUNTS_DISAGREE,
    REASON_NEVER_SYNCED,
    REASON_NO_VERSION,
    REASON_REQUESTED,
    REASON_VERSION_REJECTED,
    UNLIMITED_TOTAL_COUNT,
    SyncOptions,
    asset_row,
    choose_mode,
    count_changes,
    describe_counts,
    failure_message,
    license_picture,
    new_token_result,
    page_assignment_keys,
    store_changed,
    summarize,
    surplus_assignments,
    task_diff,
    user_row,
    validate_options,
)
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import utc_now
from ansible_collections.mdm.vpp.plugins.module_utils.token_sync import TokenSync
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import apple_assignment_key

# The older name of vocabulary.apple_assignment_key (an Apple Assignment record's identity), kept for callers.
assignment_key = apple_assignment_key

# Names other files and the tests import from here (their home is sync_decisions, token_sync and parallel).
__all__ = [
    "DEFAULT_FULL_SYNC_INTERVAL_DAYS",
    "DEFAULT_MODE",
    "DEFAULT_PARALLEL",
    "MODES",
    "REASON_COUNTS_DISAGREE",
    "REASON_NEVER_SYNCED",
    "REASON_NO_VERSION",
    "REASON_REQUESTED",
    "REASON_VERSION_REJECTED",
    "UNLIMITED_TOTAL_COUNT",
    "SyncOptions",
    "TokenSync",
    "asset_row",
    "assignment_key",
    "choose_mode",
    "count_changes",
    "describe_counts",
    "failure_message",
    "license_picture",
    "new_token_result",
    "page_assignment_keys",
    "run_module",
    "store_changed",
    "summarize",
    "surplus_assignments",
    "sync_tokens",
    "task_diff",
    "user_row",
    "validate_options",
]


def sync_tokens(store, names, client_factory, options, parallel=DEFAULT_PARALLEL, now=None):
    """Sync the tokens ``names`` (``parallel`` at once); one failing token never stops the others.

    ``client_factory(secret)`` returns a new ``VPPClient`` for a content token (called in the worker threads).
    Returns ``{"changed", "run_id", "tokens": [per-token results in the order of names], "totals"}``.
    """
    started = time.monotonic()
    names = list(dict.fromkeys(names))
    now = now or utc_now()

    def sync_one(name):
        return TokenSync(store, name, client_factory, options, now=now).run()

    results = for_each_token(sync_one, names, parallel, thread_name="vpp-sync")
    return {
        "changed": any(result["changed"] for result in results),
        "run_id": options.run_id,
        "tokens": results,
        "totals": summarize(results, time.monotonic() - started),
    }


def run_module(module):
    """What ``mdm.vpp.vpp_sync`` does: sync the chosen tokens; fail at the end, naming each failed token."""
    params = module.params
    validate_options(params["mode"], params["full_sync_interval_days"], params["parallel"])
    store = module.store
    names = params["tokens"] if params["tokens"] else [token["name"] for token in store.list_tokens()]
    if not names:
        module.warn("no token registered in store %s: nothing was synchronised" % store.location)
    options = SyncOptions(
        mode=params["mode"],
        full_sync_interval_days=params["full_sync_interval_days"],
        metadata=params["metadata"],
        check_mode=module.check_mode,
        diff=module.diff_mode,
    )
    parallel = module.share_connections(params["parallel"], len(names))
    outcome = sync_tokens(store, names, module.client_for, options, parallel=parallel)
    for result in outcome["tokens"]:
        for warning in result["warnings"]:
            module.warn("token %s: %s" % (result["name"], warning))
    if options.diff:
        outcome["diff"] = task_diff(outcome["tokens"])
        for result in outcome["tokens"]:
            result.pop("diff", None)
    if outcome["totals"]["failed"]:
        raise VPPError(failure_message(outcome["tokens"]), details=outcome)
    return outcome
