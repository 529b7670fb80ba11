# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paging: the records of one of Apple's paginated reads, fetched lazily, up to five pages in flight."""

from __future__ import annotations

import collections
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.mdm.vpp.plugins.module_utils.answers import check_page
from ansible_collections.mdm.vpp.plugins.module_utils.errors import AppleError

MAX_PAGES_IN_FLIGHT = 5  # Apple: at most 5 concurrent page requests
INVALID_PAGE = 9650


class Listing:
    """Records of a paginated read, fetched lazily page by page (flat memory); iterate it once.

    ``version_id`` comes from page 0 (reading it fetches page 0 if needed), ``total_pages`` is the latest
    ``totalPages`` Apple announced, ``pages_fetched`` counts pages read so far.
    """

    def __init__(self, client, endpoint, records_keys, params, max_in_flight=MAX_PAGES_IN_FLIGHT):
        self._client = client
        self._endpoint = endpoint
        self._records_keys = records_keys
        self._params = params
        self._max_in_flight = max(1, min(int(max_in_flight), MAX_PAGES_IN_FLIGHT))
        self._lock = threading.Lock()
        self._first_page = None
        self._first_future = None
        self._iterated = False
        self._highest_next = 0
        self.total_pages = None
        self.pages_fetched = 0

    @property
    def version_id(self):
        return self._page_zero().get("versionId")

    def __iter__(self):
        return itertools.chain.from_iterable(self.record_lists())

    def record_lists(self):
        """The records page by page: a list for each page and records key (none for an empty one); iterate once.

        What a bulk consumer reads (a sync of a million assignments builds its keys a page at a time); iterating
        the listing itself gives the same records one by one.
        """
        if self._iterated:
            raise RuntimeError("a Listing can be iterated only once; ask the client for a new one")
        self._iterated = True
        return self._record_lists()

    def _record_lists(self):
        for page in self._pages():
            for key in self._records_keys:
                records = page.get(key)
                if records:
                    yield records

    def start(self):
        """Ask for page 0 now, in the background, and return the listing.

        A sync starts its listings together, so their first pages cost one round trip, not one each (Apple
        answers in hundreds of milliseconds; 3,000 locations in one task pay it 3,000 times). The page's errors
        are raised when the listing is read.
        """
        if self._first_page is None and self._first_future is None:
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vpp-page0")
            self._first_future = pool.submit(self._fetch, 0)
            pool.shutdown(wait=False)  # the thread ends with its one request
        return self

    def _page_zero(self):
        if self._first_page is None:
            future, self._first_future = self._first_future, None
            self._first_page = self._fetch(0) if future is None else future.result()
        return self._first_page

    def _fetch(self, index):
        """One page, or ``None`` when a page after the first no longer exists (the listing shrank meanwhile)."""
        params = dict(self._params, pageIndex=index)
        try:
            page = self._client.request("GET", self._endpoint, params=params, check=self._check(index))
        except AppleError as err:
            if index > 0 and err.error_number == INVALID_PAGE:
                return None
            raise
        with self._lock:
            self.pages_fetched += 1
            if page.get("totalPages") is not None:
                self.total_pages = page["totalPages"]
            if page.get("nextPageIndex") is not None:
                self._highest_next = max(self._highest_next, page["nextPageIndex"])
        return page

    def _check(self, index):
        """The check of page ``index`` (``answers.check_page``), run by the client inside its retry loop."""
        return lambda page, label: check_page(page, label, self._records_keys, index)

    def _horizon(self):
        """One past the last page index known to exist (grows when Apple announces more pages)."""
        with self._lock:
            return max(self.total_pages or 0, self._highest_next + 1)

    def _pages(self):
        first = self._page_zero()
        yield first
        if first.get("nextPageIndex") is None:
            return
        if self._max_in_flight == 1:
            yield from self._sequential_pages(first["nextPageIndex"])
            return
        yield from self._parallel_pages()

    def _sequential_pages(self, index):
        while index is not None:
            page = self._fetch(index)
            if page is None:
                return
            yield page
            index = page.get("nextPageIndex")

    def _parallel_pages(self):
        # Pages are requested ahead (bounded by max_in_flight) but yielded strictly in order, so at most
        # max_in_flight pages sit in memory; the ordered page's nextPageIndex decides when the listing ends.
        pool = ThreadPoolExecutor(max_workers=self._max_in_flight, thread_name_prefix="vpp-pages")
        in_flight = collections.deque()
        last_submitted = 0
        try:
            while True:
                while len(in_flight) < self._max_in_flight and last_submitted + 1 < self._horizon():
                    last_submitted += 1
                    in_flight.append(pool.submit(self._fetch, last_submitted))
                if not in_flight:
                    return
                page = in_flight.popleft().result()
                if page is None:
                    return
                yield page
                if page.get("nextPageIndex") is None:
                    return
        finally:
            for future in in_flight:
                future.cancel()
            pool.shutdown(wait=True)
