# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only code that speaks HTTP to Apple's "Apps and Books" license service (v2).

One ``VPPClient`` per content token. It reads limits and URLs from ``GET /service/config`` (cached per
``api_url`` for five minutes and shared by every client of the process), paces its requests under Apple's
``maxRequestPerSecond``, retries throttling and server faults in one place, follows pages (up to five in
flight), cuts writes into batches Apple accepts, polls asynchronous events and maps their failures back to
each member, and watches every answer's ``mdmInfo`` for a takeover by another device-management service.

Secrets: the content token lives in the session's ``Authorization`` header only (the metadata lookup's ``itvt``
cookie is built from it per request). Exception texts name the
endpoint and Apple's ``errorNumber``; they never carry headers, the token, or the text of a ``requests``
exception (which can include request details).
"""

from __future__ import annotations

import collections
import email.utils
import hashlib
import random
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.mdm.vpp.plugins.module_utils.answers import CHECKS, check_page
from ansible_collections.mdm.vpp.plugins.module_utils.errors import (
    AppleError,
    ConfigurationError,
    EventTimeoutError,
    MalformedAnswerError,
    RateLimitedError,
    ServiceUnavailableError,
    TakeoverError,
    error_for,
)
from ansible_collections.mdm.vpp.plugins.module_utils.submission import OnSubmit, submit_batches
from ansible_collections.mdm.vpp.plugins.module_utils.version import USER_AGENT

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.exceptions import HTTPError as Urllib3Error
    from urllib3.exceptions import TimeoutError as Urllib3TimeoutError

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised only where requests is missing
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

MAX_ANSWER_BYTES = 64 * 1024 * 1024  # a larger answer is an error (Apple's pages are far smaller)
READ_CHUNK = 65536
DEFAULT_API_URL = "https://vpp.itunes.apple.com/mdm/v2"
DEFAULT_METADATA_URL = "https://uclient-api.itunes.apple.com/WebObjects/MZStorePlatform.woa/wa/lookup"

# Apple's documented example values, used only for a key the service config does not send.
FALLBACK_LIMITS = {
    "maxAssets": 25,
    "maxClientUserIds": 1000,
    "maxSerialNumbers": 1000,
    "maxRevokeClientUserIds": 100,
    "maxRevokeSerialNumbers": 100,
    "maxUsers": 100,
    "maxNotificationLength": 512,
    "maxMdmNameLength": 100,
    "maxMdmMetadataLength": 255,
    "maxMdmIdLength": 100,
    "maxRequestPerSecond": 15,
}

# urls key in the service config -> path under api_url, used when the service config lacks that key.
ENDPOINTS = {
    "clientConfig": "/client/config",
    "getAssets": "/assets",
    "associateAssets": "/assets/associate",
    "disassociateAssets": "/assets/disassociate",
    "revokeAssets": "/assets/revoke",
    "getAssignments": "/assignments",
    "getUsers": "/users",
    "createUsers": "/users/create",
    "updateUsers": "/users/update",
    "retireUsers": "/users/retire",
    "eventStatus": "/status",
}

SERVICE_CONFIG_TTL = 300.0  # Apple: refresh limits and URLs every 5 minutes
MAX_PAGES_IN_FLIGHT = 5  # Apple: at most 5 concurrent page requests
METADATA_BATCH = 100  # ids per legacy metadata lookup (undocumented; what MDMs use in practice)
# Requests of a token are paced at RATE_SAFETY x Apple's rate, at most RATE_BURST of them ahead of an even
# schedule, and never more than ``rate`` in any window of 1 / RATE_SAFETY seconds (see RateLimiter).
RATE_SAFETY = 0.98
RATE_BURST = 5
FIRST_POLL = 1.0  # Apple: read a new event's status soon after submitting it...
POLL_INTERVAL = 30.0  # ...then at least 30 s between polls while it is PENDING
RETRYABLE_ERROR_NUMBERS = frozenset((9603, 9644, 9646, 9729))
FINISHED_EVENT_STATES = ("COMPLETE", "FAILED")
DEFAULT_PRICING_PARAM = "STDQ"  # Apple: an asset given without pricingParam means STDQ
INVALID_PAGE = 9650


# --- service config, shared by every client of the process ---------------------------------------------------

_SERVICE_CONFIGS = {}  # api_url -> (monotonic time fetched, config dict)
_SERVICE_CONFIG_LOCK = threading.Lock()


def clear_service_config_cache():
    """Forget every cached service config (tests that change the simulator's limits call this)."""
    with _SERVICE_CONFIG_LOCK:
        _SERVICE_CONFIGS.clear()


def _cached_service_config(api_url, fetch, now=None):
    """The service config for ``api_url``: cached for ``SERVICE_CONFIG_TTL`` seconds, fetched once when stale.

    The lock is held while fetching so that 300 clients starting together cost one request, not 300.
    """
    with _SERVICE_CONFIG_LOCK:
        now = time.monotonic() if now is None else now
        cached = _SERVICE_CONFIGS.get(api_url)
        if cached is not None and now - cached[0] < SERVICE_CONFIG_TTL:
            return cached[1]
        config = fetch()
        _SERVICE_CONFIGS[api_url] = (time.monotonic(), config)
        return config


# --- pure helpers ----------------------------------------------------------------------------------------------


def snake_to_camel(name):
    """``min_available_count`` -> ``minAvailableCount``; camelCase names pass through unchanged."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def query_params(filters):
    """Apple's query parameters from Python keyword filters: camelCase names, booleans as ``true``/``false``."""
    params = {}
    for name, value in filters.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        params[snake_to_camel(name)] = value
    return params


def unique(items):
    """The items without duplicates, first occurrence kept, order preserved."""
    seen = set()
    result = []
    for item in items:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result


def chunks(items, size):
    """``items`` cut into consecutive lists of at most ``size`` (a limit below 1 is treated as 1)."""
    size = max(int(size), 1)
    return [items[start : start + size] for start in range(0, len(items), size)]


def normalize_asset(asset):
    """An asset as Apple's ``{"adamId": str, "pricingParam": str}``.

    Accepts an adamId (str/int), an ``(adamId, pricingParam)`` pair, or a dict in Apple's or snake_case spelling.
    """
    if isinstance(asset, dict):
        adam_id = asset.get("adamId", asset.get("adam_id"))
        pricing = asset.get("pricingParam", asset.get("pricing_param"))
    elif isinstance(asset, (tuple, list)):
        adam_id, pricing = asset
    else:
        adam_id, pricing = asset, None
    if adam_id is None or str(adam_id) == "":
        raise ConfigurationError("an asset needs an adamId, got %r" % (asset,))
    return {"adamId": str(adam_id), "pricingParam": pricing or DEFAULT_PRICING_PARAM}


def asset_key(asset):
    """Hashable identity of an asset: (adamId, pricingParam)."""
    normalized = normalize_asset(asset)
    return normalized["adamId"], normalized["pricingParam"]


def normalize_user(user):
    """A ``RequestUser`` in Apple's spelling (``clientUserId``, ``email``, ``managedAppleId``); a str is an id."""
    if not isinstance(user, dict):
        user = {"clientUserId": user}
    normalized = {snake_to_camel(key): value for key, value in user.items() if value is not None}
    if not normalized.get("clientUserId"):
        raise ConfigurationError("a user needs a clientUserId")
    normalized["clientUserId"] = str(normalized["clientUserId"])
    return normalized


def plan_batches(
    assets=(), client_user_ids=(), serial_numbers=(), *, max_assets=None, max_client_user_ids, max_serial_numbers
):
    """Cut one logical asset request into requests Apple accepts.

    Ids are de-duplicated first (a duplicate is a hard 400 at Apple). Every asset chunk is combined with every
    target chunk. A batch carries users only or devices only: Apple refuses a request naming both (Fleet's
    api.go), and a synchronous refusal of a user (9609, 9622) must never take devices down with it. With
    ``max_assets=None`` (revoke) the batches carry no assets. Returns a list of ``{"assets", "client_user_ids",
    "serial_numbers"}``; empty when there is nothing to do.
    """
    users = unique(str(user_id) for user_id in client_user_ids)
    serials = unique(str(serial) for serial in serial_numbers)
    if not users and not serials:
        return []
    if max_assets is None:
        asset_chunks = [[]]
    else:
        by_key = collections.OrderedDict((asset_key(asset), None) for asset in assets)
        normalized = [{"adamId": adam_id, "pricingParam": pricing} for adam_id, pricing in by_key]
        if not normalized:
            return []
        asset_chunks = chunks(normalized, max_assets)
    user_chunks = chunks(users, max_client_user_ids)
    serial_chunks = chunks(serials, max_serial_numbers)
    batches = []
    for asset_chunk in asset_chunks:
        for user_chunk in user_chunks:
            batches.append({"assets": asset_chunk, "client_user_ids": user_chunk, "serial_numbers": []})
        for serial_chunk in serial_chunks:
            batches.append({"assets": asset_chunk, "client_user_ids": [], "serial_numbers": serial_chunk})
    return batches


def plan_user_batches(users, max_users):
    """Cut users into batches of ``max_users``, one entry per clientUserId (first occurrence wins)."""
    by_id = collections.OrderedDict()
    for user in users:
        normalized = normalize_user(user)
        by_id.setdefault(normalized["clientUserId"], normalized)
    return [{"users": chunk} for chunk in chunks(list(by_id.values()), max_users)]


def batch_members(batch):
    """Every member of a submitted batch: one per (asset, target) pair, or per target (revoke), or per user."""
    if batch.get("users"):
        return [{"client_user_id": user["clientUserId"]} for user in batch["users"]]
    targets = [("client_user_id", user_id) for user_id in batch.get("client_user_ids") or ()]
    targets += [("serial_number", serial) for serial in batch.get("serial_numbers") or ()]
    assets = batch.get("assets") or [None]
    members = []
    for asset in assets:
        for kind, value in targets:
            member = {kind: value}
            if asset is not None:
                member["adam_id"] = asset["adamId"]
                member["pricing_param"] = asset["pricingParam"]
            members.append(member)
    return members


def _failure_covers(failure, member):
    """Whether one of Apple's failure entries applies to a batch member (absent lists mean "all")."""
    info = failure.get("errorInfo") or {}
    listed_assets = info.get("assets")
    if listed_assets and "adam_id" in member:
        # errorInfo may omit pricingParam; then the adamId alone identifies the asset
        matches = any(
            str(asset.get("adamId")) == member["adam_id"]
            and asset.get("pricingParam", member["pricing_param"]) == member["pricing_param"]
            for asset in listed_assets
        )
        if not matches:
            return False
    listed_users = info.get("clientUserIds")
    listed_serials = info.get("serialNumbers")
    if not listed_users and not listed_serials:
        return True
    if "client_user_id" in member:
        return member["client_user_id"] in (listed_users or ())
    return member["serial_number"] in (listed_serials or ())


def outcomes_for(batch, status):
    """Per-member outcome of a finished event: ``succeeded`` plus Apple's ``error_number``/``error_message``.

    ``status`` is Apple's ``StatusResponse``. A ``FAILED`` event whose failures name no member of the batch
    marks every member failed, so that nothing is reported as done when Apple gave no detail.
    """
    failures = status.get("failures") or []
    outcomes = []
    for member in batch_members(batch):
        outcome = dict(member, succeeded=True, error_number=None, error_message=None)
        for failure in failures:
            if _failure_covers(failure, member):
                outcome.update(
                    succeeded=False, error_number=failure.get("errorNumber"), error_message=failure.get("errorMessage")
                )
                break
        outcomes.append(outcome)
    if status.get("eventStatus") == "FAILED" and all(outcome["succeeded"] for outcome in outcomes):
        first = failures[0] if failures else {}
        for outcome in outcomes:
            outcome.update(
                succeeded=False,
                error_number=first.get("errorNumber"),
                error_message=first.get("errorMessage") or "Apple reported the event as FAILED",
            )
    return outcomes


def event_result(status, batch=None):
    """A finished event in the collection's spelling, with per-member outcomes when the batch is known."""
    result = {
        "status": status.get("eventStatus"),
        "type": status.get("eventType"),
        "num_requested": status.get("numRequested"),
        "num_completed": status.get("numCompleted"),
        "failures": [
            {
                "error_number": failure.get("errorNumber"),
                "error_message": failure.get("errorMessage"),
                "error_info": failure.get("errorInfo") or {},
            }
            for failure in status.get("failures") or []
        ],
    }
    if batch is not None:
        result["event_id"] = batch["event_id"]
        result["outcomes"] = outcomes_for(batch, status)
    return result


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header (integer seconds or an HTTP date); ``None`` if unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    now = time.time() if now is None else now
    return max(moment.timestamp() - now, 0.0)


def backoff_delay(attempt, base, cap, rng=random):
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    return rng.uniform(0, min(cap, base * (2**attempt)))


def retry_wait(attempt, base, cap, retry_after=None, rng=random):
    """How long to wait before the next attempt: the jittered backoff, but never less than ``Retry-After``."""
    delay = backoff_delay(attempt, base, cap, rng)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def icon_url_from_artwork(artwork, size=512):
    """A concrete icon URL from the lookup's artwork template (``.../{w}x{h}bb.{f}``)."""
    if not isinstance(artwork, dict) or not artwork.get("url"):
        return None
    return artwork["url"].replace("{w}", str(size)).replace("{h}", str(size)).replace("{f}", "png")


def metadata_record(result):
    """One legacy ``contentMetadataLookup`` result as ``{name, bundle_id, version, icon_url, platforms, kind}``."""
    attributes = result.get("platformAttributes") or {}
    first_platform = next(iter(attributes.values()), {}) if attributes else {}
    offers = result.get("offers") or [{}]
    version = (offers[0].get("version") or {}).get("display")
    if version is None:
        version = (first_platform.get("latestVersionInfo") or {}).get("versionDisplay")
    return {
        "name": result.get("name"),
        "bundle_id": result.get("bundleId") or first_platform.get("bundleId"),
        "version": version,
        "icon_url": icon_url_from_artwork(result.get("artwork") or first_platform.get("artwork")),
        "platforms": list(result.get("deviceFamilies") or result.get("supportedPlatforms") or attributes.keys()),
        "kind": result.get("kind"),
    }


def token_fingerprint(token):
    """A short, non-reversible name for a token (safe for keys and logs)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


# --- pacing ------------------------------------------------------------------------------------------------------


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


# --- listings ------------------------------------------------------------------------------------------------------


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
        if self._iterated:
            raise RuntimeError("a Listing can be iterated only once; ask the client for a new one")
        self._iterated = True
        return self._records()

    def _records(self):
        for page in self._pages():
            for key in self._records_keys:
                yield from page.get(key) or ()

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


# --- the client ----------------------------------------------------------------------------------------------------


class _Transient(Exception):
    """Internal: an attempt failed in a way worth retrying; ``error`` is what to raise if retries run out."""

    def __init__(self, error, retry_after=None):
        super().__init__(error.msg)
        self.error = error
        self.retry_after = retry_after


class VPPClient:
    """Client of Apple's license service for one content token (``sToken``)."""

    def __init__(
        self,
        api_url,
        token,
        *,
        manager_id=None,
        allow_takeover=False,
        validate_certs=True,
        timeout=30,
        retries=5,
        ca_path=None,
        session=None,
        backoff_base=1.0,
        backoff_cap=30.0,
        max_retry_after=300.0,
        page_concurrency=MAX_PAGES_IN_FLIGHT,
        poll_interval=POLL_INTERVAL,
    ):
        if not HAS_REQUESTS:
            raise ConfigurationError("the Python library 'requests' is required to talk to Apple")
        if not token:
            raise ConfigurationError("a content token is required")
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self.manager_id = manager_id
        self.allow_takeover = allow_takeover
        self.timeout = timeout
        self.retries = max(int(retries), 0)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_retry_after = max_retry_after
        self.page_concurrency = page_concurrency
        self.poll_interval = poll_interval
        self._session = session if session is not None else self._new_session()
        # passed with every request too: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's
        # verify setting, which would silently turn validate_certs: false and ca_path into the system bundle
        self._verify = ca_path or validate_certs
        self._session.verify = self._verify
        self._session.headers["Authorization"] = "Bearer " + token  # the one place the token is kept
        self._session.headers["User-Agent"] = USER_AGENT
        self._limiter = limiter_for(self.api_url, token)
        self._stats_lock = threading.Lock()
        self.request_count = 0
        self.requests_by_endpoint = {}
        self.token_expiration_date = None
        self.uid = None
        self.mdm_info = None

    def __repr__(self):
        return "VPPClient(api_url=%r, uid=%r)" % (self.api_url, self.uid)

    @staticmethod
    def _new_session():
        session = requests.Session()
        # room for MAX_PAGES_IN_FLIGHT parallel page fetches on one keep-alive pool
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=MAX_PAGES_IN_FLIGHT + 1)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["Accept"] = "application/json"
        return session

    def close(self):
        self._session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # --- service config ---

    @property
    def service_config(self):
        return _cached_service_config(self.api_url, self._fetch_service_config)

    def refresh_service_config(self):
        """Fetch the service config now (for every client of this ``api_url``)."""
        with _SERVICE_CONFIG_LOCK:
            _SERVICE_CONFIGS.pop(self.api_url, None)
        return self.service_config

    def _fetch_service_config(self):
        return self._send(
            "GET", "GET /service/config", self.api_url + "/service/config", authenticated=False, observe=False
        )

    @property
    def limits(self):
        """Apple's current limits; a key the service config lacks takes Apple's documented example value."""
        limits = dict(FALLBACK_LIMITS)
        limits.update(self.service_config.get("limits") or {})
        return limits

    @property
    def urls(self):
        return dict(self.service_config.get("urls") or {})

    def _url(self, endpoint):
        return self.urls.get(endpoint) or self.api_url + ENDPOINTS[endpoint]

    # --- HTTP core ---

    def request(self, method, endpoint, params=None, body=None, check=None):
        """One call to a documented endpoint (a key of ``ENDPOINTS``), retried as needed; returns the JSON body.

        ``check(answer, label)`` (default: the endpoint's in ``answers.CHECKS``) raises ``MalformedAnswerError``
        for an answer not shaped as the reference says; such an answer is retried like a 5xx.
        """
        label = "%s %s" % (method, ENDPOINTS[endpoint])
        check = check or CHECKS.get(endpoint)
        return self._send(method, label, self._url(endpoint), params=params, body=body, check=check)

    def _content_token(self):
        """The content token, read from the one place it is kept (the session's Authorization header)."""
        return self._session.headers["Authorization"][len("Bearer ") :]

    def _send(
        self, method, label, url, params=None, body=None, authenticated=True, observe=True, headers=None, check=None
    ):
        last = None
        for attempt in range(self.retries + 1):
            if last is not None:
                time.sleep(retry_wait(attempt - 1, self.backoff_base, self.backoff_cap, last.retry_after))
            try:
                payload = self._attempt(method, label, url, params, body, authenticated, headers)
                if check is not None:
                    check(payload, label)
            except MalformedAnswerError as malformed:
                last = _Transient(malformed)
                continue
            except _Transient as transient:
                last = transient
                if transient.retry_after is not None and transient.retry_after > self.max_retry_after:
                    break
                continue
            if observe:
                self._observe(payload)
            return payload
        raise _exhausted(last, label, attempt + 1)

    def _attempt(self, method, label, url, params, body, authenticated, headers=None):
        if authenticated:
            self._limiter.wait(self.limits["maxRequestPerSecond"])
        self._count(label)
        headers = dict(headers or {})
        if not authenticated:
            headers["Authorization"] = None  # service config and metadata lookup: no bearer token
        deadline = time.monotonic() + self.timeout  # the whole request, not each socket read
        try:
            response = self._session.request(
                method,
                url,
                params=params,
                json=body,
                headers=headers,
                timeout=self.timeout,
                verify=self._verify,
                stream=True,
            )
            _read_answer(response, label, deadline)
        except requests.exceptions.SSLError:
            raise ConfigurationError(
                "%s: the TLS certificate of %s could not be verified" % (label, self.api_url),
                hint="set ca_path to the CA bundle that signed it (validate_certs: false only for tests)",
            ) from None
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            raise _Transient(ServiceUnavailableError("%s: %s" % (label, _describe_network_error(exc)))) from None
        except requests.exceptions.RequestException as exc:
            raise ServiceUnavailableError("%s: request failed (%s)" % (label, type(exc).__name__)) from None
        return _interpret(response, label)

    def _count(self, label):
        with self._stats_lock:
            self.request_count += 1
            self.requests_by_endpoint[label] = self.requests_by_endpoint.get(label, 0) + 1

    def _observe(self, payload):
        """Remember the envelope fields and refuse a location another manager has claimed."""
        if not isinstance(payload, dict):
            return
        if payload.get("tokenExpirationDate"):
            self.token_expiration_date = payload["tokenExpirationDate"]
        if payload.get("uId"):
            self.uid = payload["uId"]
        mdm_info = payload.get("mdmInfo")
        if not isinstance(mdm_info, dict) or not mdm_info.get("id"):
            return  # absent or null mdmInfo: the location is unclaimed
        self.mdm_info = {key: mdm_info.get(key) for key in ("id", "name", "metadata")}
        if self.manager_id and mdm_info["id"] != self.manager_id and not self.allow_takeover:
            name = mdm_info.get("name") or "an unnamed manager"
            raise TakeoverError(
                "location %s is managed by another device-management service (%r), not by this store's manager"
                % (self.uid or "?", name),
                details={"other_manager": name},
            )

    # --- readers ---

    def assets(self, **filters):
        """All assets (apps and books) with their license counts; filters are Apple's (snake_case accepted)."""
        return Listing(self, "getAssets", ("assets", "unlimitedAssets"), query_params(filters), self.page_concurrency)

    def assignments(self, since_version_id=None, **filters):
        """All assignments, or only those changed since ``since_version_id`` (9721 if Apple forgot it)."""
        filters["since_version_id"] = since_version_id
        return Listing(self, "getAssignments", ("assignments",), query_params(filters), self.page_concurrency)

    def users(self, since_version_id=None, **filters):
        """All users (retired ones included unless ``active_only=True``), or only those changed since a version."""
        filters["since_version_id"] = since_version_id
        return Listing(self, "getUsers", ("users",), query_params(filters), self.page_concurrency)

    # --- writers ---

    def associate(self, assets, client_user_ids=(), serial_numbers=(), on_submit=None, hooks=None):
        """Assign assets to users and/or devices; returns the submitted batches (one event each).

        With ``hooks`` (``submission.Hooks``) users Apple refuses synchronously are split out of their batch.
        """
        batches = self._asset_batches(assets, client_user_ids, serial_numbers)
        return self._submit("ASSOCIATE", "associateAssets", batches, on_submit, hooks)

    def disassociate(self, assets, client_user_ids=(), serial_numbers=(), on_submit=None, hooks=None):
        """Take assets back from users and/or devices; returns the submitted batches."""
        batches = self._asset_batches(assets, client_user_ids, serial_numbers)
        return self._submit("DISASSOCIATE", "disassociateAssets", batches, on_submit, hooks)

    def _asset_batches(self, assets, client_user_ids, serial_numbers):
        """Associate/disassociate requests cut to the current service limits."""
        limits = self.limits
        return plan_batches(
            assets,
            client_user_ids,
            serial_numbers,
            max_assets=limits["maxAssets"],
            max_client_user_ids=limits["maxClientUserIds"],
            max_serial_numbers=limits["maxSerialNumbers"],
        )

    def revoke(self, client_user_ids=(), serial_numbers=(), on_submit=None):
        """Take back every revocable license of these users and devices; returns the submitted batches."""
        limits = self.limits
        batches = plan_batches(
            (),
            client_user_ids,
            serial_numbers,
            max_assets=None,
            max_client_user_ids=limits["maxRevokeClientUserIds"],
            max_serial_numbers=limits["maxRevokeSerialNumbers"],
        )
        return self._submit("REVOKE", "revokeAssets", batches, on_submit)

    def create_users(self, users, on_submit=None):
        """Register users (dicts with ``client_user_id``/``clientUserId``, ``email``, ``managed_apple_id``)."""
        return self._submit("CREATE", "createUsers", plan_user_batches(users, self.limits["maxUsers"]), on_submit)

    def update_users(self, users, on_submit=None):
        return self._submit("UPDATE", "updateUsers", plan_user_batches(users, self.limits["maxUsers"]), on_submit)

    def retire_users(self, client_user_ids, on_submit=None):
        batches = plan_user_batches(client_user_ids, self.limits["maxUsers"])
        return self._submit("RETIRE", "retireUsers", batches, on_submit)

    def _submit(self, event_type, endpoint, batches, on_submit=None, hooks=None):
        """Send the batches (see ``submission.submit_batches``); ``hooks`` wins over a bare ``on_submit``."""

        def send(batch):
            payload = self.request("POST", endpoint, body=_request_body(batch))
            if not payload.get("eventId"):
                raise AppleError("POST %s: Apple returned no eventId" % ENDPOINTS[endpoint])
            return payload["eventId"]

        return submit_batches(send, event_type, batches, hooks or OnSubmit(on_submit))

    # --- events ---

    def event_status(self, event_id):
        """Apple's ``StatusResponse`` of one event."""
        return self.request("GET", "eventStatus", params={"eventId": event_id})

    def wait_for_events(self, events, timeout=600, first_poll=FIRST_POLL, poll_interval=None):
        """Poll until every event is COMPLETE or FAILED; returns ``{event_id: result}`` in the given order.

        Apple's guidance: a first read soon after submitting (``first_poll`` seconds; 0 for events submitted by an
        earlier run), then at least 30 s between polls of a PENDING event (``poll_interval``, default the client's
        ``poll_interval``; lower it only against a test service).

        ``events`` are event ids or the batches returned by the writers (then each result carries per-member
        ``outcomes``). Raises ``EventTimeoutError`` naming the still-pending ids when ``timeout`` runs out;
        the error's ``results`` attribute holds the events that did finish.
        """
        batches = collections.OrderedDict()
        for event in events:
            batch = event if isinstance(event, dict) else None
            batches.setdefault(batch["event_id"] if batch else event, batch)
        results = {}
        pending = list(batches)
        deadline = time.monotonic() + timeout
        time.sleep(max(min(first_poll, timeout), 0))
        while True:
            for event_id in list(pending):
                status = self.event_status(event_id)
                if status.get("eventStatus") in FINISHED_EVENT_STATES:
                    results[event_id] = dict(event_result(status, batches[event_id]), event_id=event_id)
                    pending.remove(event_id)
            if not pending:
                return collections.OrderedDict((event_id, results[event_id]) for event_id in batches)
            interval = poll_interval or self.poll_interval
            if time.monotonic() + interval > deadline:  # the next read would come after the deadline
                err = EventTimeoutError(
                    "%d Apple event(s) still pending after %ss: %s" % (len(pending), timeout, ", ".join(pending)),
                    details={"pending_event_ids": pending},
                )
                err.results = results
                raise err
            time.sleep(interval)

    # --- client config ---

    def client_config(self):
        """The location's client config; the webhook secret is replaced by a fingerprint."""
        return _without_webhook_secret(self.request("GET", "clientConfig"))

    def set_client_config(
        self, mdm_info=None, notification_url=None, notification_auth_token=None, notification_types=None
    ):
        """Write the given client-config fields (absent ones stay as they are at Apple)."""
        body = {}
        if mdm_info is not None:
            body["mdmInfo"] = {key: mdm_info.get(key) for key in ("id", "name", "metadata")}
        if notification_url is not None:
            body["notificationUrl"] = notification_url
        if notification_auth_token is not None:
            body["notificationAuthToken"] = notification_auth_token
        if notification_types is not None:
            body["notificationTypes"] = list(notification_types)
        return _without_webhook_secret(self.request("POST", "clientConfig", body=body))

    # --- metadata ---

    def metadata_lookup(self, adam_ids, platform, country):
        """Names, bundle ids, versions and icons from Apple's legacy metadata lookup, keyed by adamId.

        Ids Apple does not know are absent from the result.
        """
        url = self.urls.get("contentMetadataLookup") or DEFAULT_METADATA_URL
        found = {}
        for batch in chunks(unique(str(adam_id) for adam_id in adam_ids), METADATA_BATCH):
            params = {
                "version": 2,
                "id": ",".join(batch),
                "p": "mdm-lockup",
                "caller": "MDM",
                "platform": platform,
                "cc": country,
            }
            payload = self._send(
                "GET",
                "GET contentMetadataLookup",
                url,
                params=params,
                authenticated=False,
                observe=False,
                headers={"Cookie": "itvt=" + self._content_token()},  # Apple wants the content token here
            )
            for adam_id, result in (payload.get("results") or {}).items():
                if isinstance(result, dict):
                    found[str(adam_id)] = metadata_record(result)
        return found


