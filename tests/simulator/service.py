# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulated license service: tenancy, endpoints, events, notifications and the test hooks.

Everything that touches state holds ``self.lock`` (one re-entrant lock is plenty for a test double). The HTTP
layer (server.py) only parses requests and calls ``handle_api``.
"""

from __future__ import annotations

import base64
import collections
import datetime
import json
import os
import random
import secrets
import threading
import time

from . import events as event_processing
from . import validation
from .catalogue import ERRORS, EXPIRY_WARNING_DAYS, MAX_NOTIFICATION_ELEMENTS, SUPPORTED_NOTIFICATION_TYPES, ApiError
from .model import (
    SERIAL_TARGET,
    USER_TARGET,
    AssetRecord,
    assignment_body,
    build_location,
    format_apple_date,
    new_uuid,
    token_expiry,
)
from .notifier import Notifier
from .paging import SnapshotCache, page_meta
from .scenario import LOCATION_TYPES

ASSET_EVENT_TYPES = ("ASSOCIATE", "DISASSOCIATE", "REVOKE")
URL_KEYS = {
    "clientConfig": "/client/config",
    "getAssets": "/assets",
    "associateAssets": "/assets/associate",
    "disassociateAssets": "/assets/disassociate",
    "revokeAssets": "/assets/revoke",
    "getAssignments": "/assignments",
    "getUsers": "/users",
    "createUsers": "/users/create",
    "updateUsers": "/users/update",
    "retireUsers": "/users/retire",
    "eventStatus": "/status",
}
# path -> {method: (handler name, writes)}; writes are refused for read-only tokens.
ROUTES = {
    "/service/config": {"GET": ("_service_config", False)},
    "/client/config": {"GET": ("_get_client_config", False), "POST": ("_post_client_config", True)},
    "/assets": {"GET": ("_get_assets", False)},
    "/assets/associate": {"POST": ("_associate", True)},
    "/assets/disassociate": {"POST": ("_disassociate", True)},
    "/assets/revoke": {"POST": ("_revoke", True)},
    "/assignments": {"GET": ("_get_assignments", False)},
    "/users": {"GET": ("_get_users", False)},
    "/users/create": {"POST": ("_create_users", True)},
    "/users/update": {"POST": ("_update_users", True)},
    "/users/retire": {"POST": ("_retire_users", True)},
    "/status": {"GET": ("_status", False)},
}


def utcnow():
    return datetime.datetime.now(datetime.UTC)


def chunks(items, size=MAX_NOTIFICATION_ELEMENTS):
    return [items[start : start + size] for start in range(0, len(items), size)]


class TokenRecord:
    __slots__ = ("value", "location_key", "expires", "revoked")

    def __init__(self, value, location_key, expires):
        self.value = value
        self.location_key = location_key
        self.expires = expires
        self.revoked = False


def make_stoken(org_name, expires):
    """A content token as Apple ships it: base64 of JSON {token, expDate, orgName}."""
    secret = base64.b64encode(secrets.token_bytes(48)).decode("ascii")
    payload = {"token": secret, "expDate": format_apple_date(expires), "orgName": org_name}
    return base64.b64encode(json.dumps(payload).encode("utf-8")).decode("ascii")


class Service:
    """State and behaviour of the simulated service; ``Simulator`` adds the HTTP server around it."""

    def __init__(self, scenario, tokens_dir):
        self.scenario = scenario
        self.settings = dict(scenario["settings"])
        self.limits = dict(scenario["limits"])
        self.tokens_dir = tokens_dir
        self.lock = threading.RLock()
        self._events_changed = threading.Condition(self.lock)
        self.cache = SnapshotCache()
        self.notifier = Notifier(self.settings)
        self.base_url = self.root_url = None  # set once the server is bound
        self._stopping = False
        self._initial_tokens = {}
        self._build_state()
        self._issue_initial_tokens()

    # --- state -------------------------------------------------------------------------------------------------

    def _build_state(self):
        seed = self.settings["seed"]
        self.rng = random.Random(seed)
        self.locations = {spec["key"]: build_location(spec, seed) for spec in self.scenario["locations"]}
        self.events = {}
        self.pending = collections.OrderedDict()
        self.faults = []
        self.buckets = {}
        self.log = []
        self.counts = collections.Counter()
        self.device_limited = set()  # (location key, clientUserId) at Apple's device limit (9622 on associate)
        self.cache.clear()

    def _issue_initial_tokens(self):
        """One current token per location; reset() re-issues the same tokens (same files, same expiry)."""
        self.token_records = {}
        self.tokens = {}
        now = utcnow()
        for key, location in self.locations.items():
            if key not in self._initial_tokens:
                expires = token_expiry(location.spec, now)
                self._initial_tokens[key] = (make_stoken(location.org, expires), expires)
            value, expires = self._initial_tokens[key]
            self._register_token(TokenRecord(value, key, expires), current=True)

    def _register_token(self, record, current):
        self.token_records[record.value] = record
        if current:
            self.tokens[record.location_key] = record.value
            self._write_token_file(record.location_key, record.value)

    def _write_token_file(self, location_key, value):
        if not self.tokens_dir:
            return
        path = os.path.join(self.tokens_dir, location_key + ".vpptoken")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(value)
        os.chmod(path, 0o600)

    def _location(self, key):
        try:
            return self.locations[key]
        except KeyError:
            raise ValueError("unknown location %r" % key) from None

    # --- request entry point -----------------------------------------------------------------------------------

    def handle_api(self, method, path, query, headers, raw_body):
        """Answer one ``/mdm/v2`` request: returns (status, body, extra headers, location key)."""
        location_key = None
        try:
            route = ROUTES.get(path)
            if route is None:
                raise ApiError(9602, status=404, message="Unknown path %s." % path)
            if method not in route:
                raise ApiError(9726, headers={"Allow": ", ".join(sorted(route))})
            handler_name, writes = route[method]
            if path == "/service/config":
                return 200, self._service_config(), {}, None
            with self.lock:
                token = self._authenticate(headers.get("Authorization"))
                location_key = token.location_key
                location = self.locations[location_key]
                self._take_rate_token(location_key)
                if writes and location.read_only:
                    raise ApiError(self.settings["read_only_error"], status=403)
            body = self._parse_body(method, headers, raw_body)
            result = getattr(self, handler_name)(location, query, body)
            with self.lock:
                return 200, dict(result, **self._envelope(location, token, path)), {}, location_key
        except ApiError as error:
            return error.status, error.body(), error.headers, location_key

    def _authenticate(self, header):
        value = header[len("Bearer ") :] if header and header.startswith("Bearer ") else ""
        if not value or value != value.strip() or " " in value:
            raise ApiError(9722)
        record = self.token_records.get(value)
        if record is None:  # production answers token errors with HTTP 200 + an error body (Fleet's api.go)
            raise ApiError(self.settings["invalid_token_error"], status=self.settings["token_error_status"])
        if record.revoked:
            raise ApiError(9625, status=self.settings["token_error_status"])
        if record.expires <= utcnow():
            raise ApiError(9621)
        return record

    def _take_rate_token(self, location_key):
        """Token bucket of ``maxRequestPerSecond`` per location (burst = one second's worth)."""
        if not self.settings["enforce_rate_limit"]:
            return
        rate = float(self.limits["maxRequestPerSecond"])
        now = time.monotonic()
        tokens, last = self.buckets.get(location_key, (rate, now))
        tokens = min(rate, tokens + (now - last) * rate)
        if tokens < 1:
            self.buckets[location_key] = (tokens, now)
            raise ApiError(9646, headers={"Retry-After": "1"})
        self.buckets[location_key] = (tokens - 1, now)

    @staticmethod
    def _parse_body(method, headers, raw_body):
        if method != "POST" or not raw_body:
            return {}
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise ApiError(9727)
        try:
            body = json.loads(raw_body)
        except ValueError:
            raise ApiError(9602, message="The body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise ApiError(9602, message="The body must be a JSON object.")
        return body

    def _envelope(self, location, token, path=None):
        envelope = {"uId": location.uid}
        if location.mdm_info:
            envelope["mdmInfo"] = dict(location.mdm_info)
        window = datetime.timedelta(days=EXPIRY_WARNING_DAYS)
        mode = self.settings["token_expiration"]
        if mode == "always" or (mode == "config" and path == "/client/config") or token.expires - utcnow() <= window:
            envelope["tokenExpirationDate"] = format_apple_date(token.expires)
        return envelope

    # --- configuration endpoints -------------------------------------------------------------------------------

    def _service_config(self):
        urls = {key: self.base_url + path for key, path in URL_KEYS.items()}
        urls["invitationEmail"] = self.root_url + "/_invite?inviteCode=%25inviteCode%25&mt=8"
        urls["contentMetadataLookup"] = self.root_url + "/_meta/lookup"
        return {
            "errorCodes": [{"errorNumber": number, "errorMessage": text} for number, (_status, text) in ERRORS.items()],
            "limits": dict(self.limits),
            "notificationTypes": list(SUPPORTED_NOTIFICATION_TYPES),
            "urls": urls,
        }

    @staticmethod
    def _client_config(location):
        kind = LOCATION_TYPES[location.kind]
        body = {
            "countryISO2ACode": location.country,
            "defaultPlatform": kind["defaultPlatform"],
            "locationName": location.name,
            "subscribedNotificationTypes": list(location.notification_types),
            "websiteURL": kind["websiteURL"],
        }
        if location.notification_url:
            body["notificationUrl"] = location.notification_url
            body["notificationAuthToken"] = location.notification_auth_token
        return body

    def _get_client_config(self, location, query, body):
        with self.lock:
            return self._client_config(location)

    def _post_client_config(self, location, query, body):
        update = validation.client_config_request(body, self.limits, self.settings["allow_http_notifications"])
        if "notificationUrl" in update:  # a new webhook must accept a TEST_NOTIFICATION first (reference §5.3)
            with self.lock:
                test = {
                    "notificationId": new_uuid(self.rng),
                    "notificationType": "TEST_NOTIFICATION",
                    "notification": {},
                    "uId": location.uid,
                }
            if not self.notifier.send_now(
                location.key, update["notificationUrl"], update["notificationAuthToken"], test
            ):
                raise ApiError(9728)
        with self.lock:
            if "mdmInfo" in update:
                location.mdm_info = update["mdmInfo"]
            if "notificationUrl" in update:
                location.notification_url = update["notificationUrl"]
                location.notification_auth_token = update["notificationAuthToken"]
            if "notificationTypes" in update:
                location.notification_types = update["notificationTypes"]
            return self._client_config(location)

    # --- reads -------------------------------------------------------------------------------------------------

    def _page(self, items, query):
        index = validation.page_index(query)
        meta, start, end = page_meta(len(items), index, self.settings["page_size"])
        return items[start:end], meta

    def _get_assets(self, location, query, body):
        filters = validation.asset_filters(query)  # sinceVersionId is ignored here (reference §6.1 [assume])
        with self.lock:
            version = location.versions["assets"]
            key = (location.key, "assets", tuple(filters.items()), version.seq)
            items = self.cache.get_or_build(
                key, lambda: [asset for asset in location.assets.values() if _asset_matches(asset, filters)]
            )
            page, meta = self._page(items, query)
            split = filters["unlimited"] is True
            result = {"assets": [asset.to_response() for asset in page if not (split and asset.unlimited)]}
            if split:
                result["unlimitedAssets"] = [asset.to_unlimited_response() for asset in page if asset.unlimited]
            result.update(meta, versionId=version.current_id)
            return result

    def _since_seq(self, location, dataset, query):
        since = validation.query_value(query, "sinceVersionId")
        if since is None:
            return None
        seq = location.versions[dataset].seq_of(since)
        if seq is None:
            raise ApiError(9721)
        return seq

    def _get_assignments(self, location, query, body):
        filters = validation.assignment_filters(query)
        include_state = validation.query_bool(query, "includeUserState")
        with self.lock:
            since = self._since_seq(location, "assignments", query)
            version = location.versions["assignments"]
            key = (
                location.key,
                "assignments",
                tuple(filters.items()),
                since,
                version.seq,
                location.versions["users"].seq,
            )
            items = self.cache.get_or_build(key, lambda: _assignment_items(location, filters, since))
            page, meta = self._page(items, query)
            rows = [_assignment_row(location, asset_key, target, include_state) for asset_key, target in page]
            return dict(meta, assignments=rows, versionId=version.current_id)

    def _get_users(self, location, query, body):
        filters = validation.user_filters(query)
        with self.lock:
            since = self._since_seq(location, "users", query)
            version = location.versions["users"]
            key = (location.key, "users", tuple(filters.items()), since, version.seq)
            items = self.cache.get_or_build(key, lambda: _user_items(location, filters, since))
            page, meta = self._page(items, query)
            rows = [location.users[record_id].to_response() for record_id in page]
            return dict(meta, users=rows, versionId=version.current_id)

    def _status(self, location, query, body):
        event_id = validation.query_value(query, "eventId")
        if not event_id:
            raise ApiError(9602, message="eventId is required.")
        with self.lock:
            event = self.events.get(event_id)
            if event is None or event.location_key != location.key:  # events are scoped to their location
                raise ApiError(9708)
            return event.to_status()

    # --- asynchronous writes -----------------------------------------------------------------------------------

    def _associate(self, location, query, body):
        with self.lock:
            keys, targets = validation.manage_assets_request(
                body, self.limits, location.assets, associate=True, mixed=self.settings["mixed_targets"] == "accept"
            )
            self._refuse_users_synchronously(location, targets)
            return self._queue(location, "ASSOCIATE", {"assets": keys, "targets": targets}, len(keys) * len(targets))

    def _disassociate(self, location, query, body):
        with self.lock:
            keys, targets = validation.manage_assets_request(
                body, self.limits, location.assets, associate=False, mixed=self.settings["mixed_targets"] == "accept"
            )
            request = {"assets": keys, "targets": targets}
            return self._queue(location, "DISASSOCIATE", request, len(keys) * len(targets))

    def _refuse_users_synchronously(self, location, targets):
        """Production refuses a whole associate naming an unknown/retired user (9609) or one at its device limit
        (9622), HTTP 400, no event (Fleet's api.go)."""
        user_ids = [value for kind, value in targets if kind == USER_TARGET]
        if self.settings["unknown_user_error"] == "sync":
            unknown = [user_id for user_id in user_ids if location.active_user(user_id) is None]
            if unknown:
                info = {"clientUserIds": unknown} if self.settings["unknown_user_info"] else None
                raise ApiError(9609, info=info, message="Unable to find the registered user.")
        limited = [user_id for user_id in user_ids if (location.key, user_id) in self.device_limited]
        if limited:
            info = {"clientUserIds": limited} if self.settings["unknown_user_info"] else None
            raise ApiError(
                9622, status=400, info=info, message="User has reached the maximum number of devices for this license"
            )

    def _revoke(self, location, query, body):
        with self.lock:
            targets = validation.revoke_request(body, self.limits)
            estimate = len(event_processing.revokable_pairs(location, targets))  # final count set when processed
            return self._queue(location, "REVOKE", {"targets": targets}, estimate)

    def _users_event(self, location, body, event_type):
        with self.lock:
            users = validation.users_request(body, self.limits, retire=event_type == "RETIRE")
            return self._queue(location, event_type, {"users": users}, len(users))

    def _create_users(self, location, query, body):
        return self._users_event(location, body, "CREATE")

    def _update_users(self, location, query, body):
        return self._users_event(location, body, "UPDATE")

    def _retire_users(self, location, query, body):
        return self._users_event(location, body, "RETIRE")

    def _queue(self, location, event_type, request, num_requested):
        event = event_processing.Event(
            new_uuid(self.rng),
            location.key,
            event_type,
            request,
            num_requested,
            time.monotonic() + self.settings["event_delay"],
        )
        self.events[event.event_id] = event
        self.pending[event.event_id] = event
        self._events_changed.notify_all()
        return {"eventId": event.event_id}

    def _process(self, event, forced_error=None):
        location = self.locations[event.location_key]
        if forced_error is None:
            outcome = event_processing.PROCESSORS[event.event_type](location, event.request)
        else:
            outcome = event_processing.Outcome()
            for element, asset_key, target in event_processing.request_elements(location, event):
                outcome.fail(forced_error, element, asset_key, target)
        if event.event_type == "REVOKE":
            event.num_requested = len(outcome.successes) + outcome.failed_count
        event.num_completed = len(outcome.successes)
        event.failures = outcome.failures()
        event.status = "FAILED" if outcome.failed else "COMPLETE"
        self.pending.pop(event.event_id, None)
        self._notify_outcome(location, event, outcome)
        self._events_changed.notify_all()

    def _notify_outcome(self, location, event, outcome):
        asset_event = event.event_type in ASSET_EVENT_TYPES
        kind, list_key = ("ASSET_MANAGEMENT", "assignments") if asset_event else ("USER_MANAGEMENT", "users")
        base = {"eventId": event.event_id, "type": event.event_type}
        success_chunks = chunks(outcome.successes) or ([[]] if not outcome.failed else [])
        for chunk in success_chunks:
            self._notify(location, kind, dict(base, result="SUCCESS", **{list_key: chunk}))
        for error, elements in outcome.failure_groups():  # one error per notification (reference §11)
            for chunk in chunks(elements):
                self._notify(location, kind, dict(base, result="FAILURE", error=error, **{list_key: chunk}))

    def _notify(self, location, notification_type, payload):
        if not location.notification_url or notification_type not in location.notification_types:
            return
        envelope = {
            "notificationId": new_uuid(self.rng),
            "notificationType": notification_type,
            "notification": payload,
            "uId": location.uid,
        }
        self.notifier.enqueue(location.key, location.notification_url, location.notification_auth_token, envelope)

    def run_event_worker(self):
        """Background loop: process each pending event once its ``event_delay`` has passed (unless held)."""
        with self._events_changed:
            while not self._stopping:
                timeout = None
                if self.pending and not self.settings["hold_events"]:
                    now = time.monotonic()
                    for event in [event for event in self.pending.values() if event.due <= now]:
                        self._process(event)
                    if self.pending:
                        timeout = max(0.001, min(event.due for event in self.pending.values()) - now)
                self._events_changed.wait(timeout)

    def stop_event_worker(self):
        with self._events_changed:
            self._stopping = True
            self._events_changed.notify_all()

    # --- hooks -------------------------------------------------------------------------------------------------

    def set_limits(self, **limits):
        """Override ``service/config`` limits (e.g. ``maxAssets=2``); returns all limits."""
        unknown = set(limits) - set(self.limits)
        if unknown:
            raise ValueError("unknown limits: %s" % ", ".join(sorted(unknown)))
        with self.lock:
            self.limits.update({key: int(value) for key, value in limits.items()})
            return dict(self.limits)

    def configure(self, **settings):
        """Change settings at run time; returns all settings."""
        unknown = set(settings) - set(self.settings)
        if unknown:
            raise ValueError("unknown settings: %s" % ", ".join(sorted(unknown)))
        validate_settings(settings)
        with self._events_changed:
            self.settings.update(settings)
            if "page_size" in settings:
                self.cache.clear()
            self._events_changed.notify_all()
            return dict(self.settings)

    def _pending_selection(self, event_id):
        if event_id is None:
            return list(self.pending.values())
        if event_id not in self.events:
            raise ValueError("unknown event %r" % event_id)
        return [self.pending[event_id]] if event_id in self.pending else []

    def complete_events(self, event_id=None):
        """Process pending events now (all, or the one given); returns the processed event ids."""
        with self.lock:
            selected = self._pending_selection(event_id)
            for event in selected:
                self._process(event)
            return [event.event_id for event in selected]

    def wait_events(self, event_id=None, timeout=5.0):
        """Block until the background worker has processed the event (or every pending one); True if it has."""
        deadline = time.monotonic() + float(timeout)
        with self._events_changed:
            while (event_id in self.pending) if event_id is not None else self.pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._events_changed.wait(remaining)
            return True

    def fail_events(self, error_number, event_id=None):
        """Finish pending events as FAILED, every task with ``error_number`` (e.g. 9644 maintenance, 9603)."""
        with self.lock:
            selected = self._pending_selection(event_id)
            for event in selected:
                self._process(event, forced_error=int(error_number))
            return [event.event_id for event in selected]

    def _asset_for_purchase(self, location, adam_id, pricing_param, template=None):
        key = (str(adam_id), pricing_param)
        if key not in location.assets:
            spec = {
                "adamId": key[0],
                "pricingParam": pricing_param,
                "productType": "App",
                "name": "App %s" % key[0],
                "bundleId": "com.example.app%s" % key[0],
                "version": "1.0",
                "platforms": ["iOS"],
                "deviceAssignable": True,
                "revocable": True,
                "unlimited": False,
                "total": 0,
                "retired": 0,
            }
            asset = AssetRecord(spec)
            if template is not None:
                for field in (
                    "product_type",
                    "name",
                    "bundle_id",
                    "version",
                    "platforms",
                    "device_assignable",
                    "revocable",
                ):
                    setattr(asset, field, getattr(template, field))
            location.assets[key] = asset
        return location.assets[key]

    def _change_count(self, location, asset, delta):
        if asset.unlimited:
            raise ValueError("asset %s is unlimited: it has no license count" % asset.adam_id)
        if asset.available + delta < 0:
            raise ValueError("only %d licenses of %s are available" % (asset.available, asset.adam_id))
        asset.total += delta
        location.versions["assets"].bump()
        self._notify(
            location, "ASSET_COUNT", {"adamId": asset.adam_id, "pricingParam": asset.pricing_param, "countDelta": delta}
        )

    def purchase(self, location, adam_id, count, pricing_param="STDQ"):
        """Buy (count > 0) or refund (count < 0) licenses; emits ASSET_COUNT. Returns the asset's counts."""
        with self.lock:
            place = self._location(location)
            asset = self._asset_for_purchase(place, adam_id, pricing_param)
            self._change_count(place, asset, int(count))
            return asset.to_response()

    def transfer(self, from_location, to_location, adam_id, count, pricing_param="STDQ"):
        """Move ``count`` available licenses between locations; ASSET_COUNT on both sides."""
        with self.lock:
            source, target = self._location(from_location), self._location(to_location)
            key = (str(adam_id), pricing_param)
            if key not in source.assets:
                raise ValueError("location %s owns no %s/%s" % (from_location, *key))
            source_asset = source.assets[key]
            self._change_count(source, source_asset, -int(count))
            self._change_count(
                target, self._asset_for_purchase(target, adam_id, pricing_param, source_asset), int(count)
            )
            return {"from": source_asset.to_response(), "to": target.assets[key].to_response()}

    def accept_invitation(self, location, client_user_id):
        """The person accepted the invitation: Registered -> Associated + idHash; emits USER_ASSOCIATED."""
        with self.lock:
            place = self._location(location)
            user = place.active_user(client_user_id)
            if user is None or user.status != "Registered":
                raise ValueError("no Registered user %r in %s" % (client_user_id, location))
            invite_code = user.invite_code
            place.set_user_status(user, "Associated")
            place.touch_user(user, place.versions["users"].bump())
            self._notify(
                place, "USER_ASSOCIATED", {"associatedUsers": [dict(user.to_response(), inviteCode=invite_code)]}
            )
            return user.to_response()

    def accept_invite_code(self, invite_code):
        """Accept by invite code (the simulator's ``invitationEmail`` page); returns True when a user matched."""
        with self.lock:
            for key, place in self.locations.items():
                for user in place.active_users.values():
                    if user.status == "Registered" and user.invite_code == invite_code:
                        self.accept_invitation(key, user.client_user_id)
                        return True
            return False

    def set_user_device_limit(self, location, client_user_id, reached=True):
        """The user has reached Apple's device limit: an associate naming them answers 400 / 9622 (or no longer)."""
        with self.lock:
            self._location(location)
            pair = (location, str(client_user_id))
            if reached:
                self.device_limited.add(pair)
            else:
                self.device_limited.discard(pair)

    def set_mdm_info(self, location, mdm_info):
        """Another manager writes its identity into the location (last writer wins)."""
        with self.lock:
            self._location(location).mdm_info = dict(mdm_info) if mdm_info else None

    def _current_token(self, location):
        self._location(location)
        return self.token_records[self.tokens[location]]

    def expire_token(self, location):
        with self.lock:
            self._current_token(location).expires = utcnow() - datetime.timedelta(seconds=1)

    def revoke_token(self, location):
        with self.lock:
            self._current_token(location).revoked = True

    def issue_token(self, location, current=False):
        """A further valid token for the location (duplicate upload); returns the sToken."""
        with self.lock:
            place = self._location(location)
            expires = token_expiry(place.spec, utcnow())
            record = TokenRecord(make_stoken(place.org, expires), location, expires)
            self._register_token(record, current=current)
            return record.value

    def renew_token(self, location):
        """A new current token (file rewritten); the previous one is revoked. Returns the new sToken."""
        with self.lock:
            self._current_token(location).revoked = True
            return self.issue_token(location, current=True)

    def inject_fault(
        self,
        kind,
        count=1,
        path=None,
        status=None,
        retry_after=None,
        error_number=None,
        hang_seconds=None,
        drop_keys=None,
        body=None,
        body_contains=None,
    ):
        """Queue ``count`` faults of ``kind`` (one of ``FAULT_KINDS``) for matching requests (``body_contains``: only
        requests whose raw body holds that text)."""
        if kind not in FAULT_KINDS:
            raise ValueError("fault kind is one of %s" % ", ".join(FAULT_KINDS))
        if kind == "malformed" and (drop_keys is None) == (body is None):
            raise ValueError("a malformed fault takes drop_keys (a list of keys) or body (the answer to send)")
        if path and path.startswith("/mdm/v2"):
            path = path[len("/mdm/v2") :]
        with self.lock:
            self.faults.append(
                {
                    "kind": kind,
                    "count": int(count),
                    "path": path or "",
                    "status": status,
                    "retry_after": retry_after,
                    "error_number": error_number,
                    "hang_seconds": hang_seconds,
                    "drop_keys": list(drop_keys) if drop_keys is not None else None,
                    "body": body,
                    "body_contains": body_contains,
                }
            )

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def take_fault(self, path, raw_body=b""):
        with self.lock:
            for fault in self.faults:
                wanted = fault["body_contains"]
                if path.startswith(fault["path"]) and (wanted is None or wanted.encode() in (raw_body or b"")):
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                    return fault
            return None

    def record_request(self, entry):
        with self.lock:
            self.log.append(entry)
            self.counts[(entry["location"], entry["method"], entry["path"])] += 1

    def request_log(self, location=None):
        with self.lock:
            return [dict(entry) for entry in self.log if location is None or entry["location"] == location]

    def request_counts(self, location=None):
        """``{(method, path): n}`` over all requests, or only those of one location."""
        totals = collections.Counter()
        with self.lock:
            for (entry_location, method, path), count in self.counts.items():
                if location is None or entry_location == location:
                    totals[(method, path)] += count
        return dict(totals)

    def clear_request_log(self):
        with self.lock:
            self.log = []
            self.counts = collections.Counter()

    def location_state(self, location):
        """A plain-dict snapshot of one location, including its events."""
        with self.lock:
            place = self._location(location)
            state = place.snapshot()
            state["events"] = [event.summary() for event in self.events.values() if event.location_key == location]
            return state

    def notifications(self, location=None):
        with self.lock:
            return [dict(item) for item in self.notifier.deliveries if location is None or item["location"] == location]

    def wait_notifications(self, timeout=5.0):
        return self.notifier.wait_idle(float(timeout))

    def reset(self):
        """Back to the scenario's initial state: data, tokens, settings and limits; logs and queues emptied."""
        with self._events_changed:
            self.settings.clear()
            self.settings.update(self.scenario["settings"])
            self.limits = dict(self.scenario["limits"])
            self._build_state()
            self._issue_initial_tokens()
            self.notifier.clear()
            self._events_changed.notify_all()


SETTING_CHOICES = {
    "token_expiration": ("window", "config", "always"),
    "invalid_token_error": (9601, 9622),
    "token_error_status": (200, 401),
    "unknown_user_error": ("sync", "async"),
    "mixed_targets": ("refuse", "accept"),
}


def validate_settings(settings):
    """Raise ValueError for a setting outside its documented choices."""
    for name, choices in SETTING_CHOICES.items():
        if name in settings and settings[name] not in choices:
            raise ValueError("%s is one of %s" % (name, ", ".join(repr(choice) for choice in choices)))


FAULT_KINDS = ("429", "500", "503", "error200", "drop", "timeout", "trickle", "lost_answer", "malformed")


def _asset_matches(asset, filters):
    if filters["unlimited"] is False and asset.unlimited:
        return False
    checks = (
        (filters["adamId"], asset.adam_id),
        (filters["productType"], asset.product_type),
        (filters["pricingParam"], asset.pricing_param),
        (filters["revocable"], asset.revocable),
        (filters["deviceAssignable"], asset.device_assignable),
    )
    if any(wanted is not None and wanted != actual for wanted, actual in checks):
        return False
    bounds = (
        (filters["minAvailableCount"], filters["maxAvailableCount"], asset.available),
        (filters["minAssignedCount"], filters["maxAssignedCount"], asset.assigned),
    )
    return all((low is None or value >= low) and (high is None or value <= high) for low, high, value in bounds)


def _assignment_items(location, filters, since_seq):
    """The (asset key, target) list for a query, using the narrowest index available."""
    store = location.assignments
    user_id, serial = filters["clientUserId"], filters["serialNumber"]
    if since_seq is not None:
        candidates = [item for item in store.changes.changed_after(since_seq) if store.has(*item)]
    elif user_id is not None or serial is not None:
        target = (USER_TARGET, user_id) if user_id is not None else (SERIAL_TARGET, serial)
        candidates = [(asset_key, target) for asset_key in store.assets_of(target)]
    else:
        keys = [key for key in store.by_asset if filters["adamId"] in (None, key[0])]
        candidates = [(key, target) for key in keys for target in store.by_asset[key]]
    predicates = _assignment_predicates(location, filters)
    if not predicates:
        return candidates
    return [item for item in candidates if all(predicate(*item) for predicate in predicates)]


def _assignment_predicates(location, filters):
    predicates = []
    if filters["adamId"] is not None:
        predicates.append(lambda key, target: key[0] == filters["adamId"])
    if filters["pricingParam"] is not None:
        predicates.append(lambda key, target: key[1] == filters["pricingParam"])
    if filters["clientUserId"] is not None:
        predicates.append(lambda key, target: target == (USER_TARGET, filters["clientUserId"]))
    if filters["serialNumber"] is not None:
        predicates.append(lambda key, target: target == (SERIAL_TARGET, filters["serialNumber"]))
    if filters["excludeInactiveUsers"]:
        predicates.append(lambda key, target: target[0] != USER_TARGET or location.active_user(target[1]) is not None)
    return predicates


def _assignment_row(location, asset_key, target, include_state):
    row = assignment_body(asset_key, target)
    if include_state and target[0] == USER_TARGET:
        user = location.latest_user(target[1])
        if user is not None:
            row["userStatus"] = user.status
            if user.id_hash:
                row["idHash"] = user.id_hash
    return row


def _user_items(location, filters, since_seq):
    if since_seq is not None:
        record_ids = location.user_changes.changed_after(since_seq)
    elif filters["clientUserId"] is not None:
        record_ids = list(location.user_records.get(filters["clientUserId"], ()))
    else:
        record_ids = list(location.users)
    users = location.users
    return [
        record_id
        for record_id in record_ids
        if filters["clientUserId"] in (None, users[record_id].client_user_id)
        and not (filters["activeOnly"] and not users[record_id].active)
        and not (filters["retiredOnly"] and users[record_id].active)
    ]
