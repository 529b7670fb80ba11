# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP layer of the collection: sessions, TLS, timeouts, retries and request accounting.

It knows no service. A ``Transport`` keeps one keep-alive ``requests`` session, verifies TLS as asked
(``validate_certs``, ``ca_path``, passed with every request so that ``REQUESTS_CA_BUNDLE`` cannot override it),
bounds each attempt by a whole-answer deadline and a size cap (the answer is read streaming), retries with
exponential backoff and full jitter honouring ``Retry-After`` (a longer wait than ``max_retry_after`` fails at
once), and counts the attempts per label. What an answer means, and which failures are worth another attempt,
is the service's: it gives a ``Classifier`` (the contract below). Error texts name the request's label (``GET
/assets``) and fixed reasons, never a header, a token, a URL's query, or the text of a ``requests`` exception.

A second service (an MDM server speaking JSON or plist over HTTPS with HTTP Basic auth) uses it like this::

    class MDMClassifier(Classifier):
        service_name = "the MDM server"

        def failure(self, label, reason):
            return MDMError("%s: %s" % (label, reason))

        def decode(self, response, label):
            if response.status_code >= 300:
                raise MDMError("%s: HTTP %s" % (label, response.status_code), http_status=response.status_code)
            return plistlib.loads(response.content)

        def is_retryable(self, error, status):
            return status == 429 or status >= 500

    transport = Transport(MDMClassifier(), base_url=url, ca_path=ca_path, timeout=30, retries=5)
    transport.session.auth = (user, password)  # the one place the credentials are kept
    answer = transport.send("GET", url + "/v1/devices", "GET /v1/devices")
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
import traceback
from urllib.parse import urlsplit

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError, VPPError
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

MAX_ANSWER_BYTES = 64 * 1024 * 1024  # a larger answer is an error (the services' answers are far smaller)
READ_CHUNK = 65536

# The fixed reasons of a request that got no usable answer (a requests exception's own text may carry details).
NO_ANSWER = "no answer within the timeout"
CUT_OFF = "the answer was cut off"
DROPPED = "connection failed or was dropped"
NETWORK_REASONS = (NO_ANSWER, CUT_OFF, DROPPED)


# --- pure helpers ----------------------------------------------------------------------------------------------


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


def describe_network_error(exc):
    """The fixed reason of a ``requests`` network failure (one of ``NETWORK_REASONS``)."""
    if isinstance(exc, requests.exceptions.Timeout):
        return NO_ANSWER
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return CUT_OFF
    return DROPPED


# --- the contract a service gives ------------------------------------------------------------------------------


class Retryable(Exception):
    """An attempt failed in a way worth retrying; ``error`` is what to raise once the retries are spent.

    A ``check`` given to ``Transport.send`` raises it to have a malformed answer retried.
    """

    def __init__(self, error, retry_after=None):
        super().__init__(error.msg)
        self.error = error
        self.retry_after = retry_after


class Classifier:
    """What a service's answers mean: the part of the HTTP layer each service client implements."""

    service_name = "the service"  # in error texts: "<service_name> asked to wait 30s before retrying"

    def failure(self, label, reason):
        """The error (a ``VPPError``) of a request that got no usable answer: ``"<label>: <reason>"``."""
        raise NotImplementedError

    def decode(self, response, label):
        """The payload of an answer read whole (``response.content``), or raise the error it carries."""
        raise NotImplementedError

    def is_retryable(self, error, status):
        """Whether an answer's error (raised by ``decode``; HTTP ``status``) is worth another attempt."""
        raise NotImplementedError

    def is_retryable_failure(self, reason):
        """Whether a request with no usable answer (one of ``NETWORK_REASONS``) is worth another attempt."""
        return reason in NETWORK_REASONS


# --- the transport -----------------------------------------------------------------------------------------------


