# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""In-memory data of one location: assets with license counts, assignments, users, dataset versions.

Built to hold a million assignments: records use ``__slots__``, targets are shared tuples
(``("u", clientUserId)`` or ``("s", serialNumber)``) and every change is appended to a change log so that
``sinceVersionId`` deltas never scan the whole dataset.
"""

from __future__ import annotations

import base64
import bisect
import datetime
import random
import uuid

from .catalogue import UNLIMITED_SENTINEL
from .scenario import ScenarioError

USER_TARGET = "u"
SERIAL_TARGET = "s"


def new_uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def new_invite_code(rng):
    return "%032x" % rng.getrandbits(128)


def new_id_hash(rng):
    return base64.b64encode(rng.getrandbits(160).to_bytes(20, "big")).decode("ascii")


class AssetRecord:
    __slots__ = (
        "adam_id",
        "pricing_param",
        "product_type",
        "name",
        "bundle_id",
        "version",
        "platforms",
        "device_assignable",
        "revocable",
        "unlimited",
        "total",
        "retired",
        "assigned",
    )

    def __init__(self, spec):
        self.adam_id = spec["adamId"]
        self.pricing_param = spec["pricingParam"]
        self.product_type = spec["productType"]
        self.name = spec["name"]
        self.bundle_id = spec["bundleId"]
        self.version = spec["version"]
        self.platforms = spec["platforms"]
        self.device_assignable = spec["deviceAssignable"]
        self.revocable = spec["revocable"]
        self.unlimited = spec["unlimited"]
        self.total = spec["total"]
        self.retired = spec["retired"]
        self.assigned = 0

    @property
    def key(self):
        return (self.adam_id, self.pricing_param)

    @property
    def total_count(self):
        return UNLIMITED_SENTINEL if self.unlimited else self.total

    @property
    def available(self):
        return self.total_count - self.assigned - self.retired

    def to_response(self):
        """A ``ResponseAsset`` (unlimited assets carry the int32 sentinel as ``totalCount``)."""
        return {
            "adamId": self.adam_id,
            "pricingParam": self.pricing_param,
            "productType": self.product_type,
            "assignedCount": self.assigned,
            "availableCount": self.available,
            "retiredCount": self.retired,
            "totalCount": self.total_count,
            "deviceAssignable": self.device_assignable,
            "revocable": self.revocable,
            "supportedPlatforms": list(self.platforms),
        }

    def to_unlimited_response(self):
        """An ``UnlimitedResponseAsset``: no available/total/retired counts."""
        return {
            "adamId": self.adam_id,
            "assignedCount": self.assigned,
            "deviceAssignable": self.device_assignable,
            "pricingParam": self.pricing_param,
            "productType": self.product_type,
            "revocable": self.revocable,
            "supportedPlatforms": list(self.platforms),
        }


class UserRecord:
    __slots__ = ("record_id", "client_user_id", "email", "managed_apple_id", "status", "invite_code", "id_hash")

    def __init__(self, record_id, client_user_id, email=None, managed_apple_id=None):
        self.record_id = record_id
        self.client_user_id = client_user_id
        self.email = email
        self.managed_apple_id = managed_apple_id
        self.status = "Registered"
        self.invite_code = None
        self.id_hash = None

    @property
    def active(self):
        return self.status in ("Registered", "Associated")

    def to_response(self):
        """A ``ResponseUser``: ``inviteCode`` only while Registered, ``idHash`` once associated."""
        body = {"clientUserId": self.client_user_id, "status": self.status}
        if self.email:
            body["email"] = self.email
        if self.invite_code and self.status == "Registered":
            body["inviteCode"] = self.invite_code
        if self.id_hash:
            body["idHash"] = self.id_hash
        return body


class VersionTrack:
    """Per-dataset version: an integer sequence for ordering plus an opaque UUID per value for clients."""

    def __init__(self, rng):
        self._rng = rng
        self.seq = 0
        self.current_id = new_uuid(rng)
        self._seq_by_id = {self.current_id: 0}

    def bump(self):
        self.seq += 1
        self.current_id = new_uuid(self._rng)
        self._seq_by_id[self.current_id] = self.seq
        return self.seq

    def seq_of(self, version_id):
        return self._seq_by_id.get(version_id)


class ChangeLog:
    """Append-only (seq, item) log answering "which items changed after seq" by bisection."""

    def __init__(self):
        self._seqs = []
        self._items = []

    def record(self, seq, item):
        self._seqs.append(seq)
        self._items.append(item)

    def changed_after(self, seq):
        start = bisect.bisect_right(self._seqs, seq)
        return list(dict.fromkeys(self._items[start:]))  # unique, in order of first change


class AssignmentStore:
    """Assignments indexed both ways: asset key -> targets and target -> asset keys (insertion ordered)."""

    def __init__(self):
        self.by_asset = {}
        self.by_target = {}
        self.changes = ChangeLog()
        self.count = 0

    def has(self, asset_key, target):
        return target in self.by_asset.get(asset_key, ())

    def add(self, asset_key, target, seq=None):
        targets = self.by_asset.setdefault(asset_key, {})
        if target in targets:
            return False
        targets[target] = True
        self.by_target.setdefault(target, {})[asset_key] = True
        self.count += 1
        if seq is not None:
            self.changes.record(seq, (asset_key, target))
        return True

    def remove(self, asset_key, target, seq=None):
        targets = self.by_asset.get(asset_key)
        if not targets or target not in targets:
            return False
        del targets[target]
        assets = self.by_target[target]
        del assets[asset_key]
        if not assets:
            del self.by_target[target]
        self.count -= 1
        if seq is not None:
            self.changes.record(seq, (asset_key, target))
        return True

    def assets_of(self, target):
        return list(self.by_target.get(target, ()))


def assignment_body(asset_key, target):
    body = {"adamId": asset_key[0], "pricingParam": asset_key[1]}
    body["clientUserId" if target[0] == USER_TARGET else "serialNumber"] = target[1]
    return body


class Location:
    """One organisational unit: identity, client config, assets, assignments, users and their versions."""

    def __init__(self, spec, rng):
        self.spec = spec
        self.key = spec["key"]
        self.name = spec["name"]
        self.org = spec["org"]
        self.uid = spec["uId"]
        self.kind = spec["type"]
        self.country = spec["country"]
        self.managed_domain = spec["managed_domain"]
        self.read_only = spec["read_only"]
        self.rng = rng
        self.mdm_info = None
        self.notification_url = None
        self.notification_auth_token = None
        self.notification_types = []
        self.assets = {}
        self.assignments = AssignmentStore()
        self.users = {}
        self.active_users = {}
        self.user_records = {}
        self.user_changes = ChangeLog()
        self._next_user_record = 1
        self.versions = {name: VersionTrack(rng) for name in ("assets", "assignments", "users")}

    # --- users ---------------------------------------------------------------------------------------------

    def new_user(self, client_user_id, email=None, managed_apple_id=None):
        user = UserRecord(self._next_user_record, client_user_id, email, managed_apple_id)
        self._next_user_record += 1
        self.users[user.record_id] = user
        self.active_users[client_user_id] = user
        self.user_records.setdefault(client_user_id, []).append(user.record_id)
        return user

    def active_user(self, client_user_id):
        return self.active_users.get(client_user_id)

    def latest_user(self, client_user_id):
        """The active record, else the most recent retired one (for ``includeUserState``)."""
        user = self.active_users.get(client_user_id)
        if user is None and client_user_id in self.user_records:
            user = self.users[self.user_records[client_user_id][-1]]
        return user

    def set_user_status(self, user, status):
        user.status = status
        if status == "Registered" and not user.invite_code:
            user.invite_code = new_invite_code(self.rng)
        if status == "Associated" and not user.id_hash:
            user.id_hash = new_id_hash(self.rng)
        if status == "Retired":
            self.active_users.pop(user.client_user_id, None)

    def touch_user(self, user, seq):
        self.user_changes.record(seq, user.record_id)

    def in_managed_domain(self, managed_apple_id):
        return bool(
            self.managed_domain
            and managed_apple_id
            and managed_apple_id.lower().endswith("@" + self.managed_domain.lower())
        )

    # --- snapshot for tests ------------------------------------------------------------------------------------

    def snapshot(self):
        return {
            "key": self.key,
            "name": self.name,
            "uId": self.uid,
            "mdmInfo": dict(self.mdm_info) if self.mdm_info else None,
            "clientConfig": {
                "notificationUrl": self.notification_url,
                "notificationTypes": list(self.notification_types),
            },
            "assets": [dict(asset.to_response(), unlimited=asset.unlimited) for asset in self.assets.values()],
            "assignments": [
                assignment_body(asset_key, target)
                for asset_key, targets in self.assignments.by_asset.items()
                for target in targets
            ],
            "users": [dict(user.to_response(), managedAppleId=user.managed_apple_id) for user in self.users.values()],
            "versions": {name: track.current_id for name, track in self.versions.items()},
        }


def token_expiry(spec, now):
    """The token's expiry from ``expDate`` or ``expires_in_days`` (UTC, whole seconds)."""
    if spec.get("expDate"):
        return parse_apple_date(spec["expDate"])
    return (now + datetime.timedelta(days=spec["expires_in_days"])).replace(microsecond=0)


