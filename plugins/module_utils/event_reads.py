# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Apple client's event reads: one event's status, and waiting for many as Apple advises (``events`` holds the
pure parts: timing constants, results, per-member outcomes)."""

from __future__ import annotations

import collections
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.mdm.vpp.plugins.module_utils.events import (
    EVENTS_IN_FLIGHT,
    FIRST_POLL,
    event_batches,
    finished_result,
    pending_error,
)


class EventReads:
    """Mixin of ``VPPClient``: event status reads. The class provides ``request(method, endpoint, params=...)`` and
    ``poll_interval`` (seconds between polls of a PENDING event)."""

    def event_status(self, event_id):
        """Apple's ``StatusResponse`` of one event."""
        return self.request("GET", "eventStatus", params={"eventId": event_id})

    def wait_for_events(self, events, timeout=600, first_poll=FIRST_POLL, poll_interval=None, on_result=None):
        """Poll until every event is COMPLETE or FAILED; returns ``{event_id: result}`` in the given order.

        ``on_result(event_id, result)``, when given, is called (in this thread) as each event's finished status comes
        back, while the later reads are still in flight: the caller's bookkeeping overlaps the requests.

        Apple's guidance: a first read soon after submitting (``first_poll`` seconds after each batch's
        ``accepted_at``, ``time.monotonic()`` when Apple accepted it, else after now; 0 for events submitted by an
        earlier run), then at least 30 s between polls of a PENDING event (``poll_interval``, default the client's
        ``poll_interval``; lower it only against a test service). Events accepted long enough ago (the first of
        100 batches, while the others were sent) are read at once, the later ones when their time comes.

        ``events`` are event ids or the batches returned by the writers (then each result carries per-member
        ``outcomes``). Raises ``EventTimeoutError`` naming the still-pending ids when ``timeout`` runs out;
        the error's ``results`` attribute holds the events that did finish.
        """
        batches = event_batches(events)
        results = {}
        pending = list(batches)
        now = time.monotonic()
        deadline, first_poll = now + timeout, max(min(first_poll, timeout), 0)
        not_before = {
            event_id: (batch or {}).get("accepted_at", now) + first_poll for event_id, batch in batches.items()
        }
        while True:
            # up to EVENTS_IN_FLIGHT status reads at once (each under the token's rate): 100 events at Apple's
            # latency in 100 / 15 s, not 100 x 300 ms
            for event_id, status in self._statuses(list(pending), not_before):
                result = finished_result(event_id, status, batches[event_id])
                if result is not None:
                    results[event_id] = result
                    pending.remove(event_id)
                    if on_result is not None:
                        on_result(event_id, result)
            if not pending:
                return collections.OrderedDict((event_id, results[event_id]) for event_id in batches)
            not_before = {}
            interval = poll_interval or self.poll_interval
            if time.monotonic() + interval > deadline:  # the next read would come after the deadline
                raise pending_error(pending, timeout, results)
            time.sleep(interval)

    def _statuses(self, event_ids, not_before):
        """``(event_id, StatusResponse)`` of each event, in order, each yielded as soon as it (and those before it)
        came back; up to ``EVENTS_IN_FLIGHT`` reads at once, none before its ``not_before`` (monotonic) time."""

        def read(event_id):
            delay = not_before.get(event_id, 0) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            return self.event_status(event_id)

        if len(event_ids) <= 1:
            for event_id in event_ids:
                yield event_id, read(event_id)
            return
        workers = min(EVENTS_IN_FLIGHT, len(event_ids))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vpp-status") as pool:
            yield from zip(event_ids, pool.map(read, event_ids), strict=True)
