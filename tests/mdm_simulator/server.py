# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP layer: flavor routing, Basic auth as each server answers it (§5.1), faults, body bound, ``/_mdm/`` hooks."""

from __future__ import annotations

import base64
import hmac
import http.server
import json
import re
import time
import urllib.parse

from . import kmfddm, micromdm, nanomdm
from .responses import NOT_FOUND, json_answer, text_answer

# flavor -> (Basic user, realm); §2.2, §3.2, §4.1, §4.4
AUTH = {"nanomdm": ("nanomdm", "nanomdm"), "nanohub": ("nanohub", "NanoHUB API"), "kmfddm": ("kmfddm", "kmfddm"),
        "micromdm": ("micromdm", "micromdm")}  # fmt: skip
VERSION = "v0.0.0-mdm-simulator"
DISCARD_LIMIT = 256 * 1024  # net/http discards at most this much of an unread request body
COLLAPSE = [
    (re.compile(r"^(/(?:api/v1/nanomdm|v1)/(?:enqueue|push))/.*$"), r"\1"),
    (re.compile(r"^(/v1/commands|/v1/push|/push)/.+$"), r"\1/{id}"),
    (
        re.compile(
            r"^((?:/api/v1/ddm|/v1)/(?:declarations|set-declarations|enrollment-sets|declaration-sets|"
            r"declaration-status|status-report|enrollment-sets-all/sets))/[^/]+(/touch)?$"
        ),
        r"\1/{id}\2",
    ),
]


def collapse(path):
    for pattern, replacement in COLLAPSE:
        if pattern.match(path):
            return pattern.sub(replacement, path)
    return path


def unauthorized(flavor):
    user, realm = AUTH[flavor]
    header = {"Www-Authenticate": 'Basic realm="%s"' % realm}
    if flavor == "micromdm":
        return json_answer(401, {"error": "Unauthorized"}, headers=header)
    return text_answer(401, "Unauthorized", headers=header)  # nanolib:http/http.go#L24-40


def authorized(sim, header):
    user = AUTH[sim.flavor][0]
    if not header or not header.startswith("Basic "):
        return False
    try:
        given = base64.b64decode(header[6:]).decode("utf-8")
    except ValueError:
        return False
    return hmac.compare_digest(given.encode(), ("%s:%s" % (user, sim.api_key)).encode())  # constant time


def route(sim, method, path, query, body, auth_ok):
    """The API answer, or None for 'answer 401' (MicroMDM decodes before it checks credentials)."""
    flavor = sim.flavor
    if flavor == "micromdm":
        return micromdm.handle(sim, method, path, query, body, auth_ok)
    if not auth_ok:
        return None
    with sim.lock:
        if flavor == "nanomdm" and path.startswith("/v1/"):
            return nanomdm.handle(sim, method, path[3:], query, body)
        if flavor == "nanohub" and path.startswith("/api/v1/nanomdm/"):
            return nanomdm.handle(sim, method, path[len("/api/v1/nanomdm") :], query, body)
        if flavor == "nanohub" and path.startswith("/api/v1/ddm/"):
            return kmfddm.handle(sim, method, path[len("/api/v1/ddm") :], query, body)
        if flavor == "kmfddm" and path.startswith("/v1/"):
            return kmfddm.handle(sim, method, path[3:], query, body)
    return NOT_FOUND


FAULTS = {"500": text_answer(500, "Internal Server Error"), "503": text_answer(503, "Service Unavailable")}


class MDMHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, simulator):
        self.simulator = simulator
        super().__init__(address, Handler)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MDMSimulator/1.0"
    sys_version = ""
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        """The stand-in keeps its own request log."""

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method):
        sim = self.server.simulator
        parts = urllib.parse.urlsplit(self.path)
        path, query = parts.path, urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        if length > sim.settings["max_body"]:
            # Go reads a too-large body up to its limit (plus net/http's 256 KB discard) before the 413 goes out;
            # answering unread would reset the client's still-sending socket instead.
            self.rfile.read(min(length, sim.settings["max_body"] + DISCARD_LIMIT))
            self.close_connection = True
            self._send(text_answer(413, "http: request body too large"))
            return
        body = self.rfile.read(length) if length else b""
        if path.startswith("/_mdm/"):
            self._send(sim.run_hook(method, path[len("/_mdm") :], query, body))
            return
        entry = {"method": method, "path": path, "query": query, "status": None, "time": time.time(),
                 "body": body.decode("utf-8", "replace")[:65536]}  # fmt: skip
        try:
            if path == "/version":  # unauthenticated everywhere
                answer = json_answer(200, {"version": VERSION})
            else:
                fault = sim.take_fault(path)
                if fault == "drop":
                    self.close_connection = True
                    return
                if fault == "401":
                    answer = unauthorized(sim.flavor)
                elif fault:
                    answer = FAULTS[fault]
                else:
                    answer = route(sim, method, path, query, body, authorized(sim, self.headers.get("Authorization")))
                    answer = answer or unauthorized(sim.flavor)
            entry["status"] = answer[0]
            self._send(answer)
        finally:
            sim.record_request(entry)

    def _send(self, answer):
        status, headers, data = answer
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status not in (204, 304):
            self.wfile.write(data)


def hook_answer(value):
    return json_answer(200, value)


def hook_error(status, text):
    return status, {"Content-Type": "application/json"}, json.dumps({"error": text}).encode()