def new_connection_pool(pool_maxsize):
    """Keep-alive connections that many sessions share (``new_session(..., pool=)``): room for ``pool_maxsize``
    requests in flight to each of two hosts (Apple's API and its metadata lookup). The tokens of one sync share
    one, so 3,000 tokens reuse the connections of the few dozen running at once instead of each opening its own;
    its owner closes it (``close_connection_pool``), not the sessions."""
    return HTTPAdapter(pool_connections=2, pool_maxsize=pool_maxsize)


def close_connection_pool(pool):
    """Close the connections of a pool from ``new_connection_pool``."""
    pool.close()


def new_session(pool_maxsize, accept, pool=None):
    """A keep-alive session with room for ``pool_maxsize`` parallel requests to one host, or on a shared ``pool``."""
    session = requests.Session()
    # the environment's proxies are read once per host by the Transport (proxies_for), not at every request: that
    # scan of os.environ and the ~/.netrc look-ups were a quarter of a small sync's CPU; and no ~/.netrc entry can
    # replace a request's own Authorization header
    session.trust_env = False
    adapter = pool if pool is not None else HTTPAdapter(pool_connections=2, pool_maxsize=pool_maxsize)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["Accept"] = accept
    return session


_PROXIES = {}
_PROXIES_LOCK = threading.Lock()


def proxies_for(url):
    """The proxies the environment gives ``url`` (``HTTPS_PROXY``, ``NO_PROXY``...: what ``requests`` reads at every
    request), read once per scheme and host in this process."""
    origin = urlsplit(url)[:2]
    with _PROXIES_LOCK:
        if origin not in _PROXIES:
            _PROXIES[origin] = requests.utils.get_environ_proxies(url)
        return _PROXIES[origin]


def forget_proxies():
    """Read the environment's proxies again on the next request (after the environment changed)."""
    with _PROXIES_LOCK:
        _PROXIES.clear()