def parse_apple_date(text):
    return datetime.datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%S%z").astimezone(datetime.UTC)


def format_apple_date(moment):
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def build_location(spec, seed):
    """Create a Location from its normalised spec; generated data is deterministic for (seed, key)."""
    location = Location(spec, random.Random("%s:%s" % (seed, spec["key"])))
    for asset_spec in spec["assets"]:
        _add_asset(location, AssetRecord(asset_spec))
    for user_spec in spec["users"]:
        _add_initial_user(location, user_spec)
    for item in spec["assignments"]:
        target = (
            (USER_TARGET, item["clientUserId"]) if "clientUserId" in item else (SERIAL_TARGET, item["serialNumber"])
        )
        _add_initial_assignment(location, (item["adamId"], item["pricingParam"]), target)
    if spec["generate"]:
        _generate(location, spec["generate"])
    return location


def _add_asset(location, asset):
    if asset.key in location.assets:
        raise ScenarioError("location %s: duplicate asset %s/%s" % (location.key, *asset.key))
    location.assets[asset.key] = asset


def _add_initial_user(location, spec):
    existing = location.active_user(spec["clientUserId"])
    if existing is not None and spec["status"] != "Retired":
        raise ScenarioError("location %s: two active users %s" % (location.key, spec["clientUserId"]))
    user = location.new_user(spec["clientUserId"], spec["email"], spec["managedAppleId"])
    if spec["status"] == "Retired":
        user.status = "Retired"
        location.active_users.pop(user.client_user_id, None)
        if existing is not None:
            location.active_users[existing.client_user_id] = existing
    else:
        location.set_user_status(user, spec["status"])