def _request_body(batch):
    body = {}
    if batch.get("users"):
        body["users"] = batch["users"]
    if batch.get("assets"):
        body["assets"] = batch["assets"]
    if batch.get("client_user_ids"):
        body["clientUserIds"] = batch["client_user_ids"]
    if batch.get("serial_numbers"):
        body["serialNumbers"] = batch["serial_numbers"]
    return body


def _without_webhook_secret(config):
    config = dict(config)
    secret = config.pop("notificationAuthToken", None)
    config["notificationAuthTokenFingerprint"] = token_fingerprint(secret) if secret else None
    return config


def _read_answer(response, label, deadline):
    """Read a streamed answer's body by ``deadline`` (``time.monotonic()``) and up to ``MAX_ANSWER_BYTES``, then
    hand it to ``response`` as its content (``_interpret`` reads it as usual). An answer still arriving at the
    deadline (a trickle) is a transient failure like a timeout; a larger one is an error."""
    raw = response.raw
    read1 = getattr(raw, "read1", None)  # urllib3 >= 2: what has arrived, without waiting to fill the chunk
    chunks, size, complete = [], 0, False
    try:
        while True:
            if time.monotonic() > deadline:
                raise _Transient(ServiceUnavailableError("%s: no answer within the timeout" % label))
            chunk = read1(READ_CHUNK, decode_content=True) if read1 else raw.read(1024, decode_content=True)
            if not chunk:
                complete = True
                break
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise ServiceUnavailableError(
                    "%s: the answer is larger than %d MB; nothing was read from it" % (label, MAX_ANSWER_BYTES >> 20)
                )
            chunks.append(chunk)
    except (OSError, Urllib3Error) as exc:
        timed_out = isinstance(exc, (TimeoutError, Urllib3TimeoutError))
        reason = "no answer within the timeout" if timed_out else "the answer was cut off"
        raise _Transient(ServiceUnavailableError("%s: %s" % (label, reason))) from None
    finally:
        if complete:  # read to its end: the connection goes back to the pool
            response._content, response._content_consumed = b"".join(chunks), True
        response.close()  # else closed: a half-read connection cannot be reused


