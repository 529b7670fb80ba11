# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carrying out a deployment's plan: the deployment and member rows, users registered, license calls submitted.

Every batch goes through ``submission.submit_batches`` with ``intents.DeploymentHooks``: its intent is stored before
it is sent, its event with its members' pending state once Apple accepts it. ``DeploymentWrites`` is a part of
``deployment_run.DeploymentRun`` and uses its state (``store``, ``client``, ``identity``, ``params``...).
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.deployment_views import iter_member_changes
from ansible_collections.mdm.vpp.plugins.module_utils.errors import AppleError, InvalidVersionError
from ansible_collections.mdm.vpp.plugins.module_utils.intents import (
    DeploymentHooks,
)
from ansible_collections.mdm.vpp.plugins.module_utils.licensing import creation_succeeded
from ansible_collections.mdm.vpp.plugins.module_utils.spelling import normalize_asset
from ansible_collections.mdm.vpp.plugins.module_utils.submission import UNKNOWN_USER
from ansible_collections.mdm.vpp.plugins.module_utils.sync_decisions import user_row
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import (
    ACTIVE_USER_STATUSES,
    DEVICE,
    EVENT_TYPE_ASSOCIATE,
    EVENT_TYPE_CREATE,
    EVENT_TYPE_DISASSOCIATE,
    USER,
    target_key,
)


