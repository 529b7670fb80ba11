# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Asynchronous events (reference §4.9, §16.5): the work done when an event is processed, and its outcome."""

from __future__ import annotations

from .catalogue import error_body
from .model import USER_TARGET, assignment_body


class Event:
    __slots__ = (
        "event_id",
        "location_key",
        "event_type",
        "status",
        "num_requested",
        "num_completed",
        "failures",
        "request",
        "due",
    )

    def __init__(self, event_id, location_key, event_type, request, num_requested, due):
        self.event_id = event_id
        self.location_key = location_key
        self.event_type = event_type
        self.request = request
        self.num_requested = num_requested
        self.num_completed = 0
        self.status = "PENDING"
        self.failures = []
        self.due = due

    def to_status(self):
        body = {
            "eventStatus": self.status,
            "eventType": self.event_type,
            "numCompleted": self.num_completed,
            "numRequested": self.num_requested,
        }
        if self.failures:
            body["failures"] = self.failures
        return body

    def summary(self):
        return dict(self.to_status(), eventId=self.event_id)


class Outcome:
    """Successes and failures of one event, failures grouped by error number (one ErrorResponse per class)."""

    def __init__(self):
        self.successes = []  # assignment or user bodies, for the notification
        self.failed = {}  # errorNumber -> list of (asset key or None, target or None, element body)

    def succeed(self, element):
        self.successes.append(element)

    def fail(self, error_number, element, asset_key=None, target=None):
        self.failed.setdefault(error_number, []).append((asset_key, target, element))

    @property
    def failed_count(self):
        return sum(len(items) for items in self.failed.values())

    def failures(self):
        return [error_body(number, _error_info(items)) for number, items in self.failed.items()]

    def failure_groups(self):
        """(error body without errorInfo, elements) per error class, for FAILURE notifications."""
        return [
            (error_body(number), [element for _asset, _target, element in items])
            for number, items in self.failed.items()
        ]


def _error_info(items):
    assets, users, serials = {}, {}, {}
    for asset_key, target, _element in items:
        if asset_key is not None:
            assets[asset_key] = True
        if target is not None:
            (users if target[0] == USER_TARGET else serials)[target[1]] = True
    info = {}
    if assets:
        info["assets"] = [{"adamId": adam_id, "pricingParam": pricing} for adam_id, pricing in assets]
    if users:
        info["clientUserIds"] = list(users)
    if serials:
        info["serialNumbers"] = list(serials)
    return info


def _bumper(location, dataset):
    """Returns a function giving the dataset's new version seq, bumped once on the first write of an event."""
    state = {}

    def seq():
        if "seq" not in state:
            state["seq"] = location.versions[dataset].bump()
        return state["seq"]

    return seq


def associate(location, request):
    outcome, assign_seq, asset_seq = Outcome(), _bumper(location, "assignments"), _bumper(location, "assets")
    store = location.assignments
    for asset_key in request["assets"]:
        asset = location.assets.get(asset_key)
        for target in request["targets"]:
            element = assignment_body(asset_key, target)
            if target[0] == USER_TARGET and location.active_user(target[1]) is None:
                outcome.fail(9609, element, asset_key, target)
            elif asset is not None and store.has(asset_key, target):
                outcome.succeed(element)  # already assigned: idempotent success (reference §6.2 [assume])
            elif asset is not None and (asset.unlimited or asset.available > 0):
                store.add(asset_key, target, assign_seq())
                asset.assigned += 1
                asset_seq()
                outcome.succeed(element)
            else:
                outcome.fail(9709, element, asset_key, target)  # unknown assets own no licenses either
    return outcome


def disassociate(location, request):
    outcome, assign_seq, asset_seq = Outcome(), _bumper(location, "assignments"), _bumper(location, "assets")
    for asset_key in request["assets"]:
        for target in request["targets"]:
            element = assignment_body(asset_key, target)
            if target[0] == USER_TARGET and target[1] not in location.user_records:
                outcome.fail(9609, element, asset_key, target)
                continue
            if location.assignments.has(asset_key, target):
                location.assignments.remove(asset_key, target, assign_seq())
                location.assets[asset_key].assigned -= 1
                asset_seq()
            outcome.succeed(element)  # removing an absent pair is a no-op success (reference §6.3 [assume])
    return outcome


