# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pacing, retries and errors through the real simulator; secrets never leak into an error."""

from __future__ import annotations

import socket
import threading

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.client import RATE_BURST, RATE_SAFETY, RateLimiter, VPPClient
from ansible_collections.mdm.vpp.plugins.module_utils.errors import (
    AppleError,
    AuthenticationError,
    RateLimitedError,
    ServiceUnavailableError,
    TokenExpiredError,
    TokenRevokedError,
)

from .conftest import BRANCH, HQ, api_requests, assert_no_secret


def busiest_second(times):
    """The largest number of requests that started within any window [t, t + 1s)."""
    times = sorted(times)
    busiest, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    return busiest


def gaps_after_faults(entries, status):
    """Seconds between each answer with ``status`` and the next request (the client's wait)."""
    return [
        entries[index + 1]["time"] - entry["time"]
        for index, entry in enumerate(entries[:-1])
        if entry["status"] == status
    ]


class TestRateLimiter:
    def test_a_few_requests_go_at_once_the_rest_keep_an_even_schedule_at_98_percent(self):
        limiter = RateLimiter()
        starts = [limiter.reserve(15, now=100.0) for _request in range(40)]
        interval = 1 / (15 * RATE_SAFETY)
        assert starts[:RATE_BURST] == [100.0] * RATE_BURST
        # never more than the burst ahead of the even schedule, never more than 15 in a second...
        assert all(start >= 100.0 + (index - RATE_BURST + 1) * interval - 1e-9 for index, start in enumerate(starts))
        assert busiest_second(starts) <= 15
        # ...and no later than the schedule either: a long listing runs at 98% of Apple's rate
        assert starts[-1] <= 100.0 + (len(starts) - RATE_BURST) * interval + 1e-9

    def test_after_a_pause_a_burst_is_allowed_again_but_never_more_than_the_rate_a_second(self):
        limiter = RateLimiter()
        first = [limiter.reserve(15, now=0.0) for _request in range(15)]
        later = [limiter.reserve(15, now=first[-1] + 2.0) for _request in range(15)]
        assert later[:RATE_BURST] == pytest.approx([first[-1] + 2.0] * RATE_BURST)
        assert busiest_second(first + later) <= 15
        # a rate of 1 a second: one request at once, the next a full interval later
        slow = RateLimiter()
        assert [slow.reserve(1, now=0.0) for _request in range(2)] == [0.0, pytest.approx(1 / RATE_SAFETY)]

    def test_parallel_pages_of_two_clients_stay_under_the_advertised_rate(self, sim, make_client):
        sim.set_limits(maxRequestPerSecond=8)
        sim.configure(page_size=10, enforce_rate_limit=True)
        clients = [make_client(BRANCH), make_client(BRANCH)]  # same token: one budget
        counts = []
        threads = [
            threading.Thread(target=lambda c=client: counts.append(sum(1 for _record in c.assignments())))
            for client in clients
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert counts == [230, 230]
        entries = api_requests(sim, BRANCH)
        assert len(entries) == 46
        assert {entry["status"] for entry in entries} == {200}  # no 429 was ever served
        # One budget for both clients: 46 requests at 8 a second span at least (46 - 8) / 8 s of arrivals (two
        # budgets would take half that). The limiter's per-second bound itself is checked on its own reservations
        # above: arrival times at the server carry scheduling jitter beyond the limiter's 2% margin under load.
        arrivals = sorted(entry["time"] for entry in entries)
        assert arrivals[-1] - arrivals[0] >= (len(arrivals) - 8) / 8


class TestRetries:
    def test_429_is_retried_after_retry_after(self, sim, make_client):
        sim.inject_fault("429", count=2, path="/assets", retry_after=1)
        assets = list(make_client().assets())
        assert len(assets) == 4
        entries = api_requests(sim, suffix="/assets")
        assert [entry["status"] for entry in entries] == [429, 429, 200]
        assert min(gaps_after_faults(entries, 429)) >= 1.0

    def test_503_with_retry_after_is_honoured(self, sim, make_client):
        sim.inject_fault("503", count=1, path="/client/config", retry_after=2)
        make_client().client_config()
        entries = api_requests(sim, suffix="/client/config")
        assert [entry["status"] for entry in entries] == [503, 200]
        assert gaps_after_faults(entries, 503)[0] >= 2.0

    def test_500_and_dropped_connections_are_retried(self, sim, make_client):
        sim.inject_fault("500", count=1, path="/users")
        sim.inject_fault("drop", count=2, path="/users")
        client = make_client()
        assert len(list(client.users())) == 8
        assert [entry["status"] for entry in api_requests(sim, suffix="/users")] == [500, None, None, 200]
        assert client.requests_by_endpoint["GET /users"] == 4

    def test_a_hanging_answer_is_retried_after_the_timeout(self, sim, make_client):
        sim.inject_fault("timeout", count=1, path="/client/config", hang_seconds=1.0)
        client = make_client(timeout=0.3)
        assert client.client_config()["locationName"] == "Headquarters"
        # the simulator logs the hung request only when it gives up on it, so count on the client's side
        assert client.requests_by_endpoint["GET /client/config"] == 2

    def test_retries_are_bounded_then_the_error_says_why(self, sim, make_client):
        sim.inject_fault("503", count=10, path="/assets", retry_after=0)
        with pytest.raises(ServiceUnavailableError) as raised:
            list(make_client(retries=2).assets())
        assert len(api_requests(sim, suffix="/assets")) == 3
        message = str(raised.value)
        assert "GET /assets" in message
        assert "9729" in message
        assert "3 attempt(s)" in message
        assert raised.value.http_status == 503
        assert_no_secret(raised.value, sim.tokens[HQ])

    def test_throttling_that_never_ends_is_a_rate_limited_error(self, sim, make_client):
        sim.inject_fault("429", count=10, path="/assets", retry_after=0)
        with pytest.raises(RateLimitedError) as raised:
            list(make_client(retries=1).assets())
        assert raised.value.error_number == 9646
        assert len(api_requests(sim, suffix="/assets")) == 2

    def test_a_retry_after_longer_than_accepted_stops_at_once(self, sim, make_client):
        sim.inject_fault("503", count=1, path="/assets", retry_after=120)
        with pytest.raises(ServiceUnavailableError) as raised:
            list(make_client(max_retry_after=5).assets())
        assert "wait 120s" in str(raised.value)
        assert len(api_requests(sim, suffix="/assets")) == 1


class TestErrorBodies:
    def test_error_body_with_http_200_is_an_error(self, sim, make_client):
        sim.inject_fault("error200", count=1, path="/client/config", error_number=9601)
        with pytest.raises(AuthenticationError) as raised:
            make_client().client_config()
        assert raised.value.error_number == 9601
        assert raised.value.http_status == 200
        assert len(api_requests(sim, suffix="/client/config")) == 1

    def test_retryable_error_body_with_http_200_is_retried(self, sim, make_client):
        sim.inject_fault("error200", count=1, path="/client/config", error_number=9603)
        assert make_client().client_config()["locationName"] == "Headquarters"
        assert len(api_requests(sim, suffix="/client/config")) == 2


class TestAuthentication:
    @pytest.mark.parametrize(
        ("hook", "error_class", "number"),
        [("expire_token", TokenExpiredError, 9621), ("revoke_token", TokenRevokedError, 9625)],
    )
    def test_token_problems_are_not_retried(self, sim, make_client, hook, error_class, number):
        token = sim.tokens[HQ]
        getattr(sim, hook)(HQ)
        with pytest.raises(error_class) as raised:
            make_client().client_config()
        assert raised.value.error_number == number
        assert len(api_requests(sim, suffix="/client/config")) == 1
        assert_no_secret(raised.value, token)

    def test_unknown_token_is_refused_without_leaking_it(self, sim, make_client):
        forged = "Zm9yZ2VkLXRva2VuLXRoYXQtYXBwbGUtbmV2ZXItaXNzdWVk"
        client = VPPClient(sim.url, forged, backoff_base=0.01, backoff_cap=0.02)
        with pytest.raises(AuthenticationError) as raised:
            client.client_config()
        assert raised.value.error_number in (9601, 9622)
        assert_no_secret(raised.value, forged)
        assert forged not in repr(client)


class TestNetworkErrors:
    def test_unreachable_service_names_the_endpoint_not_the_token(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
        token = "dW5yZWFjaGFibGUtc2VydmljZS10b2tlbg=="
        client = VPPClient("http://127.0.0.1:%d/mdm/v2" % port, token, retries=1, backoff_base=0.01, backoff_cap=0.02)
        with pytest.raises(ServiceUnavailableError) as raised:
            client.limits  # noqa: B018 - the property fetches the service config
        assert "GET /service/config" in str(raised.value)
        assert "2 attempt(s)" in str(raised.value)
        assert raised.value.__cause__ is None and raised.value.__context__ is None
        assert_no_secret(raised.value, token, "127.0.0.1:%d" % port)
        assert isinstance(raised.value, AppleError)
