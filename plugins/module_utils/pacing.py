# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pacing: one rate limiter per content token in the process, keeping its requests under Apple's rate."""

from __future__ import annotations

import collections
import hashlib
import threading
import time

# Requests of a token are paced at RATE_SAFETY x Apple's rate, at most RATE_BURST of them ahead of an even
# schedule, and never more than ``rate`` in any window of 1 / RATE_SAFETY seconds (see RateLimiter).
RATE_SAFETY = 0.98
RATE_BURST = 5


def token_fingerprint(token):
    """A short, non-reversible name for a token (safe for keys and logs)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


class RateLimiter:
    """Paces one token's requests under Apple's ``maxRequestPerSecond``; safe across threads.

    Two rules, both kept: (1) an even schedule at ``rate * RATE_SAFETY`` that a request may run ahead of by at
    most ``RATE_BURST - 1`` intervals (a token's first few requests go out at once: 3,000 small syncs in a row
    must not each wait out a spacing); (2) at most ``rate`` starts in any window of ``1 / RATE_SAFETY`` seconds,
    so Apple's per-second count is never exceeded even after a burst. Even spacing keeps a server-side token
    bucket of capacity = rate nearly full (10 of 15 tokens spare at Apple's rate), so arrival jitter of hundreds
    of milliseconds does not bring a 429, and a long listing runs at 98% of the rate (docs/BENCHMARKS.md, B2).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._starts = collections.deque()  # the reserved start times still inside a window
        self._scheduled = 0.0  # when the next request is due on the even schedule

    def wait(self, rate):
        """Block until this caller may start a request under ``rate`` requests per second."""
        now = time.monotonic()
        start = self.reserve(rate, now)
        if start > now:
            time.sleep(start - now)

    def reserve(self, rate, now):
        """Reserve the earliest start at or after ``now`` that both rules allow, and return it."""
        slots = max(int(rate), 1)
        interval = 1.0 / max(rate * RATE_SAFETY, 0.001)
        window = slots * interval
        with self._lock:
            while len(self._starts) > slots or (self._starts and self._starts[0] + window <= now):
                self._starts.popleft()
            start = now if len(self._starts) < slots else self._starts[0] + window
            start = max(start, self._scheduled - (min(RATE_BURST, slots) - 1) * interval)
            self._scheduled = max(self._scheduled, start) + interval
            self._starts.append(start)
        return start


_LIMITERS = {}
_LIMITERS_LOCK = threading.Lock()


def limiter_for(api_url, token):
    """The one limiter of a token in this process (two clients of the same token share Apple's budget)."""
    key = (api_url, token_fingerprint(token))
    with _LIMITERS_LOCK:
        return _LIMITERS.setdefault(key, RateLimiter())
