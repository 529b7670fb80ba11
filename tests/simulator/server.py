# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP layer: keep-alive request handler for Apple's paths, the metadata lookup and the ``/_sim`` hooks."""

from __future__ import annotations

import contextlib
import http.cookies
import http.server
import json
import socket
import threading
import time
import urllib.parse

from .catalogue import error_body
from .service import utcnow

API_PREFIX = "/mdm/v2"
ANSWERING_FAULTS = ("lost_answer", "malformed")  # the request is carried out, then its answer is spoiled
FAULT_ANSWERS = {"429": (429, 9646, 1), "500": (500, 9603, None), "503": (503, 9729, 1), "error200": (200, 9603, None)}
SECRET_FIELDS = ("notificationAuthToken",)


class SimulatorHTTPServer(http.server.ThreadingHTTPServer):
    """Threaded server that remembers open connections so ``stop()`` can close idle keep-alive sockets."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, simulator):
        self.simulator = simulator
        self.connections = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, RequestHandler)

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self):
        with self.connections_lock:
            for connection in list(self.connections):
                with contextlib.suppress(OSError):  # already closed by the peer
                    connection.shutdown(socket.SHUT_RDWR)


def redact(body):
    if isinstance(body, dict) and any(field in body for field in SECRET_FIELDS):
        return {key: ("***" if key in SECRET_FIELDS else value) for key, value in body.items()}
    return body


def malformed_answer(body, fault):
    """A ``malformed`` fault's answer: its ``body`` verbatim, else the real answer without its ``drop_keys``."""
    if fault["body"] is not None:
        return fault["body"]
    return {key: value for key, value in body.items() if key not in (fault["drop_keys"] or ())}


class RequestHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server_version = "VPPSimulator/1.0"
    sys_version = ""
    wbufsize = 65536  # status line, headers and body leave in one send (no Nagle/delayed-ACK stalls)
    disable_nagle_algorithm = True

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def log_message(self, format, *args):
        """Silence the default stderr access log; the simulator keeps its own request log."""

    # --- dispatch ----------------------------------------------------------------------------------------------

    def _dispatch(self, method):
        sim = self.server.simulator
        parts = urllib.parse.urlsplit(self.path)
        path, query = parts.path, urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        raw_body = self._read_body()
        if raw_body is None:
            return
        if path.startswith("/_sim/"):
            self._hook(sim, method, path, query, raw_body)
            return
        entry = {
            "method": method,
            "path": path,
            "query": query,
            "location": None,
            "status": None,
            "body": redact(_json_or_none(raw_body)),
            "time": time.time(),
            "user_agent": self.headers.get("User-Agent"),
        }
        try:
            self._answer_public(sim, method, path, query, raw_body, entry)
        finally:
            sim.record_request(entry)

    def _answer_public(self, sim, method, path, query, raw_body, entry):
        if path == "/_meta/lookup":
            location_key = metadata_token_location(sim, self.headers.get("Cookie"))
            entry["location"] = location_key
            wanted = lookup_ids(query)
            if sim.settings["metadata_requires_token"] and (location_key is None or not wanted):
                entry["status"] = 403  # the content token must come as the cookie itvt=<sToken> (Zentral)
                self._send_text(403, METADATA_REFUSAL)
                return
            entry["status"] = 200
            self._send(200, metadata_lookup(sim, query))
            return
        if path == "/_invite":
            accepted = sim.accept_invite_code((query.get("inviteCode") or [""])[0])
            entry["status"] = 200 if accepted else 404
            self._send(entry["status"], {"accepted": accepted})
            return
        if not path.startswith(API_PREFIX + "/"):
            entry["status"] = 404
            self._send(404, error_body(9602, message="Unknown path %s." % path))
            return
        relative = path[len(API_PREFIX) :]
        fault = sim.take_fault(relative, raw_body)
        if fault is not None and fault["kind"] not in ANSWERING_FAULTS:
            entry["status"] = self._answer_fault(sim, fault)
            return
        if sim.settings["latency_ms"]:
            time.sleep(sim.settings["latency_ms"] / 1000.0)
        status, body, headers, location_key = sim.handle_api(method, relative, query, self.headers, raw_body)
        entry["status"], entry["location"] = status, location_key
        if fault is not None and fault["kind"] == "malformed" and status == 200:
            body = malformed_answer(body, fault)  # Apple did the work; its HTTP 200 answer is not as documented
        elif fault is not None and fault["kind"] == "lost_answer":  # the answer never reaches the client
            entry["status"] = None
            sim.stop_requested.wait(fault["hang_seconds"] or sim.settings["fault_hang_seconds"])
            self.close_connection = True
            return
        self._send(status, body, headers)

    def _answer_fault(self, sim, fault):
        kind = fault["kind"]
        if kind in ("drop", "timeout"):
            if kind == "timeout":
                sim.stop_requested.wait(fault["hang_seconds"] or sim.settings["fault_hang_seconds"])
            self.close_connection = True  # nothing was written: the client sees the connection close unanswered
            return None
        if kind == "trickle":
            self._trickle(sim, fault["hang_seconds"] or sim.settings["fault_hang_seconds"])
            return None
        status, error_number, retry_after = FAULT_ANSWERS[kind]
        status = fault["status"] or status
        retry_after = fault["retry_after"] if fault["retry_after"] is not None else retry_after
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self._send(status, error_body(fault["error_number"] or error_number), headers)
        return status

    def _trickle(self, sim, seconds):
        """HTTP 200 headers, then one byte of the body every ``fault_trickle_ms`` for ``seconds``, then close:
        every socket read gets data in time, the answer never completes."""
        interval = sim.settings["fault_trickle_ms"] / 1000.0
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(1 << 20))
        self.end_headers()
        self.wfile.flush()
        ends = time.monotonic() + seconds
        with contextlib.suppress(OSError):  # the client gave up and closed the connection
            while time.monotonic() < ends and not sim.stop_requested.wait(interval):
                self.wfile.write(b" ")
                self.wfile.flush()
        self.close_connection = True

    def _hook(self, sim, method, path, query, raw_body):
        handler = HOOKS.get((method, path[len("/_sim") :]))
        if handler is None:
            self._send(404, {"error": "unknown hook %s %s" % (method, path)})
            return
        try:
            body = json.loads(raw_body) if raw_body else {}
            self._send(200, handler(sim, query, body))
        except (ValueError, TypeError, KeyError) as error:
            self._send(400, {"error": str(error)})

    # --- I/O ---------------------------------------------------------------------------------------------------

    def _read_body(self):
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            return self.rfile.read(int(length))
        except ValueError:
            self.close_connection = True
            self._send(400, error_body(9602, message="Bad Content-Length."))
            return None

    def _send_text(self, status, text):
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send(self, status, body, headers=None):
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _json_or_none(raw_body):
    if not raw_body:
        return None
    try:
        return json.loads(raw_body)
    except ValueError:
        return None


METADATA_REFUSAL = "Invalid Stoken or Empty/Null ids"


def lookup_ids(query):
    return [item for value in query.get("id", []) for item in value.split(",") if item]


def metadata_token_location(sim, cookie_header):
    """The location key of a usable (known, not revoked, not expired) token sent as cookie ``itvt``, else None."""
    cookies = http.cookies.SimpleCookie()
    try:
        cookies.load(cookie_header or "")
    except http.cookies.CookieError:
        return None
    if "itvt" not in cookies:
        return None
    with sim.lock:
        record = sim.token_records.get(cookies["itvt"].value)
        if record is None or record.revoked or record.expires <= utcnow():
            return None
        return record.location_key


def metadata_lookup(sim, query):
    """Legacy ``contentMetadataLookup`` answer: ``{"results": {adamId: {...}}}`` for the ids asked for."""
    wanted = lookup_ids(query)
    platform = (query.get("platform") or ["enterprisestore"])[0]
    results = {}
    with sim.lock:
        for location in sim.locations.values():
            for asset in location.assets.values():
                if asset.adam_id in wanted and asset.adam_id not in results:
                    results[asset.adam_id] = _lookup_entry(sim.root_url, asset, platform)
    return {"results": results}


