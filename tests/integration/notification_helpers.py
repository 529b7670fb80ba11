# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small real HTTPS receiver of Apple's notifications on 127.0.0.1, for the tests of vpp_token's notification
settings: it checks Apple's Bearer against the secret the store holds for the token, as mdm.vpp.vpp_events does.

Paths: ``/apple/<token name>`` answers 200 when the Bearer is that token's notification secret in the store, else
401; ``/fail/<anything>`` always answers 500; ``/open/<anything>`` answers 200 to any Bearer (another tool's).
"""

from __future__ import annotations

import hmac
import http.server
import json
import ssl
import threading

from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store
from tests.tls_helpers import write_certificates


class NotificationReceiver:
    """Started on a free port with a certificate of a private CA; ``ca_file`` is what the simulator must trust."""

    def __init__(self, store_location, directory):
        self.store_location = str(store_location)
        self.received = []
        self.ca_file, cert, key = write_certificates(directory)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.answer(self.path, self.headers.get("Authorization") or "")
                receiver.received.append({"path": self.path, "status": status, "body": json.loads(body)})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.base = "https://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, kind, name):
        return "%s/%s/%s" % (self.base, kind, name)

    def answer(self, path, authorization):
        kind, name = (path.strip("/").split("/", 1) + [""])[:2]
        if kind == "fail":
            return 500
        if kind == "open":
            return 200
        store = open_store(self.store_location)
        try:
            secret = store.get_notification_secret(name)
        finally:
            store.close()
        given = authorization[len("Bearer ") :] if authorization.startswith("Bearer ") else ""
        return 200 if secret is not None and hmac.compare_digest(given, secret) else 401

    def tests(self):
        """The TEST_NOTIFICATIONs received: ``(path, status)`` each."""
        tests = [item for item in self.received if item["body"]["notificationType"] == "TEST_NOTIFICATION"]
        return [(item["path"], item["status"]) for item in tests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