def _describe_network_error(exc):
    """A fixed description of a network failure; the exception's own text may carry request details."""
    if isinstance(exc, requests.exceptions.Timeout):
        return "no answer within the timeout"
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return "the answer was cut off"
    return "connection failed or was dropped"


def _interpret(response, label):
    """The JSON body of a successful answer; raises ``_Transient`` for retryable answers, an error otherwise."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    error_number = payload.get("errorNumber") if isinstance(payload, dict) else None
    status = response.status_code
    if 200 <= status < 300 and not error_number:
        if not isinstance(payload, dict):
            raise _Transient(ServiceUnavailableError("%s: Apple's answer was not JSON (HTTP %s)" % (label, status)))
        return payload
    message = payload.get("errorMessage") if isinstance(payload, dict) else None
    error = _apple_error(label, error_number, message or response.reason, status)
    error.error_info = payload.get("errorInfo") if isinstance(payload, dict) else None  # who Apple refused
    if status == 429 or status >= 500 or error_number in RETRYABLE_ERROR_NUMBERS:
        raise _Transient(error, parse_retry_after(response.headers.get("Retry-After")))
    raise error


def _apple_error(label, error_number, message, status):
    error = error_for(error_number, message, http_status=status, endpoint=label)
    if status == 429 and not isinstance(error, RateLimitedError):
        error = RateLimitedError(error.msg, error_number=error_number, http_status=status)
    elif status >= 500 and not isinstance(error, ServiceUnavailableError):
        error = ServiceUnavailableError(error.msg, error_number=error_number, http_status=status)
    error.msg = "%s: %s" % (label, error.msg)
    error.args = (error.msg,)
    return error


def _exhausted(transient, label, attempts):
    """The error to raise once retries are spent (or Apple asked for a longer wait than ``max_retry_after``)."""
    error = transient.error
    reason = "after %d attempt(s)" % attempts
    if transient.retry_after is not None:
        reason += "; Apple asked to wait %ds before retrying" % int(transient.retry_after)
    error.msg = "%s (%s)" % (error.msg, reason)
    error.args = (error.msg,)
    return error
