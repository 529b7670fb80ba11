# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a deployment records around each write request to Apple, and how a rerun closes the crash window.

Before a batch is sent its intent is stored (``Store.record_intent``); when Apple accepts it, the intent gives way to
the event and its members' pending state in one transaction. A run killed while Apple's answer was on its way
leaves the intent: the next run reads the app's assignments at Apple once, takes the intent's targets that hold
a license (associate) or no longer do (disassociate) into the store, and only then plans, so it neither reports a
false shortage nor fails members while licenses are free, and assigns nothing twice.
"""

from __future__ import annotations

import time

from ansible_collections.mdm.vpp.plugins.module_utils.submission import UNKNOWN_USER, USER_DEVICE_LIMIT, Hooks
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import (
    DEVICE,
    EVENT_TYPE_ASSOCIATE,
    EVENT_TYPE_DISASSOCIATE,
    USER,
    target_key,
)


def event_request(record):
    """What the store keeps of a batch: enough to map Apple's outcome back to members on resume."""
    return {
        "assets": record.get("assets") or [],
        "client_user_ids": list(record.get("client_user_ids") or [])
        or [user["clientUserId"] for user in record.get("users") or ()],
        "serial_numbers": list(record.get("serial_numbers") or []),
    }


def batch_targets(batch):
    """The ``(license kind, target id)`` pairs a batch or a stored request names."""
    targets = [target_key(USER, user_id) for user_id in batch.get("client_user_ids") or ()]
    targets += [target_key(DEVICE, serial) for serial in batch.get("serial_numbers") or ()]
    return targets


def _batch_key(batch):
    return tuple(batch_targets(event_request(batch)))


def holder_changes(intents, apple_holders):
    """``(gained, lost)``: targets of unanswered intents that Apple shows holding (associate) or not (disassociate)."""
    gained, lost = set(), set()
    for intent in intents:
        targets = batch_targets(intent.get("request") or {})
        if intent["event_type"] == EVENT_TYPE_ASSOCIATE:
            gained.update(target for target in targets if target in apple_holders)
        elif intent["event_type"] == EVENT_TYPE_DISASSOCIATE:
            lost.update(target for target in targets if target not in apple_holders)
    return gained, lost


class DeploymentHooks(Hooks):
    """``submission.Hooks`` of one deployment run: intents, events, pending members and refused members."""

    def __init__(self, run, event_type, by_target):
        self.run = run
        self.event_type = event_type
        # (kind, target id) -> [member ids]; None when each target is its member (a serial, a user of a user
        # collection): no map of every member is held then
        self.by_target = by_target
        self.token = run.identity["token"]
        self._intents = {}

    def members_of(self, batch):
        """The member ids a batch serves."""
        if self.by_target is None:
            return [target_id for _kind, target_id in batch_targets(batch)]
        return [member_id for target in batch_targets(batch) for member_id in self.by_target.get(target, ())]

    def before(self, batch):
        self._intents[_batch_key(batch)] = self.run.store.record_intent(
            self.token, self.event_type, deployment=self.run.name, request=event_request(batch)
        )

    def abandoned(self, batch):
        intent_id = self._intents.pop(_batch_key(batch), None)
        if intent_id is not None:
            self.run.store.drop_intent(self.token, intent_id)

    def accepted(self, record):
        record["accepted_at"] = time.monotonic()  # its first status read waits FIRST_POLL from here, not from the last
        store = self.run.store
        member_ids = self.members_of(record)
        intent_id = self._intents.pop(_batch_key(record), None)
        with store.transaction():
            if intent_id is not None:
                store.drop_intent(self.token, intent_id)
            store.record_event(
                self.token, record["event_id"], self.event_type, deployment=self.run.name, request=event_request(record)
            )
            store.mark_pending(self.run.name, record["event_id"], member_ids)  # by primary key: the rows exist
        self.run.outcome["pending_event_ids"].append(record["event_id"])

    def refused(self, batch, error):
        member_ids = self.members_of(batch)
        self.run.fail_members(member_ids, error.error_number, refusal_message(error))
        for user_id in batch.get("client_user_ids") or ():
            self.run.refused_users[user_id] = error.error_number


def refusal_message(error):
    """A member's failure text for Apple's synchronous refusal of its user."""
    if error.error_number == UNKNOWN_USER:
        return "Apple does not know this user (unknown or retired at the location): %s" % error.msg
    if error.error_number == USER_DEVICE_LIMIT:
        return "the user has reached the maximum number of devices for this license: %s" % error.msg
    return error.msg
