# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading through the real simulator: pages, parallel pages, deltas, service config, envelope fields."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import AppleError, InvalidVersionError

from .conftest import BRANCH, HQ, api_requests, assert_no_secret


def identity(assignment):
    return (
        assignment["adamId"],
        assignment["pricingParam"],
        assignment.get("clientUserId"),
        assignment.get("serialNumber"),
    )


def state_identities(sim, location):
    return {identity(item) for item in sim.location_state(location)["assignments"]}


def page_indexes(sim, suffix):
    return sorted(int(entry["query"].get("pageIndex", ["0"])[0]) for entry in api_requests(sim, BRANCH, suffix, "GET"))


class TestPagination:
    def test_every_record_of_every_page_exactly_once(self, sim, make_client):
        sim.configure(page_size=10)
        listing = make_client(BRANCH).assignments()
        records = [identity(item) for item in listing]
        assert len(records) == 230
        assert set(records) == state_identities(sim, BRANCH)
        assert listing.total_pages == 23
        assert listing.pages_fetched == 23
        assert page_indexes(sim, "/assignments") == list(range(23))

    def test_sequential_paging_gives_the_same_records(self, sim, make_client):
        sim.configure(page_size=10)
        records = [identity(item) for item in make_client(BRANCH, page_concurrency=1).assignments()]
        assert len(records) == 230
        assert set(records) == state_identities(sim, BRANCH)

    def test_version_id_comes_from_page_zero_before_iterating(self, sim, make_client):
        sim.configure(page_size=10)
        listing = make_client(BRANCH).users()
        version = listing.version_id
        assert version
        assert listing.pages_fetched == 1  # reading version_id alone costs one page
        users = list(listing)
        assert len(users) == 40
        assert listing.version_id == version
        assert page_indexes(sim, "/users") == list(range(4))

    def test_listing_that_grows_while_read_is_followed_to_its_real_last_page(self, sim, make_client):
        sim.configure(page_size=10)
        reader, writer = make_client(BRANCH), make_client(BRANCH)
        listing = reader.assignments()
        records = iter(listing)
        seen = {identity(next(records))}  # page 0 read: 23 pages announced
        asset = sim.location_state(BRANCH)["assets"][0]
        sim.purchase(BRANCH, asset["adamId"], 40)
        batches = writer.associate([asset["adamId"]], serial_numbers=["NEW%05d" % index for index in range(30)])
        sim.complete_events()
        writer.wait_for_events(batches, first_poll=0.01, poll_interval=0.05)
        seen.update(identity(item) for item in records)
        assert listing.total_pages == 26
        assert page_indexes(sim, "/assignments")[-1] == 25
        assert seen == state_identities(sim, BRANCH)  # 260: nothing missed

    def test_assets_are_listed_with_counts(self, make_client):
        assets = {item["adamId"]: item for item in make_client(HQ).assets()}
        assert set(assets) == {"1000000001", "1000000002", "1000000003", "2000000001"}
        assert assets["1000000001"]["assignedCount"] == 2
        assert assets["1000000001"]["totalCount"] == 50

    def test_filters_use_apples_parameter_names(self, sim, make_client):
        books = list(make_client(HQ).assets(product_type="Book"))
        assert [item["adamId"] for item in books] == ["2000000001"]
        assert api_requests(sim, HQ, "/assets")[-1]["query"]["productType"] == ["Book"]

    def test_started_listings_ask_for_their_first_pages_together(self, sim, make_client):
        sim.configure(latency_ms=300)
        client = make_client(BRANCH)
        listings = [client.assignments().start(), client.users().start(), client.assets().start()]
        assert all(listing.version_id for listing in listings)
        first_pages = [api_requests(sim, BRANCH, suffix) for suffix in ("/assignments", "/users", "/assets")]
        assert [len(requests) for requests in first_pages] == [1, 1, 1]
        arrivals = [requests[0]["time"] for requests in first_pages]
        assert max(arrivals) - min(arrivals) < 0.3  # all three arrived before the first was answered
        assert len(list(listings[1])) == 40  # page 0 is not asked for twice
        assert len(api_requests(sim, BRANCH, "/users")) == 1

    def test_a_started_listing_raises_its_first_pages_error_when_read(self, make_client):
        listing = make_client(HQ).assignments(since_version_id="not-a-version").start()
        with pytest.raises(InvalidVersionError):
            list(listing)

    def test_a_listing_is_iterated_once(self, make_client):
        listing = make_client(HQ).assets()
        list(listing)
        with pytest.raises(RuntimeError):
            iter(listing)


