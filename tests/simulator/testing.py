# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for tests that talk to the simulator over plain HTTP: an sToken-bound client and a webhook receiver."""

from __future__ import annotations

import copy
import http.server
import json
import os
import threading

import requests
import yaml

SMALL_SCENARIO = os.path.join(os.path.dirname(__file__), "scenarios", "small.yml")


def small_scenario(**settings):
    """The small default scenario as a dict, with settings overridden."""
    with open(SMALL_SCENARIO, encoding="utf-8") as handle:
        scenario = yaml.safe_load(handle)
    scenario["settings"].update(settings)
    return copy.deepcopy(scenario)


class Api:
    """Speaks to the simulator like an MDM would: one keep-alive session, one sToken."""

    def __init__(self, simulator, token):
        self.simulator = simulator
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer " + token

    def get(self, path, **params):
        return self.session.get(self.simulator.url + path, params=params, timeout=10)

    def post(self, path, body):
        return self.session.post(self.simulator.url + path, json=body, timeout=10)

    def ok(self, method, path, body=None, **params):
        """The JSON body of a request that must succeed."""
        response = self.get(path, **params) if method == "GET" else self.post(path, body)
        assert response.status_code == 200, response.text
        assert "errorNumber" not in response.json()
        return response.json()

    def run_event(self, path, body):
        """Submit an async request, complete it now and return its final StatusResponse."""
        event_id = self.ok("POST", path, body)["eventId"]
        self.simulator.complete_events(event_id)
        return self.ok("GET", "/status", eventId=event_id)

    def all_pages(self, path, list_key, **params):
        items, page = [], 0
        while page is not None:
            body = self.ok("GET", path, pageIndex=page, **params)
            items.extend(body[list_key])
            page = body.get("nextPageIndex")
        return items


def assert_error(response, status, error_number):
    assert response.status_code == status, response.text
    assert response.json()["errorNumber"] == error_number, response.text


class Receiver:
    """A webhook endpoint on 127.0.0.1 recording every POST; answers with ``statuses`` in turn, then 200."""

    def __init__(self):
        self.received = []
        self.statuses = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append({"authorization": self.headers.get("Authorization"), "body": json.loads(body)})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hooks/apple" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def payloads(self, notification_type=None):
        return [
            item["body"]
            for item in self.received
            if notification_type is None or item["body"]["notificationType"] == notification_type
        ]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
