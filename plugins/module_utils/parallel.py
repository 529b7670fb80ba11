# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tokens in parallel: one function per token in a bounded thread pool (vpp_sync, vpp_token_info's check).

Each token keeps under its own rate limit at Apple, so tokens may talk to Apple at once; ``parallel`` bounds how many.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError

# Tokens that talk to Apple at once (vpp_sync, vpp_token_info check): each keeps under its own rate limit.
DEFAULT_PARALLEL = 4


def check_parallel(parallel):
    """Refuse a ``parallel`` option below 1."""
    if parallel < 1:
        raise ConfigurationError(
            "parallel must be at least 1, got %d" % parallel, hint="the default is %d" % DEFAULT_PARALLEL
        )


def for_each_token(function, items, parallel=DEFAULT_PARALLEL, thread_name="vpp-token"):
    """``[function(item) for item in items]`` in that order, up to ``parallel`` calls at once (in threads)."""
    items = list(items)
    if len(items) <= 1 or parallel <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(parallel, len(items)), thread_name_prefix=thread_name) as pool:
        return list(pool.map(function, items))