class DeploymentWrites:
    """The writing part of a deployment run: store rows first, then Apple's calls, each intent stored before its call
    (up to ``writes.WRITES_IN_FLIGHT`` calls in flight) and each answer recorded in order."""

    def carry_out(self, plan, stored, license_type):
        """The plan's writes: deployment and decided member states, users, then the license calls."""
        store = self.store
        with store.transaction():
            self._save_deployment(license_type)
            written = store.upsert_members(self.name, iter_member_changes(plan, stored, self.members))  # in chunks
            forgotten = [entry["member_id"] for entry in plan["forgotten"]]
            if forgotten:
                store.delete_members(self.name, forgotten)
        self.changed = self.changed or bool(written or forgotten)
        for entry in plan["failed"]:
            self.note_failure(entry["member_id"], entry["error_number"], entry["error_message"])
        to_license = plan["to_license"]
        if plan["to_register"]:
            refused = self.register_users(plan["to_register"])
            if refused:
                to_license = [entry for entry in to_license if entry["target_id"] not in refused]
                self.fail_refused(plan["to_license"], refused)
        batches = self.submit(EVENT_TYPE_ASSOCIATE, to_license)
        batches += self.relicense_unknown_users(to_license)
        batches += self.submit(EVENT_TYPE_DISASSOCIATE, self.reclaimable(plan["to_reclaim"]))
        if batches and self.params["wait"]:
            self.wait(batches, self.params["wait_timeout"])
        self.install_licensed()

    def relicense_unknown_users(self, to_license):
        """Users Apple refused as unknown (9609: never registered there, or retired since the last sync) are
        members the collection still needs: register them once more, then associate them (once per run)."""
        unknown = [user_id for user_id, error_number in self.refused_users.items() if error_number == UNKNOWN_USER]
        if not unknown:
            return []
        self.refused_users = {}
        refused = self.register_users([{"client_user_id": user_id} for user_id in unknown])
        entries = [
            entry
            for entry in to_license
            if entry["license_type"] == USER and entry["target_id"] in set(unknown) - set(refused)
        ]
        self.fail_refused([entry for entry in to_license if entry["target_id"] in set(unknown)], refused)
        return self.submit(EVENT_TYPE_ASSOCIATE, entries)

    def _save_deployment(self, license_type):
        identity, store = self.identity, self.store
        if self.application is None:
            self.application = store.upsert_application(
                self.application_name,
                token=identity["token"],
                adam_id=identity["adam_id"],
                pricing_param=identity["pricing_param"],
            )
            self.application_created = self.changed = True
        wanted = {
            "collection_name": self.collection["name"],
            "collection_type": self.collection["type"],
            "action": self.params["action"],
            "purpose": self.params["purpose"],
            "license_type": license_type,
        }
        current = self.existing or {}
        fields = {field: value for field, value in wanted.items() if current.get(field) != value}
        if fields:
            application = self.application_name if self.existing is None else None
            store.upsert_deployment(self.name, application=application, **fields)
            self.changed = True

    def fail_refused(self, entries, refused):
        """Fail the entries whose target Apple refused (``refused``: target id -> (error number, message))."""
        by_error = {}
        for entry in entries:
            if entry["target_id"] in refused:
                by_error.setdefault(refused[entry["target_id"]], []).append(entry["member_id"])
        for (error_number, error_message), member_ids in by_error.items():
            self.fail_members(member_ids, error_number, error_message)

    def note_failure(self, member_id, error_number, error_message):
        """Report a member failed in this run (a later success in the same run takes it back)."""
        self.failed[member_id] = {"member_id": member_id, "error_number": error_number, "error_message": error_message}

    def fail_members(self, member_ids, error_number, error_message):
        """Members Apple refused: failed in the store and in the result."""
        rows = [
            {"member_id": member_id, "state": "failed", "error_number": error_number, "error_message": error_message}
            for member_id in member_ids
        ]
        if rows:
            self.store.upsert_members(self.name, rows)
        for member_id in member_ids:
            self.note_failure(member_id, error_number, error_message)

    def register_users(self, users):
        """Register unknown users at Apple and wait (a license needs the user); 9716 "already exists" is fine.

        Returns ``{client_user_id: (error_number, error_message)}`` of the users Apple refused.
        """
        batches = self.client.create_users(users, on_submit=DeploymentHooks(self, EVENT_TYPE_CREATE, {}).accepted)
        self.changed = True
        results = self.wait(batches, self.params["wait_timeout"])
        refused = {}
        for result in results.values():
            for outcome in result["outcomes"]:
                if not creation_succeeded(outcome):
                    refused[outcome["client_user_id"]] = (outcome["error_number"], outcome["error_message"])
        created = [user["client_user_id"] for user in users if user["client_user_id"] not in refused]
        self.refresh_users(created)
        self.outcome["registered_users"].add(created)
        return refused

    def refresh_users(self, user_ids):
        """Read the given users back from Apple (status, invite code) and record them in the store."""
        if not user_ids:
            return
        token_row = self.store.get_token(self.identity["token"])
        wanted = set(user_ids)
        try:
            records = self._users_matching(token_row.get("users_version"), wanted)
        except InvalidVersionError:
            records = self._users_matching(None, wanted)
        for user_id, record in records.items():
            fields = {key: value for key, value in user_row(record).items() if key != "client_user_id"}
            self.users[user_id] = self.store.record_user(self.identity["token"], user_id, **fields)

    def _users_matching(self, since_version_id, wanted):
        """Apple's current record of each wanted user (the active one wins over retired ones)."""
        found = {}
        for record in self.client.users(since_version_id=since_version_id):
            user_id = record.get("clientUserId")
            if user_id in wanted and (user_id not in found or record.get("status") in ACTIVE_USER_STATUSES):
                found[user_id] = record
        return found

    def submit(self, event_type, entries):
        """Associate or disassociate the entries' targets in batches, several in flight; each intent is stored before
        its call, each event when its answer is handled (in the batches' order)."""
        if not entries:
            return []
        if all(entry["target_id"] == entry["member_id"] for entry in entries):
            by_target = None  # each target is its member (a serial, a user of a user collection): no map needed
            users = [entry["target_id"] for entry in entries if entry["license_type"] == USER]
            serials = [entry["target_id"] for entry in entries if entry["license_type"] == DEVICE]
        else:
            by_target = {}
            for entry in entries:
                target = target_key(entry["license_type"], entry["target_id"])
                by_target.setdefault(target, []).append(entry["member_id"])
            users = [target_id for kind, target_id in by_target if kind == USER]
            serials = [target_id for kind, target_id in by_target if kind == DEVICE]
        assets = [normalize_asset((self.identity["adam_id"], self.identity["pricing_param"]))]
        send = self.client.associate if event_type == EVENT_TYPE_ASSOCIATE else self.client.disassociate
        self.changed = True
        try:
            return send(assets, users, serials, hooks=DeploymentHooks(self, event_type, by_target))
        except AppleError as err:
            err.msg = "deployment %r: %s" % (self.name, err.msg)
            err.args = (err.msg,)
            raise