class Transport:
    """Sends requests for one service client, retried as its ``Classifier`` decides; safe across threads."""

    def __init__(
        self,
        classifier,
        *,
        base_url,
        validate_certs=True,
        ca_path=None,
        timeout=30,
        retries=5,
        backoff_base=1.0,
        backoff_cap=30.0,
        max_retry_after=300.0,
        session=None,
        pool_maxsize=10,
        pool=None,
        accept="application/json",
    ):
        self.classifier = classifier
        self.base_url = base_url  # named in a TLS error
        self.timeout = timeout
        self.retries = max(int(retries), 0)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_retry_after = max_retry_after
        self.session = session if session is not None else new_session(pool_maxsize, accept, pool)
        self._shared_pool = session is None and pool is not None  # then the pool's owner closes the connections
        # passed with every request too: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's
        # verify setting, which would silently turn validate_certs: false and ca_path into the system bundle
        self.verify = ca_path or validate_certs
        self.session.verify = self.verify
        self.session.headers["User-Agent"] = USER_AGENT
        self._stats_lock = threading.Lock()
        self.request_count = 0
        self.requests_by_label = {}

    def close(self):
        if not self._shared_pool:  # a session holds nothing but its adapters' connections
            self.session.close()

    def send(self, method, url, label, *, params=None, json=None, data=None, headers=None, check=None, pace=None):
        """One request, retried as needed; returns the decoded answer.

        The body is ``json`` (encoded as JSON) or ``data`` (bytes sent as they are, their ``Content-Type`` in
        ``headers``: an MDM command's plist). ``label`` (``"GET /assets"``) names the request in errors and
        accounting. ``pace()`` runs before every attempt (a rate limiter's wait). ``check(payload, label)`` runs
        inside the retry loop; it raises ``Retryable`` to have the attempt retried, or any other error to stop.
        """
        last = None
        for attempt in range(self.retries + 1):
            if last is not None:
                time.sleep(retry_wait(attempt - 1, self.backoff_base, self.backoff_cap, last.retry_after))
            try:
                if pace is not None:
                    pace()
                payload = self._attempt(method, url, label, params, json, data, headers)
                if check is not None:
                    check(payload, label)
            except Retryable as retryable:
                last = retryable
                if retryable.retry_after is not None and retryable.retry_after > self.max_retry_after:
                    break
                continue
            return payload
        raise self._exhausted(last, attempt + 1)

    def _attempt(self, method, url, label, params, json, data, headers):
        self._count(label)
        deadline = time.monotonic() + self.timeout  # the whole request, not each socket read
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json,
                data=data,
                headers=dict(headers or {}),
                timeout=self.timeout,
                verify=self.verify,
                proxies=proxies_for(url),
                stream=True,
            )
            self._read(response, label, deadline)
        except requests.exceptions.SSLError:
            raise ConfigurationError(
                "%s: the TLS certificate of %s could not be verified" % (label, self.base_url),
                hint="set ca_path to the CA bundle that signed it (validate_certs: false only for tests)",
            ) from None
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            raise self._no_answer(label, describe_network_error(exc)) from None
        except requests.exceptions.RequestException as exc:
            raise self.classifier.failure(label, "request failed (%s)" % type(exc).__name__) from None
        return self._decode(response, label)

    def _decode(self, response, label):
        try:
            return self.classifier.decode(response, label)
        except VPPError as error:
            if not self.classifier.is_retryable(error, response.status_code):
                raise
            status = response.status_code  # Retry-After means something on an error answer only
            retry_after = parse_retry_after(response.headers.get("Retry-After")) if status >= 300 else None
            raise Retryable(error, retry_after) from None

    def _no_answer(self, label, reason):
        """The exception for a request that got no usable answer: ``Retryable`` if the classifier says so."""
        error = self.classifier.failure(label, reason)
        return Retryable(error) if self.classifier.is_retryable_failure(reason) else error

    def _read(self, response, label, deadline):
        """Read a streamed answer's body by ``deadline`` (``time.monotonic()``) and up to ``MAX_ANSWER_BYTES``,
        then hand it to ``response`` as its content. An answer still arriving at the deadline (a trickle) fails
        like a timeout; a larger one is an error."""
        raw = response.raw
        read1 = getattr(raw, "read1", None)  # urllib3 >= 2: what has arrived, without waiting to fill the chunk
        chunks, size, complete = [], 0, False
        try:
            while True:
                if time.monotonic() > deadline:
                    raise self._no_answer(label, NO_ANSWER)
                chunk = read1(READ_CHUNK, decode_content=True) if read1 else raw.read(1024, decode_content=True)
                if not chunk:
                    complete = True
                    break
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    reason = "the answer is larger than %d MB; nothing was read from it" % (MAX_ANSWER_BYTES >> 20)
                    raise self.classifier.failure(label, reason)
                chunks.append(chunk)
        except (OSError, Urllib3Error) as exc:
            timed_out = isinstance(exc, (TimeoutError, Urllib3TimeoutError))
            raise self._no_answer(label, NO_ANSWER if timed_out else CUT_OFF) from None
        finally:
            if complete:  # read to its end: the connection goes back to the pool
                response._content, response._content_consumed = b"".join(chunks), True
            response.close()  # else closed: a half-read connection cannot be reused

    def _count(self, label):
        with self._stats_lock:
            self.request_count += 1
            self.requests_by_label[label] = self.requests_by_label.get(label, 0) + 1

    def _exhausted(self, retryable, attempts):
        """The error to raise once retries are spent (or the service asked for a longer wait than accepted)."""
        error = retryable.error
        reason = "after %d attempt(s)" % attempts
        if retryable.retry_after is not None:
            reason += "; %s asked to wait %ds before retrying" % (
                self.classifier.service_name,
                int(retryable.retry_after),
            )
        error.msg = "%s (%s)" % (error.msg, reason)
        error.args = (error.msg,)
        return error