def _lookup_entry(root_url, asset, platform):
    is_app = asset.product_type == "App"
    entry = {
        "id": asset.adam_id,
        "name": asset.name,
        "kind": ("mac-software" if asset.platforms == ["macOS"] else "iosSoftware") if is_app else "ebook",
        "artistName": "Example Developer",
        "platform": platform,
        "supportedPlatforms": list(asset.platforms),
        "artwork": {
            "url": "%s/_meta/artwork/%s/{w}x{h}bb.{f}" % (root_url, asset.adam_id),
            "width": 1024,
            "height": 1024,
        },
        "offers": [{"version": {"display": asset.version}, "price": 0.0}] if is_app else [],
        "url": "https://apps.apple.com/app/id%s" % asset.adam_id,
    }
    if asset.bundle_id:
        entry["bundleId"] = asset.bundle_id
    return entry


# --- hooks -------------------------------------------------------------------------------------------------------


def _location_arg(query, body):
    return body.get("location") or (query.get("location") or [None])[0]


def _by_location(method_name):
    """A hook calling ``sim.<method_name>(location)`` with the location from the query or body."""
    return lambda sim, query, body: getattr(sim, method_name)(_location_arg(query, body))


def _request_counts(sim, query, body):
    counts = sim.request_counts(_location_arg(query, body))
    return {"%s %s" % key: value for key, value in counts.items()}  # JSON keys are strings: "GET /mdm/v2/assets"


HOOKS = {
    ("GET", "/health"): lambda sim, query, body: {"ok": True, "url": sim.url},
    ("POST", "/limits"): lambda sim, query, body: sim.set_limits(**body),
    ("POST", "/configure"): lambda sim, query, body: sim.configure(**body),
    ("POST", "/events/complete"): lambda sim, query, body: sim.complete_events(body.get("event_id")),
    ("POST", "/events/wait"): lambda sim, query, body: sim.wait_events(body.get("event_id"), body.get("timeout", 5.0)),
    ("POST", "/events/fail"): lambda sim, query, body: sim.fail_events(body["error_number"], body.get("event_id")),
    ("POST", "/purchase"): lambda sim, query, body: sim.purchase(
        body["location"], body["adam_id"], body["count"], body.get("pricing_param", "STDQ")
    ),
    ("POST", "/transfer"): lambda sim, query, body: sim.transfer(
        body["from_location"], body["to_location"], body["adam_id"], body["count"], body.get("pricing_param", "STDQ")
    ),
    ("POST", "/accept_invitation"): lambda sim, query, body: sim.accept_invitation(
        body["location"], body["client_user_id"]
    ),
    ("POST", "/user_device_limit"): lambda sim, query, body: sim.set_user_device_limit(
        body["location"], body["client_user_id"], body.get("reached", True)
    ),
    ("POST", "/mdm_info"): lambda sim, query, body: sim.set_mdm_info(body["location"], body["mdm_info"]),
    ("POST", "/token/expire"): lambda sim, query, body: sim.expire_token(body["location"]),
    ("POST", "/token/revoke"): lambda sim, query, body: sim.revoke_token(body["location"]),
    ("POST", "/token/renew"): lambda sim, query, body: {"token": sim.renew_token(body["location"])},
    ("POST", "/token/issue"): lambda sim, query, body: {"token": sim.issue_token(body["location"])},
    ("POST", "/faults"): lambda sim, query, body: sim.inject_fault(**body),
    ("DELETE", "/faults"): lambda sim, query, body: sim.clear_faults(),
    ("GET", "/request_log"): _by_location("request_log"),
    ("DELETE", "/request_log"): lambda sim, query, body: sim.clear_request_log(),
    ("GET", "/request_counts"): _request_counts,
    ("GET", "/state"): _by_location("location_state"),
    ("GET", "/notifications"): _by_location("notifications"),
    ("POST", "/notifications/wait"): lambda sim, query, body: sim.wait_notifications(body.get("timeout", 5.0)),
    ("POST", "/reset"): lambda sim, query, body: sim.reset(),
}
