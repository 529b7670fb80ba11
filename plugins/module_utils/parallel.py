# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tokens in parallel: one function per token in a bounded thread pool (vpp_sync, vpp_token_info's check).

Each token keeps under its own rate limit at Apple, so tokens may talk to Apple at once; ``parallel`` bounds how many.
At Apple's latency (hundreds of milliseconds a request) a token spends most of its sync waiting, so by default as
many tokens run at once as there are, up to ``PARALLEL_CEILING``: 3,000 locations at 4 at once took 8 minutes, at
64 at once well under one (docs/BENCHMARKS.md, B4L). Threads, not asyncio: the waiting is in sockets, which release
the GIL, and the measured bound at 64 is the CPU of the sync itself, not the threads (docs/architecture.md).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError

# The most tokens that talk to Apple at once by default (vpp_sync, vpp_token_info check); ``parallel`` may set more.
# Each one has up to MAX_PAGES_IN_FLIGHT + 1 requests in flight, so 64 tokens are at most 384 connections.
PARALLEL_CEILING = 64
DEFAULT_PARALLEL = None  # the option's default: derived from the number of tokens (default_parallel)


def default_parallel(token_count):
    """Tokens at once when ``parallel`` is not set: one per token, at most ``PARALLEL_CEILING``."""
    return max(1, min(int(token_count), PARALLEL_CEILING))


def resolve_parallel(parallel, token_count):
    """The ``parallel`` to use for ``token_count`` tokens: the one asked for, else ``default_parallel``."""
    return default_parallel(token_count) if parallel is None else parallel


def check_parallel(parallel):
    """Refuse a ``parallel`` option below 1 (``None`` is the default: derived from the number of tokens)."""
    if parallel is not None and parallel < 1:
        raise ConfigurationError(
            "parallel must be at least 1, got %d" % parallel,
            hint="leave it unset to run one token per thread, up to %d at once" % PARALLEL_CEILING,
        )


def for_each_token(function, items, parallel=DEFAULT_PARALLEL, thread_name="vpp-token"):
    """``[function(item) for item in items]`` in that order, up to ``parallel`` calls at once (in threads);
    ``parallel=None`` runs ``default_parallel(len(items))`` at once."""
    items = list(items)
    parallel = resolve_parallel(parallel, len(items))
    if len(items) <= 1 or parallel <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(parallel, len(items)), thread_name_prefix=thread_name) as pool:
        return list(pool.map(function, items))
