# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client of Apple's "Apps and Books" license service (v2): its endpoints, over the one HTTP layer.

One ``VPPClient`` per content token. It reads limits and URLs from ``GET /service/config`` (cached per
``api_url`` for five minutes and shared by every client of the process), paces its requests under Apple's
``maxRequestPerSecond`` (``pacing``), sends them through ``transport`` (retries, timeouts, TLS) with Apple's
``apple_classifier``, follows pages (``paging``), cuts writes into batches Apple accepts (``batches``, ``writes``),
polls asynchronous events and maps their failures back to each member (``event_reads``, ``events``), and watches
every answer's ``mdmInfo`` for a takeover by another device-management service.

Secrets: the content token lives in the session's ``Authorization`` header only (the metadata lookup's ``itvt``
cookie is built from it per request). Exception texts name the endpoint and Apple's ``errorNumber``; they never
carry headers, the token, or the text of a ``requests`` exception (which can include request details).

The names other files import from here (the planning, event and pacing helpers among them) stay importable from
this module; their homes are the rooms named above.
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.answers import CHECKS
from ansible_collections.mdm.vpp.plugins.module_utils.apple_classifier import AppleClassifier, retrying_malformed
from ansible_collections.mdm.vpp.plugins.module_utils.batches import (
    batch_members,
    chunks,
    plan_batches,
    plan_user_batches,
    unique,
)
from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError, TakeoverError
from ansible_collections.mdm.vpp.plugins.module_utils.event_reads import EventReads
from ansible_collections.mdm.vpp.plugins.module_utils.events import (
    FIRST_POLL,
    POLL_INTERVAL,
    event_result,
    outcomes_for,
)
from ansible_collections.mdm.vpp.plugins.module_utils.metadata import (
    DEFAULT_METADATA_URL,
    METADATA_BATCH,
    lookup_params,
    metadata_record,
)
from ansible_collections.mdm.vpp.plugins.module_utils.notification_settings import secret_fingerprint
from ansible_collections.mdm.vpp.plugins.module_utils.pacing import (
    RATE_BURST,
    RATE_SAFETY,
    RateLimiter,
    limiter_for,
    token_fingerprint,
)
from ansible_collections.mdm.vpp.plugins.module_utils.paging import MAX_PAGES_IN_FLIGHT, Listing
from ansible_collections.mdm.vpp.plugins.module_utils.service_config import (
    DEFAULT_API_URL,
    ENDPOINTS,
    cached_service_config,
    clear_service_config_cache,
    forget_service_config,
    limits_of,
)
from ansible_collections.mdm.vpp.plugins.module_utils.spelling import (
    normalize_asset,
    normalize_user,
    query_params,
)
from ansible_collections.mdm.vpp.plugins.module_utils.transport import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    Transport,
    backoff_delay,
    parse_retry_after,
    retry_wait,
)
from ansible_collections.mdm.vpp.plugins.module_utils.writes import Writers

__all__ = [
    "DEFAULT_API_URL",
    "FIRST_POLL",
    "HAS_REQUESTS",
    "POLL_INTERVAL",
    "RATE_BURST",
    "RATE_SAFETY",
    "REQUESTS_IMPORT_ERROR",
    "Listing",
    "RateLimiter",
    "VPPClient",
    "backoff_delay",
    "batch_members",
    "clear_service_config_cache",
    "event_result",
    "metadata_record",
    "normalize_asset",
    "normalize_user",
    "outcomes_for",
    "parse_retry_after",
    "plan_batches",
    "plan_user_batches",
    "query_params",
    "retry_wait",
    "token_fingerprint",
]

# --- the client ----------------------------------------------------------------------------------------------------


class VPPClient(EventReads, Writers):
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
        pool=None,
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
        self.page_concurrency = page_concurrency
        self.poll_interval = poll_interval
        self.transport = Transport(
            AppleClassifier(),
            base_url=self.api_url,
            validate_certs=validate_certs,
            ca_path=ca_path,
            timeout=timeout,
            retries=retries,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            max_retry_after=max_retry_after,
            session=session,
            pool_maxsize=MAX_PAGES_IN_FLIGHT + 1,  # room for parallel page fetches on one keep-alive pool
            pool=pool,  # or the keep-alive pool the tokens of one sync share (transport.new_connection_pool)
        )
        self._session = self.transport.session
        self._session.headers["Authorization"] = "Bearer " + token  # the one place the token is kept
        self._limiter = limiter_for(self.api_url, token)
        self.token_expiration_date = None
        self.uid = None
        self.mdm_info = None

    def __repr__(self):
        return "VPPClient(api_url=%r, uid=%r)" % (self.api_url, self.uid)

    @property
    def timeout(self):
        return self.transport.timeout

    @property
    def retries(self):
        return self.transport.retries

    @property
    def request_count(self):
        """Requests sent (every attempt counts)."""
        return self.transport.request_count

    @property
    def requests_by_endpoint(self):
        """Requests sent per label (``"GET /assets"``)."""
        return self.transport.requests_by_label

    def close(self):
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # --- service config ---

    @property
    def service_config(self):
        return cached_service_config(self.api_url, self._fetch_service_config)

    def refresh_service_config(self):
        """Fetch the service config now (for every client of this ``api_url``)."""
        forget_service_config(self.api_url)
        return self.service_config

    def _fetch_service_config(self):
        return self._send(
            "GET", "GET /service/config", self.api_url + "/service/config", authenticated=False, observe=False
        )

    @property
    def limits(self):
        """Apple's current limits; a key the service config lacks takes Apple's documented example value."""
        return limits_of(self.service_config)

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
        headers = dict(headers or {})
        if not authenticated:
            headers["Authorization"] = None  # service config and metadata lookup: no bearer token
        payload = self.transport.send(
            method,
            url,
            label,
            params=params,
            json=body,
            headers=headers,
            check=retrying_malformed(check),
            pace=self._pace if authenticated else None,
        )
        if observe:
            self._observe(payload)
        return payload

    def _pace(self):
        self._limiter.wait(self.limits["maxRequestPerSecond"])

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
            payload = self._send(
                "GET",
                "GET contentMetadataLookup",
                url,
                params=lookup_params(batch, platform, country),
                authenticated=False,
                observe=False,
                headers={"Cookie": "itvt=" + self._content_token()},  # Apple wants the content token here
            )
            for adam_id, result in (payload.get("results") or {}).items():
                if isinstance(result, dict):
                    found[str(adam_id)] = metadata_record(result)
        return found


def _without_webhook_secret(config):
    """Apple's client config with the webhook secret it echoes replaced by the secret's fingerprint (the one
    ``notification_settings.secret_fingerprint`` gives, to compare with the store's)."""
    config = dict(config)
    secret = config.pop("notificationAuthToken", None)
    config["notificationAuthTokenFingerprint"] = secret_fingerprint(secret)
    return config