def _add_initial_assignment(location, asset_key, target):
    asset = location.assets.get(asset_key)
    if asset is None:
        raise ScenarioError("location %s: assignment to unknown asset %s/%s" % (location.key, *asset_key))
    if target[0] == USER_TARGET and target[1] not in location.user_records:
        raise ScenarioError("location %s: assignment to unknown user %s" % (location.key, target[1]))
    if target[0] == SERIAL_TARGET and not asset.device_assignable:
        raise ScenarioError("location %s: asset %s is not device-assignable" % (location.key, asset.adam_id))
    if location.assignments.add(asset_key, target):
        asset.assigned += 1
    if not asset.unlimited and asset.available < 0:
        raise ScenarioError("location %s: asset %s has more assignments than licenses" % (location.key, asset.adam_id))


def _generate(location, spec):
    """Deterministic bulk data: every 10th asset is a book; users take user licenses, the rest go to serials."""
    rng = random.Random(spec["seed"])
    assets = []
    for index in range(spec["assets"]):
        is_book = index % 10 == 9
        adam_id = str(6000000000 + index)
        asset = AssetRecord(
            {
                "adamId": adam_id,
                "pricingParam": "STDQ",
                "productType": "Book" if is_book else "App",
                "name": "%s %d" % ("Book" if is_book else "App", index),
                "bundleId": None if is_book else "org.example.generated.app%d" % index,
                "version": "1.%d" % (index % 10),
                "platforms": ["iOS", "macOS"] if is_book else ["iOS"],
                "deviceAssignable": not is_book,
                "revocable": not is_book,
                "unlimited": False,
                "total": 0,
                "retired": 0,
            }
        )
        _add_asset(location, asset)
        assets.append(asset)
    user_targets = []
    for index in range(spec["users"]):
        user = location.new_user("gu-%07d" % index, "user%07d@example.org" % index)
        location.set_user_status(user, "Associated" if rng.random() < 0.7 else "Registered")
        user_targets.append((USER_TARGET, user.client_user_id))
    _generate_assignments(location, assets, user_targets, spec)
    for asset in assets:
        asset.total = asset.assigned + max(5, asset.assigned // 10)


def _generate_assignments(location, assets, user_targets, spec):
    device_assets = [asset for asset in assets if asset.device_assignable]
    total = spec["assignments"]
    if not assets or not total:
        return
    device_count = int(total * spec["device_share"]) if device_assets else 0
    if not user_targets:
        device_count = total if device_assets else 0
    user_count = total - device_count
    if user_count > len(user_targets) * len(assets):
        raise ScenarioError(
            "location %s: %d user assignments do not fit %d users x %d assets"
            % (location.key, user_count, len(user_targets), len(assets))
        )
    store, users, n_assets = location.assignments, len(user_targets), len(assets)
    for number in range(user_count):
        user_index = number % users
        asset = assets[(number // users + user_index) % n_assets]  # unique (asset, user) pairs, spread evenly
        store.add(asset.key, user_targets[user_index])
        asset.assigned += 1
    for number in range(device_count):
        asset = device_assets[number % len(device_assets)]
        store.add(asset.key, (SERIAL_TARGET, "SIM%09d" % number))
        asset.assigned += 1
