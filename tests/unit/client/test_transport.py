# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transport as a second service uses it: a plist service behind HTTP Basic auth on a loopback server,
with its own classifier. Nothing of Apple is involved: what the transport does is the service's to decide."""

from __future__ import annotations

import base64
import http.server
import plistlib
import threading

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import VPPError
from ansible_collections.mdm.vpp.plugins.module_utils.transport import Classifier, Transport

SECRET = "mdm-api-key-not-for-logs"


class ServiceError(VPPError):
    pass


class PlistClassifier(Classifier):
    service_name = "the MDM server"

    def failure(self, label, reason):
        return ServiceError("%s: %s" % (label, reason))

    def decode(self, response, label):
        if response.status_code >= 300:
            raise ServiceError("%s: HTTP %s" % (label, response.status_code), http_status=response.status_code)
        return plistlib.loads(response.content)

    def is_retryable(self, error, status):
        return status == 429 or status >= 500


class Service(http.server.ThreadingHTTPServer):
    """Answers each request with the next of ``answers``: ``(status, headers, body)``; records what it got."""

    daemon_threads = True

    def __init__(self, answers):
        super().__init__(("127.0.0.1", 0), Handler)
        self.answers = list(answers)
        self.seen = []


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.seen.append({"path": self.path, "authorization": self.headers.get("Authorization")})
        status, headers, body = self.server.answers.pop(0) if self.server.answers else (500, {}, b"")
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    servers = []

    def start(*answers):
        server = Service(answers)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server, "http://127.0.0.1:%d" % server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def transport_for(url, retries=3):
    transport = Transport(
        PlistClassifier(),
        base_url=url,
        timeout=5,
        retries=retries,
        backoff_base=0.001,
        backoff_cap=0.002,
        accept="application/x-plist",
    )
    transport.session.auth = ("nanomdm", SECRET)
    return transport


def test_a_second_service_gets_its_basic_auth_and_its_decoded_answer(serve):
    server, url = serve((200, {}, plistlib.dumps({"devices": ["UDID-1"]})))
    answer = transport_for(url).send("GET", url + "/v1/devices", "GET /v1/devices")
    assert answer == {"devices": ["UDID-1"]}
    expected = "Basic " + base64.b64encode(("nanomdm:" + SECRET).encode()).decode()
    assert server.seen == [{"path": "/v1/devices", "authorization": expected}]


def test_what_its_classifier_calls_retryable_is_retried_and_counted(serve):
    server, url = serve((503, {"Retry-After": "0"}, b""), (429, {}, b""), (200, {}, plistlib.dumps({"ok": True})))
    transport = transport_for(url)
    assert transport.send("GET", url + "/v1/x", "GET /v1/x") == {"ok": True}
    assert len(server.seen) == 3
    assert transport.requests_by_label == {"GET /v1/x": 3}


def test_what_it_does_not_call_retryable_fails_at_once_without_the_secret(serve):
    server, url = serve((401, {}, b"bad key " + SECRET.encode()))
    with pytest.raises(ServiceError) as failure:
        transport_for(url).send("GET", url + "/v1/x?key=" + SECRET, "GET /v1/x")
    assert len(server.seen) == 1
    assert failure.value.http_status == 401
    assert SECRET not in str(failure.value)


def test_spent_retries_name_the_label_the_attempts_and_the_wait_asked_for(serve):
    _server, url = serve(*[(503, {"Retry-After": "0"}, b"")] * 3)
    with pytest.raises(ServiceError) as failure:
        transport_for(url, retries=2).send("GET", url + "/v1/x", "GET /v1/x")
    assert (
        str(failure.value)
        == "GET /v1/x: HTTP 503 (after 3 attempt(s); the MDM server asked to wait 0s before retrying)"
    )


def test_a_service_that_is_not_there_fails_with_a_fixed_reason(serve):
    _server, url = serve()
    closed = url.rsplit(":", 1)[0] + ":1"  # nothing listens on port 1
    with pytest.raises(ServiceError) as failure:
        transport_for(closed, retries=0).send("GET", closed + "/v1/x", "GET /v1/x")
    assert str(failure.value) == "GET /v1/x: connection failed or was dropped (after 1 attempt(s))"
