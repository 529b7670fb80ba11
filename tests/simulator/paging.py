# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Zero-based page slicing and a small cache of filtered snapshots, so a page costs O(page size)."""

from __future__ import annotations

import collections
import threading

from .catalogue import ApiError


def page_meta(total_items, page_index, page_size):
    """Paging fields for one page; an empty result is one empty page (reference §7 [assume])."""
    total_pages = max(1, -(-total_items // page_size))
    if not 0 <= page_index < total_pages:
        raise ApiError(9650)
    start = page_index * page_size
    size = max(0, min(page_size, total_items - start))
    meta = {"currentPageIndex": page_index, "size": size, "totalPages": total_pages}
    if page_index + 1 < total_pages:
        meta["nextPageIndex"] = page_index + 1
    return meta, start, start + size


class SnapshotCache:
    """Keeps the last few filtered result lists, keyed by (location, query, dataset versions)."""

    def __init__(self, capacity=16):
        self._capacity = capacity
        self._entries = collections.OrderedDict()
        self._lock = threading.Lock()

    def get_or_build(self, key, build):
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        items = build()
        with self._lock:
            self._entries[key] = items
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        return items

    def clear(self):
        with self._lock:
            self._entries.clear()