def revokable_pairs(location, targets):
    return [
        (asset_key, target)
        for target in targets
        for asset_key in location.assignments.assets_of(target)
        if location.assets[asset_key].revocable
    ]


def revoke(location, request):
    outcome, assign_seq, asset_seq = Outcome(), _bumper(location, "assignments"), _bumper(location, "assets")
    for target in request["targets"]:
        if target[0] == USER_TARGET and target[1] not in location.user_records:
            outcome.fail(9609, {"clientUserId": target[1]}, None, target)
    for asset_key, target in revokable_pairs(location, request["targets"]):
        location.assignments.remove(asset_key, target, assign_seq())
        location.assets[asset_key].assigned -= 1
        asset_seq()
        outcome.succeed(assignment_body(asset_key, target))
    return outcome


def create_users(location, request):
    outcome, user_seq = Outcome(), _bumper(location, "users")
    for spec in request["users"]:
        target = (USER_TARGET, spec["clientUserId"])
        error = _managed_id_error(location, spec.get("managedAppleId"))
        if location.active_user(spec["clientUserId"]) is not None:
            error = 9716
        if error:
            outcome.fail(error, _request_user(spec), None, target)
            continue
        user = location.new_user(spec["clientUserId"], spec.get("email"), spec.get("managedAppleId"))
        location.set_user_status(user, "Associated" if spec.get("managedAppleId") else "Registered")
        location.touch_user(user, user_seq())
        outcome.succeed(user.to_response())
    return outcome


def update_users(location, request):
    outcome, user_seq = Outcome(), _bumper(location, "users")
    for spec in request["users"]:
        target = (USER_TARGET, spec["clientUserId"])
        user = location.active_user(spec["clientUserId"])
        error = 9609 if user is None else _managed_id_error(location, spec.get("managedAppleId"), user)
        if error:
            outcome.fail(error, _request_user(spec), None, target)
            continue
        if spec.get("email"):
            user.email = spec["email"]
        if spec.get("managedAppleId"):
            user.managed_apple_id = spec["managedAppleId"]
            location.set_user_status(user, "Associated")
        location.touch_user(user, user_seq())
        outcome.succeed(user.to_response())
    return outcome


def retire_users(location, request):
    outcome, user_seq = Outcome(), _bumper(location, "users")
    assign_seq, asset_seq = _bumper(location, "assignments"), _bumper(location, "assets")
    for spec in request["users"]:
        target = (USER_TARGET, spec["clientUserId"])
        user = location.active_user(spec["clientUserId"])
        if user is None:
            outcome.fail(9609, _request_user(spec), None, target)
            continue
        location.set_user_status(user, "Retired")
        location.touch_user(user, user_seq())
        for asset_key, pair_target in revokable_pairs(location, [target]):  # retiring frees revocable licenses
            location.assignments.remove(asset_key, pair_target, assign_seq())
            location.assets[asset_key].assigned -= 1
            asset_seq()
        outcome.succeed(user.to_response())
    return outcome


def _managed_id_error(location, managed_apple_id, user=None):
    if not managed_apple_id:
        return None
    if not location.in_managed_domain(managed_apple_id):
        return 9635
    holders = [
        other
        for other in location.active_users.values()
        if other.managed_apple_id == managed_apple_id and other is not user
    ]
    return 9641 if holders else None


def _request_user(spec):
    return {key: value for key, value in spec.items() if value}


PROCESSORS = {
    "ASSOCIATE": associate,
    "DISASSOCIATE": disassociate,
    "REVOKE": revoke,
    "CREATE": create_users,
    "UPDATE": update_users,
    "RETIRE": retire_users,
}


def request_elements(location, event):
    """Every (element, asset key, target) an event covers, for a forced failure (``fail_events``)."""
    request = event.request
    if event.event_type in ("ASSOCIATE", "DISASSOCIATE"):
        return [
            (assignment_body(asset_key, target), asset_key, target)
            for asset_key in request["assets"]
            for target in request["targets"]
        ]
    if event.event_type == "REVOKE":
        return [
            (assignment_body(asset_key, target), asset_key, target)
            for asset_key, target in revokable_pairs(location, request["targets"])
        ]
    return [(_request_user(spec), None, (USER_TARGET, spec["clientUserId"])) for spec in request["users"]]
