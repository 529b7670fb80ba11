# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sync engine for one token: Apple's license picture -> the store, full or incremental, audited.

Per token, under the store's per-token lock:

1. ``GET /client/config``: is the token still valid, is the location still ours (``mdmInfo``), refreshed facts;
2. every page of ``/assets`` (Apple has no delta for assets);
3. assignments and users: a ``sinceVersionId`` delta (incremental) or every page (full), streamed into the
   store's staging tables so memory stays flat;
4. one transaction makes it all live (assets, assignments, users, facts, versionIds): a crash leaves the previous
   consistent state. An incremental sync whose stored assignments exceed Apple's ``assignedCount`` for an app
   (removals, which Apple's deltas never report, e.g. after a store restore) is rolled back and redone in full;
   so is one whose stored ``versionId`` Apple rejects (9721);
5. metadata (name, bundle id, version, icon, platforms) for apps that have none yet.

Check mode runs the very same steps inside one transaction that is rolled back: the drift is measured by the
store's own diff, and nothing is kept. ``sync.py`` runs a ``TokenSync`` per token; the pure decisions are
``sync_decisions.py``.
"""

from __future__ import annotations

import time

from ansible_collections.mdm.vpp.plugins.module_utils.errors import (
    InvalidVersionError,
    StoreError,
    TakeoverError,
    VPPError,
)
from ansible_collections.mdm.vpp.plugins.module_utils.sync_decisions import (
    CHANGE_KINDS,
    NO_TARGET_WARNING,
    REASON_COUNTS_DISAGREE,
    REASON_VERSION_REJECTED,
    asset_row,
    choose_mode,
    count_changes,
    describe_counts,
    license_picture,
    name_changes,
    new_token_result,
    page_assignment_keys,
    store_changed,
    surplus_assignments,
    user_row,
)
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import utc_now
from ansible_collections.mdm.vpp.plugins.module_utils.token_facts import (
    STORED_STATUS_OK,
    changed_fields,
    expiry_warning,
    plain_refusal,
    refusal_status,
    reported_fields,
    token_facts,
)


class _StoreAheadOfApple(Exception):
    """Internal: after a delta the store holds assignments Apple does not count; redo the token in full."""


class TokenSync:
    """Syncs one token; ``run()`` returns its result and never raises a ``VPPError`` (it is recorded instead)."""

    def __init__(self, store, name, client_factory, options, now=None):
        self.store = store
        self.name = name
        self.client_factory = client_factory
        self.options = options
        self.now = now or utc_now()
        self.client = None
        self.token = None
        self.pictures = None  # diff mode: the store's (assets, assignments, users) before and after the licenses
        self.result = new_token_result(name)

    def run(self):
        started = time.monotonic()
        try:
            if self.options.check_mode:
                # the same steps in one transaction that is rolled back: no token lock row, no write survives
                with self.store.transaction(rollback=True):
                    self._sync_guarded()
            else:
                with self.store.token_lock(self.name):
                    self._sync_guarded()
        except VPPError as err:  # the lock could not be taken
            self._record_failure(err)
        finally:
            if self.client is not None:
                self.result["requests"] = {
                    "total": self.client.request_count,
                    "by_endpoint": dict(self.client.requests_by_endpoint),
                }
                self.client.close()
            self.result["duration"] = round(time.monotonic() - started, 3)
        self.result["changed"] = self.result["status"] == "ok" and store_changed(self.result)
        return self.result

    def _sync_guarded(self):
        try:
            self._sync()
        except VPPError as err:
            self._record_failure(err)
            self._remember_token_status(err)

    def _sync(self):
        self.token = self.store.get_token(self.name)
        if self.token is None:
            raise StoreError(
                "token %r is not registered in the store" % self.name, hint="register it first with mdm.vpp.vpp_token"
            )
        mode, reason = choose_mode(self.options.mode, self.token, self.options.full_sync_interval_days, self.now)
        self.client = self.client_factory(self.store.get_token_secret(self.name))
        config = self.client.client_config()
        facts = dict(reported_fields(config, self.store.manager_id), status=STORED_STATUS_OK)
        listings = self._license_listings(mode)  # their first pages come while the assets are read
        assets = self.client.assets()
        asset_rows = [asset_row(asset) for asset in assets]
        assets_version = assets.version_id
        try:
            self._sync_licenses(mode, reason, facts, asset_rows, assets_version, listings)
        except InvalidVersionError:
            self._warn("Apple rejected the stored versionId (the store may have been restored): synced in full")
            self._sync_licenses("full", REASON_VERSION_REJECTED, facts, asset_rows, assets_version)
        except _StoreAheadOfApple as surplus:
            self._warn(
                "the store held assignments Apple no longer counts (%s): synced in full to find the removals"
                % surplus.args[0]
            )
            self._sync_licenses("full", REASON_COUNTS_DISAGREE, facts, asset_rows, assets_version)
        self.result["status"] = "ok"
        if self.options.metadata:
            self._sync_metadata()
        self._name_apps()  # after the metadata: a first sync names the apps it just looked up
        facts = token_facts(self.store.get_token(self.name), self.now)
        self.result["token_status"] = facts["status"]
        warning = expiry_warning(facts)
        if warning:
            self._warn(warning)

    def _license_listings(self, mode):
        """The assignment and user listings of a ``mode`` sync, their page 0 asked for already."""
        full = mode == "full"
        return (
            self.client.assignments(since_version_id=None if full else self.token["assignments_version"]).start(),
            self.client.users(since_version_id=None if full else self.token["users_version"]).start(),
        )

    def _sync_licenses(self, mode, reason, facts, asset_rows, assets_version, listings=None):
        """Stage assignments and users from Apple, then make everything live in one transaction."""
        self.result.update(mode=mode, mode_reason=reason)
        full = mode == "full"
        assignment_listing, user_listing = listings or self._license_listings(mode)
        # the first import of a token is not a change of anyone's licenses: it is not audited row by row
        audit = self.token.get("last_sync_at") is not None
        with (
            self.store.begin_assignment_snapshot(self.name) as assignments,
            self.store.begin_user_snapshot(self.name) as users,
        ):
            assignments_version = assignment_listing.version_id
            assignments.add_key_lists(self._assignment_keys(assignment_listing))
            users_version = user_listing.version_id
            users.add_rows(map(user_row, user_listing))
            with self.store.transaction():
                before = self._picture()
                self._write_facts(facts)
                diff = self.store.replace_assets(self.name, asset_rows, run_id=self.options.run_id)
                assignment_counts = assignments.finish(
                    version_id=assignments_version, run_id=self.options.run_id, audit=audit, remove_missing=full
                )
                self._check_counts(asset_rows, full)
                user_counts = users.finish(
                    version_id=users_version, run_id=self.options.run_id, audit=audit, remove_missing=full
                )
                if self.options.diff:
                    self.pictures = (before, self._picture())
                if not self.options.check_mode:
                    self.store.mark_synced(
                        self.name,
                        full=full,
                        at=self.now,
                        assets_version=assets_version,
                        assignments_version=assignments_version,
                        users_version=users_version,
                    )
        self._record_changes(diff, assignment_counts, user_counts)

    def _assignment_keys(self, listing):
        """The listing's assignment keys, a list a page; records naming neither a user nor a device are skipped with
        a warning."""
        skipped = 0
        for records in listing.record_lists():
            keys, missing = page_assignment_keys(records)
            skipped += missing
            yield keys
        if skipped:
            self._warn(NO_TARGET_WARNING % skipped)

    def _picture(self):
        """What the token's license picture is made of (assets, assignments, users), for diff mode only."""
        if not self.options.diff:
            return None
        return (
            self.store.list_assets(self.name),
            self.store.count_assignments(self.name),
            self.store.count_users(self.name),
        )

    def _name_apps(self):
        """Name the apps of the license count changes and of the diff by their catalogue name (adamId if unknown)."""
        changes = self.result["license_count_changes"]
        adam_ids = {change["adam_id"] for change in changes}
        for assets, _assignments, _users in self.pictures or ():
            adam_ids.update(row["adam_id"] for row in assets)
        names = self._app_names(adam_ids)
        self.result["license_count_changes"] = name_changes(changes, names)
        if self.pictures is not None:
            before, after = (license_picture(*picture, names=names) for picture in self.pictures)
            self.result["diff"] = {"before": before, "after": after}

    def _app_names(self, adam_ids):
        """``{adam_id: name}`` from the catalogue metadata for ``adam_ids`` (apps without a name are left out).

        One query for the token's apps; an app the token no longer has (removed) is looked up on its own.
        """
        wanted = set(adam_ids)
        if not wanted:
            return {}
        names, seen = {}, set()
        for row in self.store.iter_licensed_assets(tokens=[self.name]):
            seen.add(row["adam_id"])
            if row["adam_id"] in wanted and row["name"]:
                names[row["adam_id"]] = row["name"]
        for adam_id in sorted(wanted - seen):
            metadata = self.store.get_metadata(adam_id)
            if metadata and metadata.get("name"):
                names[adam_id] = metadata["name"]
        return names

    def _write_facts(self, facts):
        changes = changed_fields(self.token, facts)
        if changes:
            self.store.upsert_token(self.name, **changes)
        self.result["facts_changed"] = sorted(changes)

    def _check_counts(self, asset_rows, full):
        surplus = surplus_assignments(asset_rows, self.store.assignment_counts(self.name))
        if not surplus:
            return
        described = describe_counts(surplus, names=self._app_names(key[0] for key in surplus))
        if not full:
            raise _StoreAheadOfApple(described)
        # a full listing is Apple's truth; a disagreement means licenses changed while the pages were read
        self._warn(
            "Apple's assignedCount disagrees with the assignments it listed (%s): licenses changed during the "
            "sync; the next sync reconciles them" % described
        )

    def _record_changes(self, diff, assignment_counts, user_counts):
        self.result["assets"] = {kind: len(diff[kind]) for kind in CHANGE_KINDS}
        self.result["assignments"] = dict(dict.fromkeys(CHANGE_KINDS, 0), **assignment_counts)
        self.result["users"] = dict(dict.fromkeys(CHANGE_KINDS, 0), **user_counts)
        self.result["license_count_changes"] = count_changes(diff)

    def _sync_metadata(self):
        """Names, bundle ids, versions and icons of apps without metadata, batched; a failure is only a warning.

        Runs after the licenses are committed: apps still lacking metadata are simply looked up next time.
        """
        missing = self.store.adam_ids_missing_metadata(self.name)
        if not missing:
            return
        token = self.store.get_token(self.name)
        try:
            found = self.client.metadata_lookup(missing, token.get("default_platform"), token.get("country"))
        except VPPError as err:
            self._warn("app metadata could not be looked up (%s); it is retried on the next sync" % err)
            return
        self.store.put_metadata([dict(record, adam_id=adam_id) for adam_id, record in found.items()])
        self.result["metadata"] = {"looked_up": len(missing), "found": len(found)}
        unknown = [adam_id for adam_id in missing if adam_id not in found]
        if unknown:
            self._warn(
                "Apple's catalogue has no metadata for %d app(s) (%s); they are looked up again on the next sync"
                % (len(unknown), ", ".join(unknown[:5]) + (", ..." if len(unknown) > 5 else ""))
            )

    def _warn(self, message):
        self.result["warnings"].append(message)

    def _record_failure(self, err):
        self.result.update(status="failed", msg=str(plain_refusal(err)))
        if err.error_number is not None:
            self.result["error_number"] = err.error_number
        status = refusal_status(err)
        if status is None and self.token is not None:
            status = token_facts(self.token, self.now)["status"]
        self.result["token_status"] = status

    def _remember_token_status(self, err):
        """Record why Apple refused the token (not in check mode; the store still holds the last good data)."""
        status = refusal_status(err)
        if status is None or self.token is None or self.options.check_mode:
            return
        changes = {"status": status}
        if isinstance(err, TakeoverError):
            changes["claimed"] = False
        changes = changed_fields(self.token, changes)
        if changes:
            self.store.upsert_token(self.name, **changes)
