# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``Simulator``: the service plus its HTTP server, background threads, token files and optional TLS."""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
import threading
import time

from .scenario import load_scenario
from .server import SimulatorHTTPServer
from .service import Service

HOST = "127.0.0.1"


class Simulator(Service):
    """A local Apple VPP v2 service. ``with Simulator(scenario) as sim: requests.get(sim.url + "/client/config")``."""

    def __init__(self, scenario, tokens_dir=None, port=0, tls_cert=None, tls_key=None, log_file=None):
        self._owns_tokens_dir = tokens_dir is None
        tokens_dir = tokens_dir or tempfile.mkdtemp(prefix="vpp-sim-tokens-")
        os.makedirs(tokens_dir, exist_ok=True)
        super().__init__(load_scenario(scenario), tokens_dir)
        self.port = port
        self.tls_cert, self.tls_key = tls_cert, tls_key
        self.log_file = log_file
        self._log_handle = None
        self.url = None
        self.stop_requested = threading.Event()
        self._server = None
        self._threads = []

    def start(self):
        """Bind 127.0.0.1 (port 0 = random), start the server, event and notification threads; returns self."""
        server = SimulatorHTTPServer((HOST, self.port), self)
        if self.tls_cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.tls_cert, self.tls_key)
            # handshake lazily in the handler thread, so one slow client cannot block accept()
            server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self._server = server
        self.port = server.server_address[1]
        self.root_url = "%s://%s:%d" % ("https" if self.tls_cert else "http", HOST, self.port)
        self.url = self.base_url = self.root_url + "/mdm/v2"
        if self.log_file:
            self._log_handle = open(self.log_file, "a", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self.notifier.start()
        self._threads = [
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="vpp-sim-http", daemon=True
            ),
            threading.Thread(target=self.run_event_worker, name="vpp-sim-events", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self):
        """Stop serving, close open connections and background threads; removes a temporary tokens dir."""
        if self._server is None:
            return
        self.stop_requested.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self.stop_event_worker()
        self.notifier.stop()
        for thread in self._threads:
            thread.join(timeout=5)
        self._server = None
        if self._log_handle:
            self._log_handle.close()
            self._log_handle = None
        if self._owns_tokens_dir:
            shutil.rmtree(self.tokens_dir, ignore_errors=True)

    def open_connections(self):
        """How many client connections are open now (keep-alive tests)."""
        with self._server.connections_lock:
            return len(self._server.connections)

    def record_request(self, entry):
        super().record_request(entry)
        if self._log_handle:
            self._log_handle.write(
                "%s %s %s %s %s\n"
                % (
                    time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(entry["time"])),
                    entry["method"],
                    entry["path"],
                    entry["status"],
                    entry["location"],
                )
            )
            self._log_handle.flush()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        return "Simulator(url=%r, locations=%d)" % (self.url, len(self.locations))