class TestDeltas:
    def test_delta_returns_only_what_changed_since_the_version(self, sim, make_client):
        client = make_client(HQ)
        full = client.assignments()
        before = {identity(item) for item in full}
        version = full.version_id
        batches = client.associate(["1000000003"], client_user_ids=["u-03", "u-04"])
        sim.complete_events()
        client.wait_for_events(batches, first_poll=0.01, poll_interval=0.05)
        delta = client.assignments(since_version_id=version)
        changed = {identity(item) for item in delta}
        assert changed == {("1000000003", "STDQ", "u-03", None), ("1000000003", "STDQ", "u-04", None)}
        assert not changed & before
        assert delta.version_id != version
        query = api_requests(sim, HQ, "/assignments")[-1]["query"]
        assert query["sinceVersionId"] == [version]

    def test_delta_without_changes_is_empty(self, make_client):
        client = make_client(HQ)
        listing = client.users()
        list(listing)
        assert list(client.users(since_version_id=listing.version_id)) == []

    def test_unknown_version_is_reported_as_such(self, make_client):
        with pytest.raises(InvalidVersionError) as raised:
            list(make_client(HQ).assignments(since_version_id="not-a-version"))
        assert raised.value.error_number == 9721
        assert "GET /assignments" in str(raised.value)


class TestServiceConfig:
    def test_one_service_config_request_for_many_clients(self, sim, make_client):
        clients = [make_client(HQ) for _index in range(10)] + [make_client(BRANCH) for _index in range(10)]
        for client in clients:
            client.client_config()
        assert len(api_requests(sim, suffix="/service/config")) == 1

    def test_limits_and_urls_come_from_apple(self, sim, make_client):
        sim.set_limits(maxSerialNumbers=7)
        client = make_client(HQ)
        assert client.limits["maxSerialNumbers"] == 7
        assert client.limits["maxRequestPerSecond"] == 50
        assert client.urls["getAssets"].startswith(sim.url)

    def test_service_config_is_sent_without_the_token(self, sim, make_client):
        make_client(HQ).limits  # noqa: B018 - reading the property fetches the config
        entry = api_requests(sim, suffix="/service/config")[0]
        assert entry["location"] is None


class TestEnvelope:
    def test_uid_token_expiry_and_request_counts(self, sim, make_client):
        sim.configure(token_expiration="always")
        client = make_client(HQ)
        config = client.client_config()
        list(client.assets())
        assert config["locationName"] == "Headquarters"
        assert client.uid == config["uId"]
        assert client.token_expiration_date
        assert client.requests_by_endpoint == {"GET /service/config": 1, "GET /client/config": 1, "GET /assets": 1}
        assert client.request_count == 3
        assert len(api_requests(sim, HQ)) == 2


class TestMetadata:
    def test_lookup_returns_names_bundle_ids_and_icons(self, sim, make_client):
        found = make_client(HQ).metadata_lookup(
            ["1000000001", "2000000001", "1000000001", "424242"], "enterprisestore", "US"
        )
        assert set(found) == {"1000000001", "2000000001"}
        pages = found["1000000001"]
        assert pages["name"] == "Pages"
        assert pages["bundle_id"] == "com.example.app1000000001"
        assert pages["version"] == "1.0"
        assert pages["icon_url"].endswith("/1000000001/512x512bb.png")
        assert found["2000000001"]["kind"] == "ebook"
        lookup = [entry for entry in sim.request_log() if entry["path"].endswith("/lookup")]
        assert len(lookup) == 1
        assert lookup[0]["query"]["id"] == ["1000000001,2000000001,424242"]
        assert lookup[0]["query"]["p"] == ["mdm-lockup"]
        assert lookup[0]["query"]["cc"] == ["US"]
        assert lookup[0]["location"] == HQ  # the content token came as the itvt cookie

    def test_lookup_sends_the_token_as_cookie_only(self, sim, make_client):
        client = make_client(HQ)
        seen = []
        hooks = client.transport.session.hooks["response"]
        hooks.append(lambda response, **kwargs: seen.append(response.request.headers))
        client.metadata_lookup(["1000000001"], "enterprisestore", "US")
        [headers] = [headers for headers in seen if "Cookie" in headers]
        assert headers["Cookie"] == "itvt=" + sim.tokens[HQ]
        assert "Authorization" not in headers

    def test_a_refused_lookup_never_shows_the_token(self, sim, make_client):
        client = make_client(HQ)
        sim.revoke_token(HQ)
        with pytest.raises(AppleError) as raised:
            client.metadata_lookup(["1000000001"], "enterprisestore", "US")
        assert raised.value.http_status == 403
        assert_no_secret(raised.value, sim.tokens[HQ])
